/** Every workload on one log (embedded or Kafka), labelled, with its figures under the issue's keys. */
import { benchBootstrap, type BootstrapFigures } from './bootstrap.js';
import type { DebeziumSide } from './debezium.js';
import { benchLatency, type LatencyFigures } from './latency.js';
import { benchSource, type SourceFigures } from './source.js';

/** What one log's run asks for. */
export interface LogRunOptions {
  adminUrl: string;
  /** `kafka://host:port` or a directory. */
  log: string;
  label: 'embedded' | 'kafka';
  rows: number;
  /** Rows of the one-row-per-transaction workload (the slowest to write, so --quick may cut it). */
  singleRows: number;
  e2eRowsPerS: number;
  e2eSeconds: number;
  dir: string;
  progress: (line: string) => void;
  /** `--vs debezium`: run Debezium on each source workload's WAL too (Kafka only). */
  debezium?: DebeziumSide;
}

/** One log's figures: the headline keys, then the detail they come from. */
export interface LogFigures {
  /** All source workloads' rows over their summed catch-up time. */
  source_rows_per_s: number;
  recvlogical_rows_per_s: number;
  bootstrap_rows_per_s: number;
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  e2e_max_ms: number;
  /** The larger of `cdc start` through the one-transaction workload and `cdc bootstrap`. */
  peak_rss_mb: number;
  /** `--vs debezium`: Debezium's rows over its summed time on the same three workloads. */
  debezium_rows_per_s?: number;
  /** `--debezium-tuned`: the same for Debezium with throughput settings. */
  debezium_tuned_rows_per_s?: number;
  source: SourceFigures[];
  bootstrap: BootstrapFigures;
  latency: LatencyFigures;
}

/** The three source workloads on one log; the one-transaction run's topics are kept for the bootstrap. */
export async function runSources(o: LogRunOptions): Promise<{ source: SourceFigures[]; bigTx: { figures: SourceFigures; topicPrefix: string } }> {
  const source: SourceFigures[] = [];
  let bigTx: { figures: SourceFigures; topicPrefix: string } | undefined;
  for (const [rows, perTx] of [[o.singleRows, 1], [o.rows, 1000], [o.rows, o.rows]] as const) {
    const r = await benchSource(o.adminUrl, o.log, o.label, rows, perTx, o.debezium);
    source.push(r.figures);
    if (perTx === o.rows) bigTx = r;
    const dbz = r.figures.debezium;
    const tuned = r.figures.debezium_tuned;
    o.progress(`[${o.label}] source, ${rows} rows in transactions of ${perTx}: cdc ${r.figures.source_rows_per_s} rows/s, pg_recvlogical ${r.figures.recvlogical_rows_per_s} rows/s, ratio ${(r.figures.source_rows_per_s / r.figures.recvlogical_rows_per_s).toFixed(2)}${dbz ? `, Debezium ${dbz.rows_per_s} rows/s` : ''}${tuned ? `, tuned Debezium ${tuned.rows_per_s} rows/s` : ''}`);
  }
  if (!bigTx) throw new Error('no one-transaction workload ran');
  return { source, bigTx };
}

export async function runLog(o: LogRunOptions): Promise<LogFigures> {
  const { source, bigTx } = await runSources(o);
  const bootstrap = await benchBootstrap(o.log, bigTx.topicPrefix, o.rows, o.dir);
  o.progress(`[${o.label}] bootstrap, ${o.rows} rows: ${bootstrap.bootstrap_rows_per_s} rows/s`);
  const latency = await benchLatency(o.adminUrl, o.log, o.label, o.e2eRowsPerS, o.e2eSeconds, o.dir);
  o.progress(`[${o.label}] end to end at ${o.e2eRowsPerS} rows/s for ${o.e2eSeconds} s: p50 ${latency.e2e_p50_ms} ms, p99 ${latency.e2e_p99_ms} ms, max ${latency.e2e_max_ms} ms after ${latency.warmup_seconds} s of warm-up (the warm-up's own: p99 ${latency.warmup_p99_ms} ms, max ${latency.warmup_max_ms} ms)`);
  const sum = (f: (s: SourceFigures) => number): number => source.reduce((a, s) => a + f(s), 0);
  const rows = sum((s) => s.rows);
  const debeziumSeconds = sum((s) => s.debezium?.seconds ?? 0);
  const tunedSeconds = sum((s) => s.debezium_tuned?.seconds ?? 0);
  return {
    source_rows_per_s: Math.round(rows / sum((s) => s.cdc_seconds)),
    recvlogical_rows_per_s: Math.round(rows / sum((s) => s.recvlogical_seconds)),
    bootstrap_rows_per_s: bootstrap.bootstrap_rows_per_s,
    e2e_p50_ms: latency.e2e_p50_ms,
    e2e_p99_ms: latency.e2e_p99_ms,
    e2e_max_ms: latency.e2e_max_ms,
    peak_rss_mb: Math.max(bigTx.figures.peak_rss_mb, bootstrap.peak_rss_mb),
    ...(debeziumSeconds > 0 ? { debezium_rows_per_s: Math.round(rows / debeziumSeconds) } : {}),
    ...(tunedSeconds > 0 ? { debezium_tuned_rows_per_s: Math.round(rows / tunedSeconds) } : {}),
    source,
    bootstrap,
    latency,
  };
}
