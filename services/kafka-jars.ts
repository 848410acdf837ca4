import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureMavenJars } from './maven-jars.js';

export { cacheDir } from './maven-jars.js';

/** Must match test/kafka/pom.xml, which names the artifact Maven fetches. */
export const KAFKA_VERSION = '3.9.1';

// From services/ when vitest runs the sources; from dist-bench/services/ when the bench runs the
// compiled copy.
const POM = [new URL('../test/kafka/pom.xml', import.meta.url), new URL('../../test/kafka/pom.xml', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../test/kafka/pom.xml', import.meta.url));

/** The directory holding the Kafka broker's jars, fetched from Maven Central on first use. */
export function ensureKafkaJars(): Promise<string> {
  return ensureMavenJars({ pom: POM, name: `kafka-${KAFKA_VERSION}`, mustHave: 'kafka_2.13-' });
}
