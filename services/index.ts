/**
 * Services started as child processes for the tests (test/harness) and the benchmark (bench/):
 * PostgreSQL from the machine's server binaries, Kafka in KRaft mode from the Apache Kafka jars
 * on Maven Central. Not part of the product build (tsconfig.json); built by tsconfig.bench.json
 * and type-checked with the tests (test/harness/tsconfig.json).
 */
export type { PgControl, KafkaControl } from './types.js';
export { startLocalPostgres, startPostgres, stopPostgres, restartPostgres, destroyPostgres, destroyPostgresSync, postgresUrl, type PgStopMode } from './postgres.js';
export { startLocalKafka, startKafka, stopKafka, restartKafka, destroyKafka, destroyKafkaSync, readPid, signal, javaBinary, LOG4J, sharedBrokerProperties } from './kafka.js';
export { ensureKafkaJars, cacheDir, KAFKA_VERSION } from './kafka-jars.js';
export { ensureMavenJars, type MavenJars } from './maven-jars.js';
export { brokerList, brokerAnswers, waitForBroker } from './kafka-ready.js';
export { pgBindir } from './pg-bindir.js';
export { freePort, canConnect } from './ports.js';
export { run, pidAlive, fileSize, logSince, type ExecResult } from './exec.js';
export { onProcessEnd } from './reaper.js';
export { waitFor, type WaitOptions } from './wait.js';
