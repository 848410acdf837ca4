import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from './exec.js';

/** `${CDC_CACHE_DIR:-$HOME/.cache/cdc}`, shared with .ci/run. */
export function cacheDir(): string {
  return process.env['CDC_CACHE_DIR'] || join(homedir(), '.cache', 'cdc');
}

/** What to fetch: a POM whose dependencies are the jars, the cache folder's name, a jar that must come. */
export interface MavenJars {
  pom: string;
  /** Folder under cacheDir(), e.g. `kafka-3.9.1`. */
  name: string;
  /** A file name prefix that proves the fetch brought the main artifact, e.g. `kafka_2.13-`. */
  mustHave: string;
}

/**
 * The directory holding a POM's dependencies, fetched from Maven Central with `mvn
 * dependency:copy-dependencies` on first use. The stamp file is written last, so a fetch cut short
 * is redone rather than trusted.
 */
export async function ensureMavenJars(jars: MavenJars): Promise<string> {
  const dir = join(cacheDir(), jars.name);
  const stamp = join(dir, '.complete');
  if (existsSync(stamp)) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  // Fetch beside the target and rename, so a parallel reader never sees half a classpath.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  await run('mvn', ['-q', '-B', '-f', jars.pom, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`], {
    timeoutMs: 600_000,
  });
  if (!readdirSync(partial).some((f) => f.startsWith(jars.mustHave))) {
    throw new Error(`mvn fetched no ${jars.mustHave} jar into ${partial}`);
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
