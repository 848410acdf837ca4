/**
 * Connections to PostgreSQL. Every connection `cdc` opens uses the same session settings, so a
 * value printed by the snapshot (a normal connection) and by pgoutput (a walsender) is the same
 * text: UTC, ISO dates, postgres-style intervals, hex bytea, shortest-exact floats. No type parsers
 * run: every value arrives as the text PostgreSQL printed (an int8 never becomes a JS number, a
 * timestamp never goes through Date).
 */
import pg from 'pg';
import { CdcError, ConfigError, errorCode, messageOf, redactUrl, registerUrlSecrets } from '../common/index.js';
import { tlsConnectionError } from './tls-errors.js';

const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C -c application_name=cdc';

const textOnly = { getTypeParser: () => (value: string) => value };

/** Checks a PostgreSQL URL and remembers its password as a secret; returns it unchanged. */
export function validatePgUrl(url: string | undefined): string {
  if (url === undefined || url.trim() === '') {
    throw new ConfigError('PG_URL_MISSING', 'no PostgreSQL URL given', {
      hint: 'pass --pg postgres://user:password@host:5432/dbname or set CDC_PG_URL',
    });
  }
  registerUrlSecrets(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('PG_URL_INVALID', `--pg ${redactUrl(url)} is not a valid URL`, {
      hint: 'write it as postgres://user:password@host:5432/dbname (percent-encode special characters in the password)',
    });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError('PG_URL_INVALID', `--pg ${redactUrl(url)} is not a PostgreSQL URL (scheme ${parsed.protocol.replace(/:$/, '')})`, {
      hint: 'write it as postgres://user:password@host:5432/dbname',
    });
  }
  if (parsed.pathname.length <= 1) {
    throw new ConfigError('PG_URL_INVALID', `--pg ${redactUrl(url)} names no database`, {
      hint: 'add the database name: postgres://user:password@host:5432/dbname',
    });
  }
  return url;
}

function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return redactUrl(url);
  }
}

/** Turns a connection failure from pg into a CdcError a user can act on. */
export function connectionError(url: string, e: unknown, replication: boolean): CdcError {
  const code = errorCode(e);
  const at = where(url);
  const user = (() => {
    try {
      return decodeURIComponent(new URL(url).username) || 'the current OS user';
    } catch {
      return 'the user';
    }
  })();
  const options = { cause: e, exitCode: 2 as const };
  const tls = tlsConnectionError(at, code, e);
  if (tls) return tls;
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
    case 'EAI_AGAIN':
    case 'ECONNRESET':
      return new CdcError('PG_UNREACHABLE', `cannot connect to PostgreSQL at ${at} (${code})`, {
        ...options,
        retriable: true,
        hint: 'check that PostgreSQL is running and that host and port in --pg are right',
      });
    case '28P01':
      return new CdcError('PG_AUTH_FAILED', `PostgreSQL at ${at} rejected the password for ${user}`, {
        ...options,
        hint: 'check the password in --pg (or CDC_PG_URL); percent-encode special characters',
      });
    case '28000':
      return new CdcError('PG_AUTH_FAILED', `PostgreSQL at ${at} refused ${replication ? 'a replication' : 'a'} connection for ${user}: ${messageOf(e)}`, {
        ...options,
        hint: replication
          ? 'allow it in pg_hba.conf with a line such as "host replication <user> <client-address> scram-sha-256", then reload PostgreSQL'
          : 'check the user name and pg_hba.conf',
      });
    case '3D000':
      return new CdcError('PG_DATABASE_MISSING', `database ${new URL(url).pathname.slice(1)} does not exist at ${at}`, {
        ...options,
        hint: 'check the database name in --pg',
      });
    case '42501':
      return new CdcError('PG_NO_REPLICATION', `role ${user} may not open a replication connection: ${messageOf(e)}`, {
        ...options,
        hint: `run ALTER ROLE "${user}" WITH REPLICATION as a superuser`,
      });
    default:
      if (/timeout/i.test(messageOf(e))) {
        return new CdcError('PG_UNREACHABLE', `cannot connect to PostgreSQL at ${at}: connection timed out`, {
          ...options,
          retriable: true,
          hint: 'check that PostgreSQL is running and reachable from this machine',
        });
      }
      return new CdcError('PG_CONNECT_FAILED', `cannot connect to PostgreSQL at ${at}: ${messageOf(e)}`, { ...options, retriable: true });
  }
}

/** Opens a connection (a walsender one with `replication: true`), translating failures. */
export async function connectPg(url: string, options: { replication?: boolean } = {}): Promise<pg.Client> {
  const config: pg.ClientConfig & { replication?: string } = {
    connectionString: url,
    options: SESSION_OPTIONS,
    types: textOnly,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  };
  if (options.replication) config.replication = 'database';
  const client = new pg.Client(config);
  // An idle client whose server goes away emits 'error'; without a listener Node would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw connectionError(url, e, options.replication ?? false);
  }
  return client;
}

/** Quotes an SQL identifier; every name `cdc` puts into SQL goes through this. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Quotes an SQL string literal (for replication commands, which take no parameters). */
export function quoteLiteral(text: string): string {
  return "'" + text.replace(/'/g, "''") + "'";
}

/** `schema.table`, each part quoted. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * A table to read rows from: ONLY the table itself (an inheritance child's rows are not its rows),
 * except a partitioned table, whose rows are all in its partitions (ONLY would read none).
 */
export function rowsOf(schema: string, table: string, partitioned: boolean): string {
  return `${partitioned ? '' : 'ONLY '}${qualified(schema, table)}`;
}
