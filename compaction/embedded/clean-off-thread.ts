/**
 * Runs a cleaner pass in a worker thread. A pass reads every closed segment twice, hashes every
 * key and rewrites what it keeps; on `cdc start`'s own thread that was a stall of every append for
 * its duration, which the end-to-end latency showed at each pass (docs/benchmarks.md, issue 12).
 * The files and their crash safety are the cleaner's (cleaner.ts), whichever thread runs it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cleanTopic, type CleanerPolicy, type CleanResult } from './cleaner.js';

const entry = new URL('./cleaner-worker.js', import.meta.url);
/** The compiled worker sits beside this module; the TypeScript sources the unit tests run have none. */
const hasWorker = existsSync(fileURLToPath(entry));

/**
 * Cleans the topic in `dir` in a worker thread, or on this thread where the compiled worker is not
 * beside this module (the TypeScript sources run by the unit tests).
 */
export function cleanTopicOffThread(dir: string, activeBase: bigint, policy: CleanerPolicy): Promise<CleanResult> {
  if (!hasWorker) return cleanTopic(dir, activeBase, policy);
  return new Promise<CleanResult>((resolve, reject) => {
    const worker = new Worker(entry, { workerData: { dir, activeBase, policy } });
    let settled = false;
    worker.once('message', (m: { result?: CleanResult; error?: string }) => {
      settled = true;
      if (m.result) resolve(m.result);
      else reject(new Error(m.error ?? 'the cleaner failed'));
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the cleaner's worker exited with code ${code}`));
    });
  });
}
