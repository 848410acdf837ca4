/** Sink lag in records per table, computed at scrape time from the log's end offsets. */
import type { Metrics } from './registry.js';
import type { InstrumentedLog } from './instrumented-log.js';
import { tableLabel } from './table-label.js';

/** Sets `cdc_sink_lag_records` for every topic the sink reads. */
export async function refreshSinkLag(log: InstrumentedLog, metrics: Metrics, replica: string, prefix: string): Promise<void> {
  const topics = [...log.positions.keys()];
  if (topics.length === 0) return;
  const ends = await log.endOffsets(topics);
  for (const t of topics) {
    const lag = (ends.get(t) ?? 0n) - (log.positions.get(t) ?? 0n);
    metrics.sinkLagRecords.set({ replica, table: tableLabel(t, prefix) }, Number(lag > 0n ? lag : 0n));
  }
}
