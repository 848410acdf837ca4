/**
 * `--log` names the log: `kafka://host:port[,host:port…]` for Apache Kafka, or a directory path for
 * the embedded log. Anything else is a usage error that says which forms exist.
 */
import { ConfigError, type Logger } from '../common/index.js';
import { DirLog } from './dir-log.js';
import { KafkaLog, type KafkaSecurity } from './kafka-log.js';
import type { TopicLog } from './topic-log.js';

/** Tuning of the embedded log (see docs/embedded-log.md). */
export interface DirTuning {
  segmentBytes?: number;
  cleanerIntervalMs?: number;
}

export type LogLocation = { kind: 'kafka'; brokers: string[]; security?: KafkaSecurity } | ({ kind: 'dir'; path: string } & DirTuning);

const HINT = 'use --log kafka://host:9092[,host2:9092] for Kafka, or a directory path such as --log ./cdc-data';

/** Parses and validates a `--log` value. */
export function parseLogLocation(value: string): LogLocation {
  const text = value.trim();
  if (text === '') throw new ConfigError('LOG_MISSING', 'no log given', { hint: HINT });
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (!scheme) return { kind: 'dir', path: text };
  if ((scheme[1] as string).toLowerCase() !== 'kafka') {
    throw new ConfigError('LOG_SCHEME_UNKNOWN', `unknown log scheme "${scheme[1]}://" in --log ${text}`, { hint: HINT });
  }
  const brokers = text.slice(scheme[0].length).replace(/\/+$/, '').split(',').map((b) => b.trim());
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new ConfigError('LOG_URL_INVALID', `broker address ${JSON.stringify(b)} in --log ${text} is not host:port`, { hint: HINT });
    }
  }
  return { kind: 'kafka', brokers };
}

/**
 * Opens the log a location names (not yet connected). `retryWindowMs`: how long Kafka calls wait
 * out a cluster in motion (elections, a node down) before they fail.
 */
export function openLog(location: LogLocation, logger: Logger, options: { retryWindowMs?: number } = {}): TopicLog {
  if (location.kind === 'kafka') return new KafkaLog({ brokers: location.brokers, logger, security: location.security, retryWindowMs: options.retryWindowMs });
  return new DirLog({ path: location.path, logger, segmentBytes: location.segmentBytes, cleanerIntervalMs: location.cleanerIntervalMs });
}
