/**
 * `npm run bench`: the pipeline's throughput, each figure next to a baseline measured in the same
 * run on the same workload.
 *
 *   source    cdc start catching up N rows of WAL (one transaction) into Kafka, from a cold start,
 *             until the slot is confirmed past them  vs  pg_recvlogical decoding the same WAL with
 *             pgoutput to /dev/null (the server-side ceiling)
 *   snapshot  cdc start reading N existing rows into Kafka (its own report)
 *   bootstrap cdc bootstrap replaying the topic into a new replica  vs  a raw better-sqlite3 upsert
 *             of the same rows in one transaction, and vs the same upsert fed by decoding record
 *             values of the topic format (decode + value mapping + upsert, in process, no Kafka)
 *
 * Needs a PostgreSQL with wal_level=logical (superuser URL) and a Kafka broker:
 *   npm run bench -- --pg postgres://… --kafka host:port [--rows 100000] [--json out.json] [--skip-source]
 * (`--skip-source` leaves out the source phase: the topic then holds the N snapshot rows, and the
 * bootstrap replays those; useful for a 1M-row bootstrap measurement without 2M rows of WAL.)
 * (or CDC_BENCH_PG_URL / CDC_BENCH_KAFKA).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { decodeChange, encodeChange, type ColumnDef } from '../compaction/index.js';
import { columnValue } from '../sink-sqlite/index.js';

/** The bench table's columns as a schema record describes them. */
const BENCH_COLUMNS: ColumnDef[] = [
  { name: 'id', type: 'bigint', base: 'int8', elem: null },
  { name: 'name', type: 'text', base: 'text', elem: null },
  { name: 'price', type: 'numeric(12,2)', base: 'numeric', elem: null },
  { name: 'updated', type: 'timestamp with time zone', base: 'timestamptz', elem: null },
  { name: 'tags', type: 'text[]', base: '_text', elem: 'text' },
];

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function query(url: string, text: string, params: unknown[] = []): Promise<Record<string, string>[]> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as Record<string, string>[];
  } finally {
    await c.end();
  }
}

function cdc(args: string[]): { done: Promise<{ code: number | null; stderr: string }>; kill: (s: NodeJS.Signals) => void; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return {
    done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))),
    kill: (s) => child.kill(s),
    stderr: () => stderr,
  };
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pgBin(name: string): string {
  const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  return join(dir, name);
}

