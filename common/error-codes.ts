/**
 * Every code a user can meet: the `[CODE]` of an error that ends a command, and the `code` field of
 * a warning (which `cdc_errors_total{code}` counts). Each maps to what happened, in the user's
 * terms. A raise site names its code through {@link ErrorCode}, so a typo or a code missing here
 * fails to compile; docs/errors.md has one row per code with its fix, and a unit test keeps the two
 * and the raise sites in step.
 */
export const ERROR_CODES = {
  // Usage and configuration (exit 2)
  USAGE: 'the command line has an unknown command, option or missing argument',
  CONFIG_FILE_UNREADABLE: 'the --config file cannot be read',
  CONFIG_FILE_INVALID: 'the --config file is not valid JSON or YAML, or does not hold an object of settings',
  CONFIG_KEY_UNKNOWN: 'the --config file has a key that is no setting',
  CONFIG_VALUE_INVALID: 'a setting has a value of the wrong kind (a list, a number, not true/false)',
  CONFIG_ENV_UNKNOWN: 'warning: a CDC_* environment variable is set that no setting reads',
  ENV_INVALID: 'a numeric CDC_* tuning variable is not a positive whole number',
  LOG_LEVEL_INVALID: 'the log level is not debug, info, warn or error',
  METRICS_PORT_INVALID: '--metrics-port is not a TCP port number',
  NAME_INVALID: 'the sink name has characters other than letters, digits, ".", "_" and "-"',
  TABLE_POLL_INVALID: '--table-poll-ms is not a whole number of milliseconds from 100 to 3600000',
  SETTLE_INVALID: '--settle is not a number of seconds',
  STATUS_NOTHING: 'cdc status was given no PostgreSQL, log or replica to look at',
  SECRET_FILE_UNREADABLE: 'a password file cannot be read',
  SECRET_FILE_EMPTY: 'a password file is empty',
  SECRET_TWICE: 'a password is given both in an environment variable and as a file',
  CA_FILE_UNREADABLE: 'a CA certificate file cannot be read',
  METRICS_PORT_IN_USE: 'the metrics port cannot be listened on (taken, or not allowed)',

  // PostgreSQL: address, security, connection
  PG_URL_MISSING: 'no PostgreSQL URL is given',
  PG_URL_INVALID: 'the PostgreSQL URL is not a postgres:// URL that names a database',
  PG_PASSWORD_TWICE: 'the PostgreSQL password is given both in the URL and by a file or variable',
  PG_CA_TWICE: 'the PostgreSQL CA is given both by --pg-ca and by sslrootcert= in the URL',
  PG_SSLMODE_INVALID: 'the sslmode in the PostgreSQL URL is unknown, or disables TLS while a CA is given',
  PG_UNREACHABLE: 'PostgreSQL does not answer at the address of the URL',
  PG_AUTH_FAILED: 'PostgreSQL refused the user, its password, or a connection pg_hba.conf does not allow',
  PG_DATABASE_MISSING: 'the database named in the PostgreSQL URL does not exist',
  PG_CONNECT_FAILED: 'a connection to PostgreSQL failed for another reason (the message says which)',
  PG_TLS_UNTRUSTED: 'the PostgreSQL server certificate is not signed by a trusted CA',
  PG_TLS_NAME_MISMATCH: 'the PostgreSQL server certificate is for another host name',
  PG_TLS_EXPIRED: 'the PostgreSQL server certificate is expired or not valid yet',
  PG_TLS_UNSUPPORTED: 'the URL asks for TLS but PostgreSQL does not accept TLS connections',

  // PostgreSQL: what cdc start needs of the server
  PG_TOO_OLD: 'PostgreSQL is older than 14',
  PG_WAL_LEVEL: 'PostgreSQL does not have wal_level=logical',
  PG_NO_REPLICATION: 'the PostgreSQL role lacks the REPLICATION privilege',
  TABLE_UNKNOWN: '--tables names a table the database does not have',
  TABLE_KEYLESS: 'warning: a table has no primary key or replica-identity index and is not captured',
  TABLE_NOT_CAPTURED: 'warning: a table PostgreSQL cannot stream changes of (deferrable key, REPLICA IDENTITY NOTHING, unlogged, temporary) is not captured',
  PUBLICATION_NOT_VIA_ROOT: 'the publication does not publish through partition roots, and cdc may not change it',
  PUBLICATION_ALL_TABLES: 'the publication is FOR ALL TABLES instead of listing its tables',
  SLOT_NAME_INVALID: 'the replication slot name is not allowed by PostgreSQL',
  SLOT_MISMATCH: 'a replication slot of that name exists with another plugin or database',
  SLOT_IN_USE: 'another connection is reading the replication slot',
  SLOT_CREATE_FAILED: 'PostgreSQL did not create the replication slot',
  SLOT_LOST: 'the replication slot is gone or lost WAL it needed: changes may be missing from the log',

  // What to capture: column exclusion, masking, row filters
  EXCLUDE_COLUMNS_INVALID: '--exclude-columns has an entry that does not name a column',
  MASK_COLUMNS_INVALID: '--mask-columns has an entry that is not column=mode (hash, null or redact), or a column both excluded and masked',
  MASK_KEY_MISSING: 'a column is masked with hash but no mask key is given',
  ROW_FILTER_INVALID: '--row-filter has an entry that is not table=expression, or names a table twice',
  ROW_FILTER_UNSUPPORTED: 'row filters need PostgreSQL 15 or later',
  ROW_FILTER_REJECTED: 'PostgreSQL refused a row filter, or it uses columns outside the replica identity',
  CAPTURE_KEY_COLUMN: 'a key column is named in --exclude-columns or --mask-columns',
  CAPTURE_RULE_UNMATCHED: 'warning: --exclude-columns, --mask-columns or --row-filter names a table or column the database does not have',
  CAPTURE_SETTINGS_CHANGED: 'warning: the capture settings differ from those of the last cdc start with this slot',

  // cdc resnapshot
  RESNAPSHOT_NO_TABLES: 'cdc resnapshot was not given the tables to read again',
  RESNAPSHOT_NOT_CAPTURED: 'cdc resnapshot names a table cdc does not capture (no key)',
  RESNAPSHOT_NO_SLOT: 'cdc resnapshot names a replication slot that does not exist',

  // The change stream of cdc start
  STREAM_ENDED: 'the replication connection to PostgreSQL closed',
  STREAM_FAILED: 'the replication stream failed',
  PGOUTPUT_MALFORMED: 'PostgreSQL sent a replication message cdc cannot decode',
  RELATION_UNKNOWN: 'a change arrived for a table PostgreSQL had not described first',
  KEY_COLUMN_MISSING: 'a row lacks one of its key columns',
  SOURCE_FAILED: 'cdc start failed with an error that is not retried',
  SOURCE_GAVE_UP: 'cdc start kept failing for the whole retry window and stopped',

  // The log: address, Kafka, embedded log
  LOG_MISSING: 'no log is given',
  LOG_SCHEME_UNKNOWN: 'the log address has a scheme other than kafka://',
  LOG_URL_INVALID: 'a broker in the kafka:// log address is not host:port',
  KAFKA_OPTION_WITHOUT_KAFKA: 'Kafka TLS or SASL settings are given but the log is not a kafka:// log',
  KAFKA_SASL_INVALID: 'the SASL mechanism is not plain, scram-sha-256 or scram-sha-512',
  KAFKA_USER_MISSING: 'SASL is on but no Kafka user is given',
  KAFKA_PASSWORD_MISSING: 'SASL is on but no Kafka password is given',
  BAD_TOPIC_PREFIX: 'the topic prefix has characters Kafka does not allow in a topic name',
  TOPIC_NAME_TOO_LONG: 'a table\'s topic name would be longer than Kafka allows',
  LOG_UNREACHABLE: 'no Kafka broker answers at the address of the log',
  LOG_AUTH_FAILED: 'Kafka refused the SASL user or password',
  LOG_TLS_UNTRUSTED: 'the Kafka brokers\' certificates are not signed by a trusted CA',
  LOG_UNAVAILABLE: 'a Kafka call kept failing (brokers down, no leader) past the retry window, or failed finally',
  LOG_APPEND_FAILED: 'the log did not acknowledge an append',
  ROW_TOO_LARGE: 'a row is larger than its topic accepts (max.message.bytes)',
  TOPIC_CREATE_FAILED: 'the topics cdc needs cannot be created in Kafka',
  TOPIC_CONFIG_LOSES_DATA: 'a topic\'s configuration would delete records (retention) or refuse every append',
  TOPIC_UNKNOWN: 'an append names a topic the embedded log does not have',
  TOPICS_MISSING: 'the log has no cdc topics with the given prefix',
  LOG_DIR_MISSING: 'the parent directory of the embedded log does not exist',
  LOG_NOT_DIR: 'the embedded log path is a file, not a directory',
  LOG_NOT_CDC: 'the embedded log path is a directory that is not a cdc log',
  LOG_LOCKED: 'another process holds the writer lock of the embedded log',
  LOG_IN_USE: 'cdc copy-log was pointed at an embedded log that cdc start is still writing',
  LOG_WRITE_FAILED: 'the embedded log could not write to its segment file',
  LOG_CORRUPT: "a closed segment of the embedded log failed its checksum; or a Kafka record batch could not be read (a format before Kafka 0.11, a record running past its batch, compressed data that does not decompress); the message names the topic and the batch's offset",
  COPY_TARGET_NOT_EMPTY: 'the target log of cdc copy-log already has records in the topics to copy',
  RECORD_MALFORMED: 'a record in the log is not in the cdc format',
  STATE_MALFORMED: 'a record in the state topic is not cdc state',

  // Replicas
  REPLICA_MISSING: 'no replica is given, or the replica file does not exist',
  REPLICA_DIR_MISSING: 'the directory of the replica file does not exist',
  REPLICA_EXISTS: 'cdc bootstrap was given a replica file that already exists',
  REPLICA_OPEN_FAILED: 'SQLite cannot open the replica file',
  REPLICA_UNREADABLE: 'cdc status cannot read the replica',
  REPLICA_CORRUPT: 'the replica is damaged, or its _cdc_* bookkeeping is missing or inconsistent',
  REPLICA_OTHER_SINK: 'the replica belongs to a sink of another name',
  REPLICA_OTHER_PREFIX: 'the replica was built from topics of another prefix',
  SCHEMA_UNKNOWN: 'a record uses a table definition the schema topic does not hold yet (retried)',
  SCHEMA_INVALID: 'a table definition in the log names a key column the table does not have',
  ARRAY_MALFORMED: 'an array value in a record is not in PostgreSQL\'s array text form',
  TOMBSTONES_MAY_BE_LOST: 'the replica is older than its topics keep tombstones, so deletes may be missed',
  SINK_GAVE_UP: 'the sink kept failing for the whole retry window and stopped',
  REBUILD_INTERRUPTED: 'cdc rebuild was stopped; the old replica is unchanged',
  REBUILD_INCOMPLETE: 'the rebuilt file was not closed cleanly; the old replica is unchanged',
  VERIFY_TABLE_UNKNOWN: 'cdc verify --tables names a table the replica does not have',
  REPLICA_DIFFERS: 'the replica differs from the source after the settle window',

  // cdc demo
  DEMO_DIR_EXISTS: 'the demo --dir exists and is not a demo directory',
  DEMO_SECONDS: 'the demo --seconds is out of range',
  DEMO_NO_POSTGRES: 'no PostgreSQL server binaries are found for the demo',
  DEMO_POSTGRES_FAILED: 'the demo could not set up or start its throwaway PostgreSQL',
  DEMO_MISMATCH: 'the demo replica does not equal the source',

  // Stopping and the top level
  STOP_FORCED: 'a second SIGINT/SIGTERM ended the process at once, without a clean stop',
  STOP_TIMEOUT: 'a clean stop did not finish within 10 s, so the process exited 1',
  UNEXPECTED: 'an error that is not one of the above: a bug in cdc',
} as const;

/** A code of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;
