/**
 * Configuration resolved in one place: flags, then environment (`CDC_*`), then the config file
 * (merged under the environment by config-file.ts), then defaults. Commands receive a typed,
 * validated config and never read `process.env` themselves. Every setting is listed in settings.ts.
 */
import { ConfigError, type LogLevel } from '../common/index.js';
import { parseLogLocation, validatePrefix, type LogLocation } from '../compaction/index.js';
import { parseTableList, validatePgUrl, type CaptureRules } from '../source-postgres/index.js';
import { checkReplicaDirectory } from '../sink-sqlite/index.js';
import { resolveCapture, type CaptureFlags } from './capture-config.js';
import { kafkaSecurity, type KafkaSecurityFlags } from './kafka-security.js';
import { securePgUrl, type PgSecurityFlags } from './pg-security.js';
import type { Env } from './env.js';

export type { Env } from './env.js';

export interface CommonConfig {
  logLevel: LogLevel;
  /** Port for /metrics and /healthz; undefined = no metrics server (0 = any free port). */
  metricsPort?: number;
}

/** Flags every long-running command takes: security, metrics, config file. */
export interface ServiceFlags extends KafkaSecurityFlags, PgSecurityFlags {
  metricsPort?: number;
  config?: string;
}

export interface StartConfig extends CommonConfig {
  pgUrl: string;
  log: LogLocation;
  tables: { schema: string; table: string }[] | undefined;
  slot: string;
  publication: string;
  prefix: string;
  resnapshot: boolean;
  /** How long transient failures are waited out (CDC_RETRY_WINDOW_MS). */
  retryWindowMs: number | undefined;
  /** How often `cdc start` checks the catalog for new, changed and dropped tables (ms). */
  tablePollMs: number;
  /** Columns excluded and masked, row filters. */
  capture: CaptureRules;
}

export interface SinkCommandConfig extends CommonConfig {
  name: string;
  log: LogLocation;
  replica: string;
  prefix: string;
  follow: boolean;
  /** How long an unreachable log is waited out (CDC_RETRY_WINDOW_MS). */
  retryWindowMs: number | undefined;
  /** SQLite's page cache while bootstrapping, MiB (CDC_SQLITE_CACHE_MB). */
  sqliteCacheMb: number | undefined;
}

export interface StartFlags extends ServiceFlags, CaptureFlags {
  pg?: string;
  log?: string;
  tables?: string;
  slot?: string;
  publication?: string;
  topicPrefix?: string;
  tablePollMs?: number;
  logLevel?: string;
  resnapshot?: boolean;
}

export interface SinkFlags extends ServiceFlags {
  name?: string;
  log?: string;
  replica?: string;
  topicPrefix?: string;
  follow?: boolean;
  logLevel?: string;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** `--log-level` / CDC_LOG_LEVEL, default info. */
export function logLevel(flag: string | undefined, env: Env): LogLevel {
  const value = flag ?? env['CDC_LOG_LEVEL'] ?? 'info';
  if (!(LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError('LOG_LEVEL_INVALID', `log level ${JSON.stringify(value)} is not one of ${LEVELS.join(', ')}`, { hint: 'pass --log-level info' });
  }
  return value as LogLevel;
}

/** `--metrics-port`: a TCP port, 0 for any free one. */
export function metricsPort(flag: number | undefined, env: Env): number | undefined {
  const text = flag !== undefined ? String(flag) : env['CDC_METRICS_PORT'];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError('METRICS_PORT_INVALID', `--metrics-port ${text} (CDC_METRICS_PORT) is not a TCP port`, { hint: 'pass --metrics-port 9464 (a number from 1 to 65535; 0 picks a free one)' });
  }
  return n;
}

/** `--log` / CDC_LOG, with the Kafka security settings and embedded-log tuning folded in. */
export function logLocation(flag: string | undefined, env: Env, security: KafkaSecurityFlags = {}): LogLocation {
  const value = flag ?? env['CDC_LOG'];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError('LOG_MISSING', 'no log given', { hint: 'pass --log kafka://host:9092 (or a directory path), or set CDC_LOG' });
  }
  const location = parseLogLocation(value);
  const kafka = kafkaSecurity(security, env, location.kind === 'kafka');
  if (kafka && location.kind === 'kafka') location.security = kafka;
  if (location.kind === 'dir') {
    location.segmentBytes = positive(env, 'CDC_LOG_SEGMENT_BYTES');
    location.cleanerIntervalMs = positive(env, 'CDC_LOG_CLEANER_INTERVAL_MS');
  }
  return location;
}