async function main(): Promise<void> {
  const pgUrl = arg('pg') ?? process.env['CDC_BENCH_PG_URL'];
  const kafka = arg('kafka') ?? process.env['CDC_BENCH_KAFKA'];
  const rows = Number(arg('rows') ?? 100_000);
  const skipSource = process.argv.includes('--skip-source');
  const records = skipSource ? rows : 2 * rows;
  if (!pgUrl || !kafka) {
    process.stderr.write('error: the benchmark needs a PostgreSQL and a Kafka broker\nTry: npm run bench -- --pg postgres://postgres:pw@127.0.0.1:5432/postgres --kafka 127.0.0.1:9092\n');
    process.exit(2);
  }
  const run = `bench_${Date.now().toString(36)}`;
  const dbUrl = new URL(pgUrl);
  await query(pgUrl, `CREATE DATABASE ${run}`);
  dbUrl.pathname = `/${run}`;
  const url = dbUrl.toString();
  const dir = mkdtempSync(join(tmpdir(), 'cdc-bench-'));
  const log = `kafka://${kafka}`;
  const results: Record<string, number> = { rows };
  try {
    await query(url, 'CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), updated timestamptz NOT NULL, tags text[])');
    const fill = (from: number) =>
      `INSERT INTO items SELECT g, 'item ' || g, g * 0.01, timestamptz '2026-01-01' + g * interval '1 ms', ARRAY['a', 'b' || g] FROM generate_series(${from}, ${from + rows - 1}) g`;

    // Snapshot: existing rows read by the first cdc start.
    await query(url, fill(1));
    const startArgs = ['start', '--pg', url, '--log', log, '--slot', run, '--topic-prefix', run];
    let source = cdc(startArgs);
    await until('the snapshot', async () => /streaming changes/.test(source.stderr()));
    const snap = /"msg":"snapshot done".*?"seconds":([\d.]+)/.exec(source.stderr());
    results['snapshot_rows_per_s'] = snap ? Math.round(rows / Number(snap[1])) : NaN;
    source.kill('SIGTERM');
    await source.done;

    // Source: the same WAL decoded by pg_recvlogical and by cdc start, both from a cold start.
    let t0 = 0;
    if (!skipSource) {
      await query(url, `SELECT pg_create_logical_replication_slot('${run}_base', 'pgoutput')`);
      await query(url, fill(rows + 1));
      const [{ lsn } = { lsn: '' }] = await query(url, 'SELECT pg_current_wal_lsn()::text AS lsn');
      const u = new URL(url);
      t0 = performance.now();
      execFileSync(pgBin('pg_recvlogical'), ['-d', url, '--slot', `${run}_base`, '--start', '-o', 'proto_version=1', '-o', `publication_names=${run}`, '--endpos', lsn, '-f', '/dev/null', '--no-loop'], {
        stdio: 'ignore',
        env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) },
      });
      const recvSeconds = (performance.now() - t0) / 1000;
      results['recvlogical_rows_per_s'] = Math.round(rows / recvSeconds);
      await query(url, `SELECT pg_drop_replication_slot('${run}_base')`);

      t0 = performance.now();
      source = cdc(startArgs);
      await until('cdc start to confirm the WAL', async () => {
        const [r] = await query(url, 'SELECT (confirmed_flush_lsn >= $1::pg_lsn)::text AS ok FROM pg_replication_slots WHERE slot_name = $2', [lsn, run]);
        return r?.['ok'] === 'true';
      });
      const sourceSeconds = (performance.now() - t0) / 1000;
      results['source_rows_per_s'] = Math.round(rows / sourceSeconds);
      source.kill('SIGTERM');
      await source.done;
    }

    // Bootstrap: the topic (2 × rows records) into a new replica.
    t0 = performance.now();
    const boot = await cdc(['bootstrap', 'bench', '--log', log, '--replica', join(dir, 'replica.db'), '--topic-prefix', run]).done;
    if (boot.code !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
    const bootSeconds = (performance.now() - t0) / 1000;
    results['bootstrap_rows_per_s'] = Math.round(records / bootSeconds);

    const raw = new Database(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price TEXT, updated TEXT, tags TEXT)');
    const up = raw.prepare('INSERT INTO items VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price, updated = excluded.updated, tags = excluded.tags');
    t0 = performance.now();
    raw.transaction(() => {
      for (let i = 1; i <= records; i++) up.run(BigInt(i), `item ${i}`, (i / 100).toFixed(2), '2026-01-01 00:00:00.001Z', `["a","b${i}"]`);
    })();
    results['sqlite_upsert_rows_per_s'] = Math.round(records / ((performance.now() - t0) / 1000));

    // The same upsert fed from record values in the topic format: what decoding the documented
    // JSON records and mapping PostgreSQL text to SQLite values add, with no Kafka and no process.
    raw.exec('DELETE FROM items');
    const values = Array.from({ length: Math.min(records, 100_000) }, (_, n) =>
      encodeChange({ op: 'r', schemaId: 'x', after: { id: String(n + 1), name: `item ${n + 1}`, price: ((n + 1) / 100).toFixed(2), updated: '2026-01-01 00:00:00.001+00', tags: `{a,b${n + 1}}` }, source: { lsn: '0/1', txid: null, commitTime: null, snapshot: true } }),
    );
    t0 = performance.now();
    raw.transaction(() => {
      for (let i = 0; i < records; i++) {
        const change = decodeChange(values[i % values.length] as Buffer);
        up.run(...BENCH_COLUMNS.map((c) => columnValue(c, change.after[c.name] ?? null)));
      }
    })();
    results['decode_upsert_rows_per_s'] = Math.round(records / ((performance.now() - t0) / 1000));
    raw.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await query(pgUrl, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [run]).catch(() => undefined);
    await query(pgUrl, `DROP DATABASE IF EXISTS ${run} WITH (FORCE)`).catch(() => undefined);
  }

  const ratio = (a: string, b: string): string => ((results[a] ?? 0) / (results[b] ?? 1)).toFixed(2);
  process.stdout.write(
    [
      `rows per phase: ${rows}`,
      skipSource ? 'source     skipped (--skip-source)' : `source     ${results['source_rows_per_s']} rows/s   pg_recvlogical ${results['recvlogical_rows_per_s']} rows/s   ratio ${ratio('source_rows_per_s', 'recvlogical_rows_per_s')}`,
      `snapshot   ${results['snapshot_rows_per_s']} rows/s`,
      `bootstrap  ${results['bootstrap_rows_per_s']} rows/s   raw better-sqlite3 upsert ${results['sqlite_upsert_rows_per_s']} rows/s   ratio ${ratio('bootstrap_rows_per_s', 'sqlite_upsert_rows_per_s')}`,
      `           decode + map + upsert in process (no Kafka) ${results['decode_upsert_rows_per_s']} rows/s   ratio ${ratio('bootstrap_rows_per_s', 'decode_upsert_rows_per_s')}`,
      '',
    ].join('\n'),
  );
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
