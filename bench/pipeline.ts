/**
 * The pipeline on one log: snapshot, source catch-up (next to pg_recvlogical on the same WAL) and
 * bootstrap, each measured on its own database, slot and topic prefix.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export async function query(url: string, text: string, params: unknown[] = []): Promise<Record<string, string>[]> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as Record<string, string>[];
  } finally {
    await c.end();
  }
}

interface Child {
  done: Promise<{ code: number | null; stderr: string }>;
  kill: (s: NodeJS.Signals) => void;
  stderr: () => string;
  peakRssMb: () => number;
}

/** Runs the CLI, sampling its resident memory (Linux /proc) while it runs. */
function cdc(args: string[]): Child {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let peak = 0;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const sample = setInterval(() => {
    try {
      const status = execFileSync('cat', [`/proc/${child.pid}/status`], { encoding: 'utf8', stdio: 'pipe' });
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // The process ended between samples.
    }
  }, 100);
  return {
    done: new Promise((resolve) => child.on('exit', (code) => (clearInterval(sample), resolve({ code, stderr })))),
    kill: (s) => child.kill(s),
    stderr: () => stderr,
    peakRssMb: () => Math.round(peak),
  };
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 900_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pgBin(name: string): string {
  return join(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim(), name);
}

export interface PipelineFigures {
  snapshot_rows_per_s: number;
  source_rows_per_s: number;
  recvlogical_rows_per_s: number;
  bootstrap_rows_per_s: number;
  peak_rss_mb: number;
}

export async function benchPipeline(adminUrl: string, log: string, rows: number, replicaPath: string): Promise<PipelineFigures> {
  const run = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  await query(adminUrl, `CREATE DATABASE ${run}`);
  const u = new URL(adminUrl);
  u.pathname = `/${run}`;
  const url = u.toString();
  try {
    await query(url, 'CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), updated timestamptz NOT NULL, tags text[])');
    const fill = (from: number) =>
      `INSERT INTO items SELECT g, 'item ' || g, g * 0.01, timestamptz '2026-01-01' + g * interval '1 ms', ARRAY['a', 'b' || g] FROM generate_series(${from}, ${from + rows - 1}) g`;

    // Snapshot: the existing rows, read by the first cdc start.
    await query(url, fill(1));
    const startArgs = ['start', '--pg', url, '--log', log, '--slot', run, '--topic-prefix', run];
    let source = cdc(startArgs);
    await until('the snapshot', async () => /streaming changes/.test(source.stderr()) || /error:/.test(source.stderr()));
    const snap = /"msg":"snapshot done".*?"seconds":([\d.]+)/.exec(source.stderr());
    if (!snap) throw new Error(`cdc start failed: ${source.stderr()}`);
    const snapshot = rows / Number(snap[1]);
    source.kill('SIGTERM');
    await source.done;

    // Source: the same WAL (one transaction of `rows` inserts) decoded by pg_recvlogical and by
    // cdc start, both from a cold start.
    await query(url, `SELECT pg_create_logical_replication_slot('${run}_base', 'pgoutput')`);
    await query(url, fill(rows + 1));
    const [{ lsn } = { lsn: '' }] = await query(url, 'SELECT pg_current_wal_lsn()::text AS lsn');
    let t0 = performance.now();
    execFileSync(pgBin('pg_recvlogical'), ['-d', url, '--slot', `${run}_base`, '--start', '-o', 'proto_version=1', '-o', `publication_names=${run}`, '--endpos', lsn, '-f', '/dev/null', '--no-loop'], {
      stdio: 'ignore',
      env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) },
    });
    const recvlogical = rows / ((performance.now() - t0) / 1000);
    await query(url, `SELECT pg_drop_replication_slot('${run}_base')`);

    t0 = performance.now();
    source = cdc(startArgs);
    await until('cdc start to confirm the WAL', async () => {
      const [r] = await query(url, 'SELECT (confirmed_flush_lsn >= $1::pg_lsn)::text AS ok FROM pg_replication_slots WHERE slot_name = $2', [lsn, run]);
      return r?.['ok'] === 'true';
    });
    const sourceRate = rows / ((performance.now() - t0) / 1000);
    source.kill('SIGTERM');
    await source.done;
    const sourceRss = source.peakRssMb();

    // Bootstrap: the topic (2 × rows records) into a new replica.
    t0 = performance.now();
    const boot = cdc(['bootstrap', 'bench', '--log', log, '--replica', replicaPath, '--topic-prefix', run]);
    const result = await boot.done;
    if (result.code !== 0) throw new Error(`bootstrap failed: ${result.stderr}`);
    const bootstrap = (2 * rows) / ((performance.now() - t0) / 1000);
    return {
      snapshot_rows_per_s: Math.round(snapshot),
      source_rows_per_s: Math.round(sourceRate),
      recvlogical_rows_per_s: Math.round(recvlogical),
      bootstrap_rows_per_s: Math.round(bootstrap),
      peak_rss_mb: Math.max(sourceRss, boot.peakRssMb()),
    };
  } finally {
    await query(adminUrl, 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1', [run]).catch(() => undefined);
    await query(adminUrl, `DROP DATABASE IF EXISTS ${run} WITH (FORCE)`).catch(() => undefined);
  }
}
