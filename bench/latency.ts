/**
 * End-to-end latency: commit in PostgreSQL to row visible in the replica, with `cdc start` and
 * `cdc bootstrap --follow` running, at a fixed offered load. Every TICK_MS a transaction of
 * rows/s × TICK_MS rows is sent on schedule (a late tick goes out at once, so the load is kept on
 * average); a reader polls the replica file every millisecond for the new ids. A row's latency
 * runs from the moment its INSERT was sent — before the commit, so the figure is an upper bound by
 * the statement's own execution time — to the poll that first sees it.
 *
 * The first WARMUP_SECONDS of load are reported apart (`warmup_*`), not in p50/p99/max: both `cdc`
 * processes were just started and run their first thousands of rows through code V8 has not
 * optimised yet (and, in `--e2e-only`, through a broker whose JVM has just started). A trace of
 * the first second showed single appends of 11 records taking 100 ms there, 1–3 ms after. The
 * figures are the steady state a running pipeline has; the warm-up's own are printed beside them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { cdc, stop, until, type CdcChild } from './child.js';
import { createRunDb } from './db.js';

const TICK_MS = 2;
/** Load sent before the measured seconds, at the same rate; its rows are reported as `warmup_*`. */
export const WARMUP_SECONDS = 3;

/** Latency figures on one log. */
export interface LatencyFigures {
  offered_rows_per_s: number;
  /** What the writer actually sent (lower if PostgreSQL could not take the load). */
  achieved_rows_per_s: number;
  seconds: number;
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  e2e_max_ms: number;
  /** The warm-up's rows (WARMUP_SECONDS before the measured ones), not in the figures above. */
  warmup_seconds: number;
  warmup_p99_ms: number;
  warmup_max_ms: number;
}

/** Runs the load for `seconds` against a fresh database, slot, topic prefix and replica. */
export async function benchLatency(adminUrl: string, log: string, label: string, rowsPerS: number, seconds: number, dir: string): Promise<LatencyFigures> {
  const db = await createRunDb(adminUrl, `${label}_e2e`);
  const replicaPath = join(dir, `${db.name}.db`);
  const source = cdc(['start', '--pg', db.url, '--log', log, '--slot', db.name, '--topic-prefix', db.name, '--table-poll-ms', '600000']);
  let sink: CdcChild | undefined;
  const writer = new pg.Client({ connectionString: db.url });
  let replica: Database.Database | undefined;
  try {
    await until('cdc start to stream', () => /streaming changes/.test(source.stderr()) || /error:/.test(source.stderr()), 120_000);
    // After the topics exist: a sink refuses a log without them.
    const follower = cdc(['bootstrap', 'bench', '--follow', '--log', log, '--replica', replicaPath, '--topic-prefix', db.name]);
    sink = follower;
    await writer.connect();
    const insert = (from: number, to: number) =>
      writer.query("INSERT INTO items SELECT g, 'item ' || g, g * 0.01, now(), ARRAY['a', 'b' || g] FROM generate_series($1::bigint, $2::bigint) g", [from, to]);
    // Warm-up: row 0 makes the table appear in the replica; then the reader can open it.
    await insert(0, 0);
    await until('the replica to show the first row', () => {
      if (/error:/.test(follower.stderr() + source.stderr())) throw new Error(`cdc failed: ${source.stderr()}${follower.stderr()}`);
      try {
        replica ??= new Database(replicaPath, { readonly: true, fileMustExist: true });
        return replica.prepare('SELECT 1 FROM items WHERE id = 0').get() !== undefined;
      } catch {
        replica?.close();
        replica = undefined;
        return false;
      }
    }, 120_000);
    const read = (replica as Database.Database).prepare<[number], { id: number }>('SELECT id FROM items WHERE id > ? ORDER BY id');

    const perTick = Math.max(1, Math.round((rowsPerS * TICK_MS) / 1000));
    const warmTicks = Math.round((WARMUP_SECONDS * 1000) / TICK_MS);
    const ticks = warmTicks + Math.round((seconds * 1000) / TICK_MS);
    const sentAt = new Float64Array(ticks);
    const latencies: number[] = [];
    const warmup: number[] = [];
    let seen = 0;
    let writing = true;
    let end = Infinity;
    // CDC_BENCH_LATENCY_DUMP=FILE writes "seconds-into-load latency-ms" per row, to see when slow rows happen.
    const dump = process.env['CDC_BENCH_LATENCY_DUMP'];
    const timeline: string[] | null = dump ? [] : null;
    const t0 = performance.now();
    const reader = (async () => {
      while (writing || seen < ticks * perTick) {
        const now = performance.now();
        for (const { id } of read.all(seen)) {
          const tick = Math.floor((id - 1) / perTick);
          const sent = sentAt[tick] ?? now;
          (tick < warmTicks ? warmup : latencies).push(now - sent);
          if (timeline) timeline.push(`${((sent - t0) / 1000).toFixed(3)} ${(now - sent).toFixed(1)}`);
          seen = Math.max(seen, id);
        }
        if (!writing && performance.now() - end > 60_000) throw new Error(`only ${seen} of ${ticks * perTick} rows reached the replica`);
        await sleep(1);
      }
    })();
    for (let k = 0; k < ticks; k++) {
      const due = t0 + k * TICK_MS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sentAt[k] = performance.now();
      await insert(k * perTick + 1, (k + 1) * perTick);
    }
    const sentSeconds = (performance.now() - (sentAt[warmTicks] ?? t0)) / 1000;
    end = performance.now();
    writing = false;
    await reader;
    if (dump && timeline) writeFileSync(`${dump}.${label}`, timeline.join('\n') + '\n');
    latencies.sort((a, b) => a - b);
    warmup.sort((a, b) => a - b);
    const at = (sorted: number[], p: number): number => Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1));
    const pct = (p: number): number => at(latencies, p);
    return {
      offered_rows_per_s: rowsPerS,
      achieved_rows_per_s: Math.round(((ticks - warmTicks) * perTick) / sentSeconds),
      seconds,
      e2e_p50_ms: pct(0.5),
      e2e_p99_ms: pct(0.99),
      e2e_max_ms: Number((latencies[latencies.length - 1] ?? 0).toFixed(1)),
      warmup_seconds: WARMUP_SECONDS,
      warmup_p99_ms: at(warmup, 0.99),
      warmup_max_ms: Number((warmup[warmup.length - 1] ?? 0).toFixed(1)),
    };
  } finally {
    replica?.close();
    await writer.end().catch(() => undefined);
    if (sink) await stop(sink);
    await stop(source);
    await db.drop();
  }
}
