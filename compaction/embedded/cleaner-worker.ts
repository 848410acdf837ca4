/**
 * The embedded cleaner's pass, run in a worker thread (clean-off-thread.ts): the entry point the
 * worker loads. One pass per worker; the result or the error's message goes back to the writer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cleanTopic, type CleanerPolicy } from './cleaner.js';

interface Job {
  dir: string;
  activeBase: bigint;
  policy: CleanerPolicy;
}

const job = workerData as Job;
cleanTopic(job.dir, job.activeBase, job.policy).then(
  (result) => parentPort?.postMessage({ result }),
  (e: unknown) => parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) }),
);
