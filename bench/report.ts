/** The bench's result as one JSON object, and the same figures as text, each next to its baseline. */
import type { AppendFigures } from './append.js';
import type { DebeziumFigures } from './debezium.js';
import type { LogFigures } from './log-run.js';
import type { Machine } from './machine.js';

/** One log's figures with the raw-upsert baseline beside them. */
export type LabelledLogFigures = LogFigures & { sqlite_upsert_rows_per_s: number };

/**
 * The JSON object `--json` writes. Top-level figures are those of `headline_log` (Kafka when it
 * ran); `embedded` and `kafka` hold each log's full set under the same keys.
 */
export interface BenchResult {
  quick: boolean;
  rows: number;
  single_rows: number;
  e2e_seconds: number;
  e2e_offered_rows_per_s: number;
  headline_log: 'kafka' | 'embedded';
  source_rows_per_s: number;
  recvlogical_rows_per_s: number;
  bootstrap_rows_per_s: number;
  sqlite_upsert_rows_per_s: number;
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  e2e_max_ms: number;
  peak_rss_mb: number;
  embedded?: LabelledLogFigures;
  kafka?: LabelledLogFigures;
  /** `--vs debezium`: what ran beside `cdc start` (per-workload figures: `kafka.source[].debezium`). */
  vs_debezium?: VsDebezium;
  append: AppendFigures;
  machine: Machine;
  services: { postgres: string; kafka: string | null };
}

/** The Debezium comparison's versions and summary; the rows/s are over all three workloads. */
export interface VsDebezium {
  debezium: string;
  kafka_connect: string;
  java: string;
  jvm_flags: string;
  debezium_rows_per_s: number;
  /** `--debezium-tuned`: the tuned run's rows/s, and its settings (worker, then connector). */
  debezium_tuned_rows_per_s?: number;
  tuned_settings?: string;
  /** cdc's on the same WAL (the Kafka log's `source_rows_per_s`). */
  source_rows_per_s: number;
}

const ratio = (a: number, b: number): string => (a / b).toFixed(2);

/** The text report: one block per log, every throughput with its same-run baseline and ratio. */
export function report(r: BenchResult): string {
  const lines = [
    `cdc bench${r.quick ? ' --quick (row counts scaled down)' : ''}: ${r.rows} rows per workload (${r.single_rows} in one-row transactions), e2e ${r.e2e_seconds} s at ${r.e2e_offered_rows_per_s} rows/s`,
    `machine: ${r.machine.cpus} × ${r.machine.cpu_model}, ${r.machine.mem_gb} GB, Linux ${r.machine.kernel}, Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}${r.machine.kafka ? `, Kafka ${r.machine.kafka}` : ''}`,
  ];
  for (const [label, f] of [['embedded', r.embedded], ['kafka', r.kafka]] as const) {
    if (!f) continue;
    for (const s of f.source) {
      lines.push(`[${label}] source  tx of ${String(s.per_tx).padEnd(7)} ${String(s.source_rows_per_s).padStart(8)} rows/s   pg_recvlogical ${String(s.recvlogical_rows_per_s).padStart(8)} rows/s   ratio ${ratio(s.source_rows_per_s, s.recvlogical_rows_per_s)}`);
    }
    lines.push(
      `[${label}] source  all         ${String(f.source_rows_per_s).padStart(8)} rows/s   pg_recvlogical ${String(f.recvlogical_rows_per_s).padStart(8)} rows/s   ratio ${ratio(f.source_rows_per_s, f.recvlogical_rows_per_s)}   (goal ≥ 0.8)`,
      `[${label}] bootstrap           ${String(f.bootstrap_rows_per_s).padStart(8)} rows/s   raw upsert     ${String(f.sqlite_upsert_rows_per_s).padStart(8)} rows/s   ratio ${ratio(f.bootstrap_rows_per_s, f.sqlite_upsert_rows_per_s)}   (goal ≥ 0.5)`,
      `[${label}] e2e at ${f.latency.offered_rows_per_s} rows/s (sent ${f.latency.achieved_rows_per_s}): p50 ${f.e2e_p50_ms} ms, p99 ${f.e2e_p99_ms} ms, max ${f.e2e_max_ms} ms   (goal p99 ≤ 20, max ≤ 100; the first ${f.latency.warmup_seconds} s, apart: p99 ${f.latency.warmup_p99_ms} ms, max ${f.latency.warmup_max_ms} ms)`,
      `[${label}] peak RSS ${f.peak_rss_mb} MB (cdc start ${f.source.at(-1)?.peak_rss_mb} MB, bootstrap ${f.bootstrap.peak_rss_mb} MB)   (goal ≤ 300)`,
    );
  }
  if (r.vs_debezium && r.kafka) lines.push(...versusDebezium(r.vs_debezium, r.kafka));
  lines.push(`[embedded] append ${r.append.embedded_append_records_per_s} records/s fsync'd   raw file append + fdatasync ${r.append.raw_fsync_append_records_per_s} records/s   ratio ${ratio(r.append.embedded_append_records_per_s, r.append.raw_fsync_append_records_per_s)}`);
  return lines.join('\n') + '\n';
}

/**
 * cdc beside Debezium, workload by workload: rows/s from each one's streaming line, CPU seconds of
 * the whole process up to the last row (and the part after the streaming line), peak RSS.
 */
function versusDebezium(v: VsDebezium, f: LabelledLogFigures): string[] {
  const lines = [`[kafka] vs Debezium ${v.debezium} on Kafka Connect ${v.kafka_connect} (${v.java}; ${v.jvm_flags})`];
  if (v.tuned_settings) lines.push(`[kafka] vs Debezium tuned: ${v.tuned_settings}`);
  // The ratio is cdc's rows/s over Debezium's: above 1, cdc is faster.
  const figures = (d: DebeziumFigures, cdcRowsPerS: number): string =>
    `${String(d.rows_per_s).padStart(8)} rows/s, ${d.cpu_seconds.toFixed(1)} CPU s (${d.catchup_cpu_seconds.toFixed(1)} catching up), ${d.peak_rss_mb} MB   ratio ${ratio(cdcRowsPerS, d.rows_per_s)}`;
  for (const s of f.source) {
    const d = s.debezium;
    if (!d) continue;
    const t = s.debezium_tuned;
    lines.push(
      `[kafka] vs Debezium tx of ${String(s.per_tx).padEnd(7)} cdc ${String(s.source_rows_per_s).padStart(8)} rows/s, ${s.cdc_cpu_seconds.toFixed(1)} CPU s (${s.cdc_catchup_cpu_seconds.toFixed(1)} catching up), ${s.peak_rss_mb} MB` +
        `   Debezium ${figures(d, s.source_rows_per_s)}` +
        (t ? `   tuned ${figures(t, s.source_rows_per_s)}` : ''),
    );
  }
  const tunedAll = v.debezium_tuned_rows_per_s;
  lines.push(
    `[kafka] vs Debezium all         cdc ${String(v.source_rows_per_s).padStart(8)} rows/s   Debezium ${String(v.debezium_rows_per_s).padStart(8)} rows/s   ratio ${ratio(v.source_rows_per_s, v.debezium_rows_per_s)}` +
      (tunedAll !== undefined ? `   tuned ${String(tunedAll).padStart(8)} rows/s   ratio ${ratio(v.source_rows_per_s, tunedAll)}` : ''),
  );
  return lines;
}
