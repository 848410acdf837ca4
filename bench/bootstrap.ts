/**
 * Bootstrap throughput: `cdc bootstrap` replaying a topic of `rows` records into a new replica,
 * next to the floor under it, a raw better-sqlite3 upsert of the same rows (prepared statement,
 * one transaction) with no log, no decoding and no value mapping.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cdc } from './child.js';
import { rowValues } from './db.js';

/** The bootstrap's figures on one log. */
export interface BootstrapFigures {
  rows: number;
  /** From the bootstrap's own "complete" line: opening the log to the durable replica. */
  bootstrap_seconds: number;
  /** Process start to exit, Node start-up included. */
  bootstrap_wall_seconds: number;
  bootstrap_rows_per_s: number;
  /** Peak RSS of `cdc bootstrap`, MB. */
  peak_rss_mb: number;
}

/** Replays the topics of `topicPrefix` into a new replica in `dir`. */
export async function benchBootstrap(log: string, topicPrefix: string, rows: number, dir: string): Promise<BootstrapFigures> {
  const t0 = performance.now();
  const boot = cdc(['bootstrap', 'bench', '--log', log, '--replica', join(dir, `${topicPrefix}.db`), '--topic-prefix', topicPrefix]);
  const result = await boot.done;
  const wall = (performance.now() - t0) / 1000;
  if (result.code !== 0) throw new Error(`cdc bootstrap failed: ${result.stderr}`);
  // A rate is only worth something for a replica that has every row (a bench topic whose end mark
  // was wrong once had ~3,000 rows skipped, unnoticed).
  const replica = new Database(join(dir, `${topicPrefix}.db`), { readonly: true });
  const { n } = replica.prepare('SELECT count(*) AS n FROM items').get() as { n: number };
  replica.close();
  if (n !== rows) throw new Error(`cdc bootstrap left ${n} rows in the replica, not ${rows}`);
  const seconds = Number(/"msg":"bootstrap complete".*?"seconds":([\d.]+)/.exec(result.stderr)?.[1] ?? wall);
  return {
    rows,
    bootstrap_seconds: seconds,
    bootstrap_wall_seconds: Number(wall.toFixed(3)),
    bootstrap_rows_per_s: Math.round(rows / seconds),
    peak_rss_mb: boot.peakRssMb(),
  };
}

/** The floor for a bootstrap: the same rows upserted with a prepared statement in one transaction. */
export function rawUpsert(path: string, rows: number): number {
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price TEXT, updated TEXT NOT NULL, tags TEXT)');
  const up = raw.prepare(
    'INSERT INTO items VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price, updated = excluded.updated, tags = excluded.tags',
  );
  // Values made before the clock starts: the floor is SQLite's upsert alone.
  const values = Array.from({ length: rows }, (_, i) => rowValues(i + 1));
  const t0 = performance.now();
  raw.transaction(() => {
    for (const v of values) up.run(...v);
  })();
  const rate = rows / ((performance.now() - t0) / 1000);
  raw.close();
  return Math.round(rate);
}
