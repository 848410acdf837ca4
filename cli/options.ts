/** Flags shared by several commands: where the source and the log are, Kafka security, PostgreSQL security, metrics. */
import type { Argv } from 'yargs';

/** Adds the Kafka TLS and SASL flags. */
export function kafkaOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('kafka-tls', { type: 'boolean', describe: 'TLS to Kafka (env CDC_KAFKA_TLS)' })
    .option('kafka-ca', { type: 'string', describe: 'PEM file of the CA that signed the brokers\' certificates; implies --kafka-tls (env CDC_KAFKA_CA)' })
    .option('kafka-sasl', { type: 'string', describe: 'SASL mechanism: plain, scram-sha-256 or scram-sha-512 (env CDC_KAFKA_SASL)' })
    .option('kafka-user', { type: 'string', describe: 'SASL user (env CDC_KAFKA_USER)' })
    .option('kafka-password-file', { type: 'string', describe: 'file holding the SASL password (or env CDC_KAFKA_PASSWORD)' }) as unknown as Argv<T>;
}

/** Adds the capture options of `cdc start` (also taken by `verify` and `config print`). */
export function captureOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('exclude-columns', { type: 'string', describe: 'schema.table.column,… never written to the log (env CDC_EXCLUDE_COLUMNS)' })
    .option('mask-columns', { type: 'string', describe: 'schema.table.column=hash|null|redact,… masked before the log (env CDC_MASK_COLUMNS)' })
    .option('mask-key-file', { type: 'string', describe: 'file holding the secret key of hash masking (or env CDC_MASK_KEY)' })
    .option('row-filter', { type: 'string', array: true, describe: 'schema.table=SQL expression: only the rows it holds for (repeat per table; env CDC_ROW_FILTER as JSON)' }) as unknown as Argv<T>;
}

/** Adds `--metrics-port`, the Kafka flags and (with `pg`) the PostgreSQL security flags. */
export function serviceOptions<T>(y: Argv<T>, { pg }: { pg: boolean }): Argv<T> {
  let out = kafkaOptions(y.option('metrics-port', { type: 'number', describe: 'serve Prometheus /metrics and /healthz on this port (env CDC_METRICS_PORT)' }) as unknown as Argv<T>);
  if (pg) {
    out = out
      .option('pg-password-file', { type: 'string', describe: 'file holding the PostgreSQL password (or env CDC_PG_PASSWORD, or in the URL)' })
      .option('pg-ca', { type: 'string', describe: 'PEM file of the CA that signed PostgreSQL\'s certificate; implies sslmode=verify-full (env CDC_PG_CA)' }) as unknown as Argv<T>;
  }
  return out;
}

/**
 * Adds the flags that name a `cdc start`: its PostgreSQL, its log, its slot and topic prefix, and
 * `--tables` (described by `tables`, as each command takes them for its own purpose).
 */
export function sourceOptions<T>(y: Argv<T>, { tables }: { tables: string }): Argv<T> {
  return y
    .option('pg', { type: 'string', describe: 'PostgreSQL URL (env CDC_PG_URL)' })
    .option('log', { type: 'string', describe: 'kafka://host:port[,…] or a directory (env CDC_LOG)' })
    .option('tables', { type: 'string', describe: tables })
    .option('slot', { type: 'string', describe: 'replication slot name (default cdc)' })
    .option('topic-prefix', { type: 'string', describe: 'topic name prefix (default cdc)' }) as unknown as Argv<T>;
}
