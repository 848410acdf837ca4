/**
 * Which failures of a running `cdc start` are worth waiting out: the network, a PostgreSQL
 * restart, a broker election. Everything else (a missing slot, bad SQL, a bug) stops the process.
 */
import { CdcError } from '../common/index.js';

const NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATE: connection exceptions (08…), shutdown and startup (57P01–57P03), too many connections. */
const PG_CODES = /^(08...|57P01|57P02|57P03|53300)$/;

export function isTransient(e: unknown): boolean {
  if (e instanceof CdcError) {
    if (e.retriable) return true;
    return e.cause !== undefined && e.cause !== e && isTransient(e.cause);
  }
  if (typeof e !== 'object' || e === null) return false;
  const code = 'code' in e ? String((e as { code: unknown }).code) : '';
  if (NODE_CODES.has(code) || PG_CODES.test(code)) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection (is )?closed|Client has encountered a connection error/i.test(message);
}
