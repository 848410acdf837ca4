/**
 * Kafka Connect and the Debezium PostgreSQL connector for `--vs debezium`, fetched from Maven
 * Central by bench/debezium/pom.xml into `~/.cache/cdc/debezium-3.6.1` on first use (never in CI).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureMavenJars } from '../services/index.js';

/** Must match bench/debezium/pom.xml. */
export const DEBEZIUM_VERSION = '3.6.1.Final';
/** Kafka Connect's runtime (connect-runtime, connect-json), as in bench/debezium/pom.xml. */
export const CONNECT_VERSION = '4.1.1';

// bench/debezium/pom.xml, seen from dist-bench/bench/ where the compiled bench runs.
const POM = [new URL('../../bench/debezium/pom.xml', import.meta.url), new URL('./debezium/pom.xml', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../../bench/debezium/pom.xml', import.meta.url));

/** The classpath directory (Connect, Debezium, their dependencies), fetched with `mvn` if missing. */
export function ensureDebeziumJars(): Promise<string> {
  return ensureMavenJars({ pom: POM, name: `debezium-${DEBEZIUM_VERSION.replace(/\.Final$/, '')}`, mustHave: 'debezium-connector-postgres-' });
}
