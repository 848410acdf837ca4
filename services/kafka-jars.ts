import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.js';

/** Must match test/kafka/pom.xml, which names the artifact Maven fetches. */
export const KAFKA_VERSION = '3.9.1';

// From services/ when vitest runs the sources; from dist-bench/services/ when the bench runs the
// compiled copy.
const POM = [new URL('../test/kafka/pom.xml', import.meta.url), new URL('../../test/kafka/pom.xml', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../test/kafka/pom.xml', import.meta.url));

/** `${CDC_CACHE_DIR:-$HOME/.cache/cdc}`, shared with .ci/run. */
export function cacheDir(): string {
  return process.env['CDC_CACHE_DIR'] || join(homedir(), '.cache', 'cdc');
}

/**
 * The directory holding the Kafka broker's jars, fetched from Maven Central on first use. The
 * stamp file is written last, so a fetch cut short is redone rather than trusted.
 */
export async function ensureKafkaJars(): Promise<string> {
  const dir = join(cacheDir(), `kafka-${KAFKA_VERSION}`);
  const stamp = join(dir, '.complete');
  if (existsSync(stamp)) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  // Fetch beside the target and rename, so a parallel reader never sees half a classpath.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  await run('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`], {
    timeoutMs: 600_000,
  });
  if (!readdirSync(partial).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(`mvn fetched no kafka_2.13 jar into ${partial}`);
  }
  if (existsSync(stamp)) {
    // Another run finished the same fetch meanwhile; its copy may already be in use.
    rmSync(partial, { recursive: true, force: true });
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return dir;
}
