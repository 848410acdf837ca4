/**
 * `npm run bench`: the pipeline's throughput, each figure next to a baseline measured in the same
 * run on the same workload:
 *
 *   source    cdc start catching up N rows of WAL (one transaction) from a cold start, until the
 *             slot is confirmed past them  vs  pg_recvlogical decoding the same WAL with pgoutput
 *   snapshot  cdc start reading N existing rows (its own report)
 *   bootstrap cdc bootstrap replaying 2N records into a new replica  vs  a raw better-sqlite3
 *             upsert of 2N rows in one transaction
 *   append    the embedded log's fsync'd appends  vs  a plain file append with fdatasync per batch
 *
 * The pipeline runs on the embedded log, and on Kafka too when a broker is named. Needs a
 * PostgreSQL with wal_level=logical (superuser URL):
 *   npm run bench -- --pg postgres://… [--kafka host:port] [--rows 100000] [--json out.json]
 * (or CDC_BENCH_PG_URL / CDC_BENCH_KAFKA).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { benchAppend } from './append.js';
import { benchPipeline, type PipelineFigures } from './pipeline.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The floor for a bootstrap: the same number of rows upserted with a prepared statement in one transaction. */
function rawUpsert(path: string, rows: number): number {
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price TEXT, updated TEXT, tags TEXT)');
  const up = raw.prepare('INSERT INTO items VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price, updated = excluded.updated, tags = excluded.tags');
  const t0 = performance.now();
  raw.transaction(() => {
    for (let i = 1; i <= rows; i++) up.run(BigInt(i), `item ${i}`, (i / 100).toFixed(2), '2026-01-01 00:00:00.001Z', `["a","b${i}"]`);
  })();
  const rate = rows / ((performance.now() - t0) / 1000);
  raw.close();
  return Math.round(rate);
}

async function main(): Promise<void> {
  const pgUrl = arg('pg') ?? process.env['CDC_BENCH_PG_URL'];
  const kafka = arg('kafka') ?? process.env['CDC_BENCH_KAFKA'];
  const rows = Number(arg('rows') ?? 100_000);
  if (!pgUrl) {
    process.stderr.write('error: the benchmark needs a PostgreSQL with wal_level=logical\nTry: npm run bench -- --pg postgres://postgres:pw@127.0.0.1:5432/postgres [--kafka 127.0.0.1:9092]\n');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'cdc-bench-'));
  const results: Record<string, number> = { rows };
  const lines: string[] = [`rows per phase: ${rows}`];
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  try {
    const upsert = rawUpsert(join(dir, 'raw.db'), 2 * rows);
    results['sqlite_upsert_rows_per_s'] = upsert;
    const logs: [string, string][] = [['embedded', join(dir, 'log')]];
    if (kafka) logs.push(['kafka', `kafka://${kafka}`]);
    for (const [label, log] of logs) {
      const f: PipelineFigures = await benchPipeline(pgUrl, log, rows, join(dir, `${label}.db`));
      for (const [k, v] of Object.entries(f)) results[`${label}_${k}`] = v;
      lines.push(
        `[${label}] source     ${f.source_rows_per_s} rows/s   pg_recvlogical ${f.recvlogical_rows_per_s} rows/s   ratio ${ratio(f.source_rows_per_s, f.recvlogical_rows_per_s)}`,
        `[${label}] snapshot   ${f.snapshot_rows_per_s} rows/s`,
        `[${label}] bootstrap  ${f.bootstrap_rows_per_s} rows/s   raw better-sqlite3 upsert ${upsert} rows/s   ratio ${ratio(f.bootstrap_rows_per_s, upsert)}`,
        `[${label}] peak RSS   ${f.peak_rss_mb} MB (cdc start catching up, or bootstrap)`,
      );
    }
    const a = await benchAppend(dir, Math.min(rows * 2, 1_000_000), 5000);
    Object.assign(results, a);
    lines.push(`[embedded] append     ${a.embedded_append_records_per_s} records/s fsync'd   raw file append + fdatasync ${a.raw_fsync_append_records_per_s} records/s   ratio ${ratio(a.embedded_append_records_per_s, a.raw_fsync_append_records_per_s)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(lines.join('\n') + '\n');
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
