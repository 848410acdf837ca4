/**
 * Configuration resolved in one place: flags, then environment (`CDC_*`), then the config file
 * (merged under the environment by config-file.ts), then defaults. Commands receive a typed,
 * validated config and never read `process.env` themselves. Every setting is listed in settings.ts.
 */
import { ConfigError, type LogLevel } from '../common/index.js';
import { parseLogLocation, validatePrefix, type LogLocation } from '../compaction/index.js';
import { parseTableList, validatePgUrl } from '../source-postgres/index.js';
import { checkReplicaDirectory } from '../sink-sqlite/index.js';
import { kafkaSecurity, type KafkaSecurityFlags } from './kafka-security.js';
import { securePgUrl, type PgSecurityFlags } from './pg-security.js';

export type Env = Readonly<Record<string, string | undefined>>;

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
}

export interface SinkCommandConfig extends CommonConfig {
  name: string;
  log: LogLocation;
  replica: string;
  prefix: string;
  follow: boolean;
}

export interface StartFlags extends ServiceFlags {
  pg?: string;
  log?: string;
  tables?: string;
  slot?: string;
  publication?: string;
  topicPrefix?: string;
  logLevel?: string;
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
    logLevel: logLevel(flags.logLevel, env),
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
    logLevel: logLevel(flags.logLevel, env),
    metricsPort: metricsPort(flags.metricsPort, env),
  };
}
