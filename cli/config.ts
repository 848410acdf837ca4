/**
 * Configuration resolved in one place: flags, then environment (`CDC_*`), then defaults. Commands
 * receive a typed, validated config and never read `process.env` themselves.
 */
import { ConfigError, type LogLevel } from '../common/index.js';
import { parseLogLocation, validatePrefix, type LogLocation } from '../compaction/index.js';
import { parseTableList, validatePgUrl } from '../source-postgres/index.js';
import { checkReplicaDirectory } from '../sink-sqlite/index.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CommonConfig {
  logLevel: LogLevel;
}

export interface StartConfig extends CommonConfig {
  pgUrl: string;
  log: LogLocation;
  tables: { schema: string; table: string }[] | undefined;
  slot: string;
  publication: string;
  prefix: string;
  /** How often `cdc start` checks the catalog for new, changed and dropped tables (ms). */
  tablePollMs: number;
}

export interface SinkCommandConfig extends CommonConfig {
  name: string;
  log: LogLocation;
  replica: string;
  prefix: string;
  follow: boolean;
}

export interface StartFlags {
  pg?: string;
  log?: string;
  tables?: string;
  slot?: string;
  publication?: string;
  topicPrefix?: string;
  tablePollMs?: number;
  logLevel?: string;
}

export interface SinkFlags {
  name?: string;
  log?: string;
  replica?: string;
  topicPrefix?: string;
  follow?: boolean;
  logLevel?: string;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function logLevel(flag: string | undefined, env: Env): LogLevel {
  const value = flag ?? env['CDC_LOG_LEVEL'] ?? 'info';
  if (!(LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError('LOG_LEVEL_INVALID', `log level ${JSON.stringify(value)} is not one of ${LEVELS.join(', ')}`, { hint: 'pass --log-level info' });
  }
  return value as LogLevel;
}

function logLocation(flag: string | undefined, env: Env): LogLocation {
  const value = flag ?? env['CDC_LOG'];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError('LOG_MISSING', 'no log given', { hint: 'pass --log kafka://host:9092 (or a directory path), or set CDC_LOG' });
  }
  return parseLogLocation(value);
}

function prefix(flag: string | undefined, env: Env): string {
  const value = flag ?? env['CDC_TOPIC_PREFIX'] ?? 'cdc';
  validatePrefix(value);
  return value;
}

function name(value: string | undefined, what: string): string {
  if (value === undefined || !/^[A-Za-z0-9_.-]{1,100}$/.test(value)) {
    throw new ConfigError('NAME_INVALID', `${what} ${JSON.stringify(value ?? '')} is not a valid name`, { hint: 'use letters, digits, ".", "_" and "-"' });
  }
  return value;
}

function tablePollMs(flag: number | undefined, env: Env): number {
  const raw = flag ?? env['CDC_TABLE_POLL_MS'] ?? '10000';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 100 || value > 3_600_000) {
    throw new ConfigError('TABLE_POLL_INVALID', `table poll interval ${JSON.stringify(String(raw))} is not a whole number of milliseconds between 100 and 3600000`, {
      hint: 'pass --table-poll-ms 10000 (or set CDC_TABLE_POLL_MS)',
    });
  }
  return value;
}

export function resolveStartConfig(flags: StartFlags, env: Env): StartConfig {
  const slot = flags.slot ?? env['CDC_SLOT'] ?? 'cdc';
  return {
    pgUrl: validatePgUrl(flags.pg ?? env['CDC_PG_URL']),
    log: logLocation(flags.log, env),
    tables: (flags.tables ?? env['CDC_TABLES']) ? parseTableList((flags.tables ?? env['CDC_TABLES']) as string) : undefined,
    slot,
    publication: flags.publication ?? env['CDC_PUBLICATION'] ?? slot,
    prefix: prefix(flags.topicPrefix, env),
    tablePollMs: tablePollMs(flags.tablePollMs, env),
    logLevel: logLevel(flags.logLevel, env),
  };
}

export function resolveSinkConfig(flags: SinkFlags, env: Env): SinkCommandConfig {
  const replica = flags.replica ?? env['CDC_REPLICA'];
  if (replica === undefined || replica.trim() === '') {
    throw new ConfigError('REPLICA_MISSING', 'no replica file given', { hint: 'pass --replica ./replica.db' });
  }
  checkReplicaDirectory(replica);
  return {
    name: name(flags.name, 'sink name'),
    log: logLocation(flags.log, env),
    replica,
    prefix: prefix(flags.topicPrefix, env),
    follow: flags.follow ?? false,
    logLevel: logLevel(flags.logLevel, env),
  };
}
