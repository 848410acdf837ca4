/**
 * What is needed to stop, start and remove a service started here. Plain JSON, so the test
 * harness can hand it to its worker processes (test/harness/provided.ts).
 */

/** A PostgreSQL cluster started as a child process (startLocalPostgres), enough to stop and start it. */
export interface PgControl {
  /** Server binaries (initdb, pg_ctl, postgres). */
  bindir: string;
  /** Temp dir holding the data dir, the log and the unix socket; removed on stop. */
  baseDir: string;
  dataDir: string;
  logFile: string;
  port: number;
  /** Superuser `postgres` password. */
  password: string;
  /** OS user the server runs as (`postgres` when we are root), or null to run as ourselves. */
  osUser: string | null;
}

/** A Kafka broker started as a child process (startLocalPostgres), enough to stop and start it. */
export interface KafkaControl {
  java: string;
  /** Directory of the broker's jars (the classpath is `jarDir/*`). */
  jarDir: string;
  /** Temp dir holding properties, log dirs, the log and the pid file; removed on stop. */
  dir: string;
  propertiesFile: string;
  log4jFile: string;
  logFile: string;
  /** Holds the pid of the running broker, whichever process started it. */
  pidFile: string;
  port: number;
  controllerPort: number;
}
