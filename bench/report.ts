/** The bench's result as one JSON object, and the same figures as text, each next to its baseline. */
import type { AppendFigures } from './append.js';
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
  append: AppendFigures;
  machine: Machine;
  services: { postgres: string; kafka: string | null };
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
      `[${label}] e2e at ${f.latency.offered_rows_per_s} rows/s (sent ${f.latency.achieved_rows_per_s}): p50 ${f.e2e_p50_ms} ms, p99 ${f.e2e_p99_ms} ms, max ${f.e2e_max_ms} ms   (goal p99 ≤ 50)`,
      `[${label}] peak RSS ${f.peak_rss_mb} MB (cdc start ${f.source.at(-1)?.peak_rss_mb} MB, bootstrap ${f.bootstrap.peak_rss_mb} MB)   (goal ≤ 300)`,
    );
  }
  lines.push(`[embedded] append ${r.append.embedded_append_records_per_s} records/s fsync'd   raw file append + fdatasync ${r.append.raw_fsync_append_records_per_s} records/s   ratio ${ratio(r.append.embedded_append_records_per_s, r.append.raw_fsync_append_records_per_s)}`);
  return lines.join('\n') + '\n';
}
