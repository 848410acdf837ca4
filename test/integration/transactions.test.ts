import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDatabase, runCli, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { cleanUp } from './support/clean-up.js';

/** Rows per source transaction: about 3 MB of records, several Kafka fetch batches (1 MiB each). */
const TX_ROWS = 15_000;
const TXS = 3;

describe('a reader of the replica never sees part of a source transaction within a table', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];
  const prefix = uniqueName('tx');
  const kafka = `kafka://${services().kafkaBrokers}`;

  beforeAll(async () => {
    db = await createDatabase('transactions');
    dir = mkdtempSync(join(tmpdir(), 'cdc-tx-'));
    await sql(db.url, 'CREATE TABLE big (id int PRIMARY KEY, tx int NOT NULL, pad text NOT NULL)');
    const start = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', uniqueName('slot'), '--topic-prefix', prefix]);
    running.push(start);
    await start.waitForOutput(/streaming changes/, 60_000);
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('a following sink applies large transactions whole, though Kafka hands them over in several batches', async () => {
    const replica = join(dir, 'r.db');
    const sink = runCli(['bootstrap', 'app', '--log', kafka, '--replica', replica, '--topic-prefix', prefix, '--follow']);
    running.push(sink);
    await sink.waitForOutput(/bootstrap caught up; following/, 60_000);
    for (let t = 0; t < TXS; t++) {
      await sql(db.url, `INSERT INTO big SELECT g, ${t}, repeat('x', 150) FROM generate_series(${t * TX_ROWS + 1}, ${(t + 1) * TX_ROWS}) g`);
    }
    // Read the replica as often as possible while the sink applies them.
    const seen = new Set<number>();
    await waitFor(() => {
      if (!existsSync(replica)) return false;
      const r = new Database(replica, { readonly: true });
      try {
        const exists = r.prepare("SELECT 1 FROM sqlite_master WHERE name = 'big'").get();
        const n = exists ? Number((r.prepare('SELECT count(*) AS n FROM big').get() as { n: number }).n) : 0;
        seen.add(n);
        return n === TXS * TX_ROWS;
      } finally {
        r.close();
      }
    }, { timeoutMs: 90_000, intervalMs: 2, what: 'every transaction in the replica' });
    const partial = [...seen].filter((n) => n % TX_ROWS !== 0);
    expect(partial, `row counts seen: ${[...seen].sort((a, b) => a - b).join(', ')}`).toEqual([]);
    sink.kill('SIGTERM');
    expect((await sink.exited).code).toBe(0);
  });
});
