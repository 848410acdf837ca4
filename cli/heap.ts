/**
 * V8's old generation, sized to what the process keeps rather than to the machine's memory.
 *
 * After each full collection V8 lets the old generation grow to its live size times a factor of
 * up to 4 on a machine with gigabytes to spare (less only when collections are slow against the
 * rate objects are promoted), plus the young generation, before it collects again. `cdc start`
 * promotes most records it holds (they wait for the log's ack across several young collections)
 * and keeps the client libraries live (on Kafka, kafkajs and @platformatic/kafka: ~27 MB live
 * after a full collection against ~14 MB on the embedded log), so on Kafka its old generation
 * reached ~100 MB between collections and its RSS 250–300 MB. Measured in docs/benchmarks.md
 * ("Kafka producer path (issue 13)", "Peak RSS of cdc start").
 */
import v8 from 'node:v8';

/**
 * How far the old generation may grow past its live size before a full collection, percent
 * (factor 1 + this / 100). A full collection of `cdc start` marks ~30 MB, mostly concurrently,
 * with pauses of 4–14 ms. It costs rate: at 1M rows the source on Kafka ran 0.1–0.3× of
 * pg_recvlogical below the default in four pairs (docs/benchmarks.md), with the same CPU per row.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Sets the growing factor of this process's V8 heap: read at every full collection, so setting it
 * after start-up takes effect from the next one. For long-running commands only. A factor the
 * operator gave Node (`node --heap-growing-percent=N bin/cdc.js start`; Node refuses the flag in
 * NODE_OPTIONS) is left as it is.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, percent = HEAP_GROWING_PERCENT): void {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * For a sink, bootstrap or rebuild: the same factor when it reads from Kafka, where it held the
 * 1M-record bootstrap's peak RSS at 223 MB against 272 MB at the same rate (two pairs, 205–212k
 * rows/s either way), and a 10M-record one had reached 282 MB of the 300 MB goal. Not on the
 * embedded log: there it cost 17% of the rate and raised the peak (172 → 187–190 MB, three pairs;
 * docs/benchmarks.md, issue 14), whose reads hold little in V8's heap.
 */
export function limitSinkHeapGrowth(log: { kind: string }, execArgv: readonly string[] = process.execArgv): void {
  if (log.kind === 'kafka') limitHeapGrowth(execArgv);
}
