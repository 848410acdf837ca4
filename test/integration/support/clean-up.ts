/** What an integration test file leaves behind, removed in its afterAll. */
import { rmSync } from 'node:fs';
import type { CliProcess, TestDatabase } from '../../harness/index.js';

export interface Leftovers {
  /** `cdc` processes the file started: killed (SIGKILL) and waited for. */
  running?: readonly CliProcess[];
  /** Its database: dropped once nothing uses it. */
  db?: TestDatabase;
  /** Its temp directory: removed last. */
  dir?: string;
}

/** Kills the file's processes, then drops its database and removes its temp directory. */
export async function cleanUp({ running = [], db, dir }: Leftovers): Promise<void> {
  for (const p of running) p.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
