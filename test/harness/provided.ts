/**
 * What the global setup hands to test workers through vitest's `provide`/`inject`. Plain JSON:
 * workers are separate processes, so they get a description of each service, not a handle, and
 * act on it themselves (see control.ts).
 */

/** A PostgreSQL cluster this harness started as a child process, enough to stop and start it. */
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

/** A Kafka broker this harness started as a child process, enough to stop and start it. */
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

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL, password inline, to the `postgres` database of a wal_level=logical cluster. */
    pgAdminUrl: string;
    /** Comma-separated `host:port` bootstrap brokers. */
    kafkaBrokers: string;
    /** Set when the cluster is a child process of this run; null for env or container services. */
    pgControl: PgControl | null;
    /** Set when the broker is a child process of this run; null for env or container services. */
    kafkaControl: KafkaControl | null;
  }
}
