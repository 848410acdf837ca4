/**
 * The error family of `cdc`. Every failure a user can meet is a {@link CdcError} with a stable
 * `code`, a message that names what is wrong, and a `hint` that says what to do about it. Library
 * errors are wrapped once, at the boundary where they enter, keeping the original as `cause`.
 * Codes come from the one catalogue, {@link ERROR_CODES}.
 */
import type { ErrorCode } from './error-codes.js';

/** How the process should end when this error reaches the top: 2 = bad usage or configuration. */
export type ExitCode = 1 | 2;

export interface CdcErrorOptions {
  /** What the user can do about it; printed as `Try: …`. */
  hint?: string;
  /** Whether trying the same operation again may succeed (network blips, broker elections). */
  retriable?: boolean;
  cause?: unknown;
  exitCode?: ExitCode;
}

export class CdcError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retriable: boolean;
  readonly exitCode: ExitCode;

  constructor(code: ErrorCode, message: string, options: CdcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.retriable = options.retriable ?? false;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad flags, environment or configuration: exit code 2, never retriable. */
export class ConfigError extends CdcError {
  constructor(code: ErrorCode, message: string, options: Omit<CdcErrorOptions, 'exitCode' | 'retriable'> = {}) {
    super(code, message, { ...options, exitCode: 2, retriable: false });
  }
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATE: connection exceptions (08…), shutdown and startup (57P01–57P03), too many connections. */
const PG_TRANSIENT = /^(08...|57P01|57P02|57P03|53300)$/;

/**
 * The one answer to "may trying again help?": a CdcError says so itself (or through its cause,
 * when a boundary wrapped a network failure without deciding); a foreign error does when it is a
 * network failure or PostgreSQL going away. A bug, bad SQL, a missing slot: no.
 */
export function isRetriable(e: unknown): boolean {
  if (e instanceof CdcError) return e.retriable || (e.cause !== undefined && e.cause !== e && isRetriable(e.cause));
  if (typeof e !== 'object' || e === null) return false;
  const code = errorCode(e);
  if (NETWORK_CODES.has(code) || PG_TRANSIENT.test(code)) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection (is )?closed|Client has encountered a connection error/i.test(message);
}

/** The `code` of a foreign error (a Node system error, pg's SQLSTATE, SQLite's), or ''. */
export function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

/** The message of any thrown value, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
