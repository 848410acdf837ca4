/**
 * The embedded cleaner's pass, run in a worker thread (clean-off-thread.ts): the entry point the
 * worker loads. One pass per worker; the result or the error's message goes back to the writer.
 */
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { cleanTopic, type CleanerPolicy } from './cleaner.js';

interface Job {
  dir: string;
  activeBase: bigint;
  policy: CleanerPolicy;
}

/**
 * The pass yields the CPU to everything else in the process. On two cores a pass (about a core for
 * a second per 100k records) still delayed the appends and the sink behind it: the end-to-end
 * latency rose at every pass (docs/benchmarks.md, issue 12). Compaction can wait; Kafka's cleaner
 * is throttled for the same reason. Linux only: there a nice value belongs to the thread, and 0
 * names the calling one; elsewhere it would lower the whole process.
 */
function yieldToOtherThreads(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(0, constants.priority.PRIORITY_LOW);
  } catch {
    // Lowering needs no privilege; a platform that refuses it gets a pass at normal priority.
  }
}

const job = workerData as Job;
yieldToOtherThreads();
cleanTopic(job.dir, job.activeBase, job.policy).then(
  (result) => parentPort?.postMessage({ result }),
  (e: unknown) => parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) }),
);
