/**
 * A source transaction reaches a replica whole, however its records are spread over log appends.
 * The transaction touches three tables; `cdc start` appends it in several appends (one record
 * each), and every append carrying the third table's records is held back 2 s, as a slow broker
 * or a retry backoff would. A reader polling the replica every millisecond, each read in one
 * SQLite read transaction, must never see the first tables' rows without the third's. Run on
 * Kafka and on the embedded log.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger, silentLogger } from '../../common/index.js';
import { DirLog, KafkaLog, type AppendOptions, type AppendRecord, type TopicLog } from '../../compaction/index.js';
import { createSource } from '../../source-postgres/index.js';
import { runSink } from '../../sink-sqlite/index.js';
import { createDatabase, services, sql, uniqueName, waitFor, type TestDatabase } from '../harness/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cdc-whole-tx-'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** A TopicLog whose appends carrying a record of `slowTopic` are held back `delayMs` while `slow` is set. */
function delayedLog(inner: TopicLog, slowTopic: string, delayMs: number): TopicLog & { slow: boolean; delayed: number } {
  const wrapper = Object.create(inner) as TopicLog & { slow: boolean; delayed: number };
  wrapper.slow = false;
  wrapper.delayed = 0;
  wrapper.append = async (records: readonly AppendRecord[], options?: AppendOptions): Promise<void> => {
    if (wrapper.slow && records.some((r) => r.topic === slowTopic)) {
      wrapper.delayed++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    return inner.append(records, options);
  };
  return wrapper;
}

interface Seen {
  reads: number;
  partial: string[];
}

/** Reads the three tables every millisecond, each time in one read transaction; records any partial state. */
function watch(path: string): { seen: Seen; stop: () => void } {
  const seen: Seen = { reads: 0, partial: [] };
  let db: Database.Database | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    try {
      db ??= new Database(path, { readonly: true, fileMustExist: true });
      const read = db.transaction(() =>
        ['a', 'b', 'c'].map((t) => {
          try {
            return JSON.stringify(db?.prepare(`SELECT id, v FROM ${t} ORDER BY id`).all());
          } catch {
            return 'absent';
          }
        }),
      );
      const [a, b, c] = read();
      seen.reads++;
      if (a !== b || b !== c) seen.partial.push(`a=${a} b=${b} c=${c}`);
    } catch {
      // The replica file is not there yet.
    }
    setTimeout(tick, 1);
  };
  tick();
  return { seen, stop: () => ((stopped = true), db?.close()) };
}

async function wholeTransactions(kind: 'kafka' | 'embedded'): Promise<void> {
  const db: TestDatabase = await createDatabase(`whole_${kind}`);
  cleanups.push(() => db.drop());
  await sql(db.url, `CREATE TABLE a (id int PRIMARY KEY, v int); CREATE TABLE b (id int PRIMARY KEY, v int); CREATE TABLE c (id int PRIMARY KEY, v int);
    INSERT INTO a VALUES (0, 0); INSERT INTO b VALUES (0, 0); INSERT INTO c VALUES (0, 0);`);
  const prefix = uniqueName('w');
  const inner: TopicLog = kind === 'kafka' ? new KafkaLog({ brokers: services().kafkaBrokers.split(','), logger: silentLogger }) : new DirLog({ path: join(dir, `${kind}-log`), logger: silentLogger });
  const log = delayedLog(inner, `${prefix}.public.c`, 2000);
  const sinkLog: TopicLog = kind === 'kafka' ? new KafkaLog({ brokers: services().kafkaBrokers.split(','), logger: silentLogger }) : new DirLog({ path: join(dir, `${kind}-log`), logger: silentLogger });
  const stop = new AbortController();
  cleanups.push(async () => {
    stop.abort();
    await log.close();
    await sinkLog.close();
  });
  let streaming = false;
  const source = createSource(
    { pgUrl: db.url, prefix, slot: uniqueName('slot'), publication: uniqueName('pub'), batchRecords: 1, tablePollMs: 3_600_000 },
    { log, logger: createLogger({ level: 'warn' }), onStreaming: () => (streaming = true) },
  ).run(stop.signal);
  source.catch(() => undefined);
  await waitFor(() => streaming, { timeoutMs: 60_000, what: 'cdc start to stream' });
  const replica = join(dir, `${kind}.db`);
  const sink = runSink({ name: 'r', replicaPath: replica, prefix, mode: 'bootstrap', follow: true }, { log: sinkLog, logger: createLogger({ level: 'warn' }) }, stop.signal);
  sink.catch(() => undefined);
  const reader = watch(replica);
  cleanups.push(async () => reader.stop());
  await waitFor(() => readAll(replica) === JSON.stringify([0, 0, 0]), { timeoutMs: 60_000, what: 'the snapshot in the replica' });
  // The bootstrap creates the tables one by one; what counts is what follows.
  reader.seen.partial.length = 0;
  reader.seen.reads = 0;

  log.slow = true;
  // Two transactions over the three tables: an insert, then an update of every row.
  await sql(db.url, 'BEGIN; INSERT INTO a VALUES (1, 1); INSERT INTO b VALUES (1, 1); INSERT INTO c VALUES (1, 1); UPDATE a SET v = 1; UPDATE b SET v = 1; UPDATE c SET v = 1; COMMIT;');
  await sql(db.url, 'BEGIN; UPDATE a SET v = 2; UPDATE b SET v = 2; UPDATE c SET v = 2; COMMIT;');
  await waitFor(() => readAll(replica) === JSON.stringify([2, 2, 2]), { timeoutMs: 60_000, intervalMs: 5, what: 'both transactions in the replica' });
  reader.stop();
  expect(log.delayed).toBeGreaterThan(0);
  expect(reader.seen.reads).toBeGreaterThan(100);
  expect(reader.seen.partial.slice(0, 3)).toEqual([]);
  stop.abort();
  await Promise.allSettled([source, sink]);
}

/** Each table's single value of v (all rows agree), as JSON: `[a, b, c]`. */
function readAll(path: string): string {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const r = db.transaction(() => ['a', 'b', 'c'].map((t) => (db?.prepare(`SELECT min(v) AS lo, max(v) AS hi, count(*) AS n FROM ${t}`).get() as { lo: number; hi: number; n: number })))();
    return JSON.stringify(r.map((x) => (x.lo === x.hi ? x.lo : null)));
  } catch {
    return 'none';
  } finally {
    db?.close();
  }
}

describe('a transaction over three tables, its later appends delayed 2 s', () => {
  it('is never seen in part on Kafka', () => wholeTransactions('kafka'), 180_000);
  it('is never seen in part on the embedded log', () => wholeTransactions('embedded'), 180_000);
});
