/**
 * Every metric `cdc` exports, defined in one place (docs/metrics.md lists them). Each process gets
 * its own registry, so tests and embedders never share counters through prom-client's global one.
 */
import client from 'prom-client';

const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = client;

/** Latency buckets from 1 ms to 2 min: appends are milliseconds, lag after an outage is minutes. */
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The metrics of one `cdc` process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cdc_' });
  const r = [registry];
  return {
    registry,
    up: new Gauge({ name: 'cdc_ready', help: '1 when streaming (cdc start) or following and caught up once (sink), else 0', registers: r }),
    recordsWritten: new Counter({ name: 'cdc_log_records_written_total', help: 'Records appended to the log and acked, per table topic', labelNames: ['table'], registers: r }),
    bytesWritten: new Counter({ name: 'cdc_log_bytes_written_total', help: 'Key and value bytes appended to the log and acked, per table topic', labelNames: ['table'], registers: r }),
    appendSeconds: new Histogram({ name: 'cdc_log_append_seconds', help: 'Time from handing a batch to the log until it is durable', buckets: SECONDS, registers: r }),
    inflightRecords: new Gauge({ name: 'cdc_log_append_inflight_records', help: 'Records handed to the log and not yet acked', registers: r }),
    commitToLog: new Histogram({ name: 'cdc_commit_to_log_seconds', help: 'Time from the PostgreSQL commit of a change until the log acked it (one observation per append)', buckets: SECONDS, registers: r }),
    snapshotRows: new Counter({ name: 'cdc_snapshot_rows_total', help: 'Rows of the initial snapshot written to the log, per table', labelNames: ['table'], registers: r }),
    snapshotTablesDone: new Counter({ name: 'cdc_snapshot_tables_done_total', help: 'Tables whose snapshot is complete in the log', registers: r }),
    slotLagBytes: new Gauge({ name: 'cdc_slot_lag_bytes', help: 'WAL bytes between the server\'s current position and the slot\'s confirmed position', labelNames: ['slot'], registers: r }),
    recordsRead: new Counter({ name: 'cdc_log_records_read_total', help: 'Records read from the log, per table topic', labelNames: ['table'], registers: r }),
    bytesRead: new Counter({ name: 'cdc_log_bytes_read_total', help: 'Key and value bytes read from the log, per table topic', labelNames: ['table'], registers: r }),
    recordsApplied: new Counter({ name: 'cdc_sink_records_applied_total', help: 'Records applied to the replica and committed, per replica and table', labelNames: ['replica', 'table'], registers: r }),
    applySeconds: new Histogram({ name: 'cdc_sink_apply_seconds', help: 'Time to apply and commit one batch to the replica', labelNames: ['replica'], buckets: SECONDS, registers: r }),
    sinkLagRecords: new Gauge({ name: 'cdc_sink_lag_records', help: 'Records in the log not yet applied to the replica, per table (computed at scrape)', labelNames: ['replica', 'table'], registers: r }),
    sinkLagSeconds: new Gauge({ name: 'cdc_sink_lag_seconds', help: 'Age of the PostgreSQL commit of the last applied change', labelNames: ['replica'], registers: r }),
    errors: new Counter({ name: 'cdc_errors_total', help: 'Errors and warnings with a code, by code', labelNames: ['code'], registers: r }),
  };
}

/** The metrics object that commands pass around. */
export type Metrics = ReturnType<typeof createMetrics>;