function positive(env: Env, key: string): number | undefined {
  const text = env[key];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new ConfigError('ENV_INVALID', `${key}=${text} is not a positive whole number`, { hint: `unset ${key} or give it a number such as 16777216` });
  }
  return n;
}

/** `--topic-prefix` / CDC_TOPIC_PREFIX, default cdc. */
export function prefix(flag: string | undefined, env: Env): string {
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

/** The validated configuration of `cdc start`. */
export function resolveStartConfig(flags: StartFlags, env: Env): StartConfig {
  const slot = flags.slot ?? env['CDC_SLOT'] ?? 'cdc';
  return {
    pgUrl: securePgUrl(validatePgUrl(flags.pg ?? env['CDC_PG_URL']), flags, env),
    log: logLocation(flags.log, env, flags),
    tables: (flags.tables ?? env['CDC_TABLES']) ? parseTableList((flags.tables ?? env['CDC_TABLES']) as string) : undefined,
    slot,
    publication: flags.publication ?? env['CDC_PUBLICATION'] ?? slot,
    prefix: prefix(flags.topicPrefix, env),
    tablePollMs: tablePollMs(flags.tablePollMs, env),
    logLevel: logLevel(flags.logLevel, env),
    resnapshot: flags.resnapshot ?? false,
    capture: resolveCapture(flags, env),
    retryWindowMs: positive(env, 'CDC_RETRY_WINDOW_MS'),
    metricsPort: metricsPort(flags.metricsPort, env),
  };
}

/** The validated configuration of `cdc sink` and `cdc bootstrap`. */
export function resolveSinkConfig(flags: SinkFlags, env: Env): SinkCommandConfig {
  const replica = flags.replica ?? env['CDC_REPLICA'];
  if (replica === undefined || replica.trim() === '') {
    throw new ConfigError('REPLICA_MISSING', 'no replica file given', { hint: 'pass --replica ./replica.db' });
  }
  checkReplicaDirectory(replica);
  return {
    name: name(flags.name, 'sink name'),
    log: logLocation(flags.log, env, flags),
    replica,
    prefix: prefix(flags.topicPrefix, env),
    follow: flags.follow ?? false,
    retryWindowMs: positive(env, 'CDC_RETRY_WINDOW_MS'),
    sqliteCacheMb: positive(env, 'CDC_SQLITE_CACHE_MB'),
    logLevel: logLevel(flags.logLevel, env),
    metricsPort: metricsPort(flags.metricsPort, env),
  };
}

/** `cdc resnapshot` flags as yargs parses them. */
export interface ResnapshotFlags extends ServiceFlags {
  pg?: string;
  log?: string;
  tables?: string;
  slot?: string;
  topicPrefix?: string;
  logLevel?: string;
}

/** `cdc resnapshot`, resolved. */
export interface ResnapshotConfig extends CommonConfig {
  pgUrl: string;
  log: LogLocation;
  tables: { schema: string; table: string }[];
  slot: string;
  prefix: string;
}

/** `cdc resnapshot`: the source, the log and slot of the running `cdc start`, and the tables (required). */
export function resolveResnapshotConfig(flags: ResnapshotFlags, env: Env): ResnapshotConfig {
  const tables = flags.tables === undefined ? [] : parseTableList(flags.tables);
  if (tables.length === 0) {
    throw new ConfigError('RESNAPSHOT_NO_TABLES', 'cdc resnapshot needs the tables to read again', { hint: 'pass --tables schema.table,… (an unqualified name means public)' });
  }
  return {
    pgUrl: securePgUrl(validatePgUrl(flags.pg ?? env['CDC_PG_URL']), flags, env),
    log: logLocation(flags.log, env, flags),
    tables,
    slot: flags.slot ?? env['CDC_SLOT'] ?? 'cdc',
    prefix: prefix(flags.topicPrefix, env),
    logLevel: logLevel(flags.logLevel, env),
  };
}

/** `cdc status` flags as yargs parses them. */
export interface StatusFlags {
  pg?: string;
  log?: string;
  replica?: string[];
  topicPrefix?: string;
  json?: boolean;
  logLevel?: string;
}

/** `cdc status`, resolved. */
export interface StatusConfig extends CommonConfig {
  pgUrl: string | undefined;
  log: LogLocation | undefined;
  replicas: string[];
  /** The prefix given, if any; otherwise the replicas' own prefixes, else `cdc`. */
  prefix: string | undefined;
  json: boolean;
}

/** `cdc status`: every source is optional, but at least one must be named. */
export function resolveStatusConfig(flags: StatusFlags, env: Env): StatusConfig {
  const pg = flags.pg ?? env['CDC_PG_URL'];
  const logValue = flags.log ?? env['CDC_LOG'];
  const replicas = flags.replica ?? (env['CDC_REPLICA'] ? [env['CDC_REPLICA']] : []);
  if (pg === undefined && logValue === undefined && replicas.length === 0) {
    throw new ConfigError('STATUS_NOTHING', 'cdc status needs something to look at', { hint: 'pass --pg URL, --log LOG and/or --replica FILE (or set CDC_PG_URL, CDC_LOG)' });
  }
  const topicPrefix = flags.topicPrefix ?? env['CDC_TOPIC_PREFIX'];
  if (topicPrefix !== undefined) validatePrefix(topicPrefix);
  return {
    pgUrl: pg === undefined ? undefined : validatePgUrl(pg),
    log: logValue === undefined ? undefined : parseLogLocation(logValue),
    replicas,
    prefix: topicPrefix,
    json: flags.json ?? false,
    logLevel: logLevel(flags.logLevel, env),
  };
}

/** `cdc verify` flags as yargs parses them (the capture options too: see verify.ts). */
export interface VerifyFlags extends CaptureFlags {
  pg?: string;
  replica?: string;
  tables?: string;
  settle?: number;
  logLevel?: string;
}

/** `cdc verify`, resolved. */
export interface VerifyConfig extends CommonConfig {
  pgUrl: string;
  replica: string;
  tables: { schema: string; table: string }[] | undefined;
  /** Seconds a differing chunk is re-checked while the replica may still be catching up. */
  settleSeconds: number;
  /** The capture rules the replica was made under: the source is read through them. */
  capture: CaptureRules;
}

/** `cdc verify`: a source URL and an existing replica; `--settle` in seconds, 0 or more. */
export function resolveVerifyConfig(flags: VerifyFlags, env: Env): VerifyConfig {
  const replica = flags.replica ?? env['CDC_REPLICA'];
  if (replica === undefined || replica.trim() === '') {
    throw new ConfigError('REPLICA_MISSING', 'no replica file given', { hint: 'pass --replica ./replica.db' });
  }
  const settle = flags.settle ?? 10;
  if (!Number.isFinite(settle) || settle < 0) {
    throw new ConfigError('SETTLE_INVALID', `--settle ${String(flags.settle)} is not a number of seconds`, { hint: 'pass --settle 10 (0 to compare once)' });
  }
  const tables = flags.tables ?? env['CDC_TABLES'];
  return {
    pgUrl: validatePgUrl(flags.pg ?? env['CDC_PG_URL']),
    replica,
    tables: tables ? parseTableList(tables) : undefined,
    settleSeconds: settle,
    capture: resolveCapture(flags, env),
    logLevel: logLevel(flags.logLevel, env),
  };
}
