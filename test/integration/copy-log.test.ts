import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { differences, type TableSpec } from './support/compare.js';

const TABLES: TableSpec[] = [{ source: 'public.items', replica: 'items', key: ['id'], columns: { id: 'int', name: 'text', qty: 'int' } }];

describe('moving from the embedded log to Kafka', () => {
  let db: TestDatabase;
  let dir: string;
  const prefix = uniqueName('mv');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const running: CliProcess[] = [];
  const start = async (log: string): Promise<CliProcess> => {
    const p = runCli(['start', '--pg', db.url, '--log', log, '--slot', slot, '--topic-prefix', prefix]);
    running.push(p);
    await p.waitForOutput(/streaming changes/, 60_000);
    return p;
  };
  const stop = async (p: CliProcess): Promise<void> => {
    p.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  };

  beforeAll(async () => {
    db = await createDatabase('copy');
    dir = mkdtempSync(join(tmpdir(), 'cdc-copy-'));
    await sql(db.url, "CREATE TABLE items (id int PRIMARY KEY, name text, qty int); INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 500) g");
  });

  afterAll(async () => {
    running.forEach((p) => p.kill('SIGKILL'));
    await Promise.all(running.map((p) => p.exited));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every topic, then cdc start goes on with the same slot on Kafka and a replica built from Kafka equals the source', async () => {
    const local = join(dir, 'log');
    let source = await start(local);
    await sql(db.url, "UPDATE items SET qty = qty + 1 WHERE id % 2 = 0; DELETE FROM items WHERE id % 10 = 0; INSERT INTO items VALUES (1000, 'new', 1)");

    const busy = await runCliToEnd(['copy-log', '--from', local, '--to', kafka, '--topic-prefix', prefix]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/cdc start \(pid \d+\) is still writing to/);
    await stop(source);
    // Changes while nothing runs: the slot keeps them for the next cdc start, wherever it writes.
    await sql(db.url, "UPDATE items SET name = 'while stopped' WHERE id < 50");

    const copied = await runCliToEnd(['copy-log', '--from', local, '--to', kafka, '--topic-prefix', prefix]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/copied \d+ records in 3 topics/);

    source = await start(kafka);
    expect(source.stderr()).not.toMatch(/snapshot of tables/); // progress came along: no second snapshot
    await sql(db.url, "DELETE FROM items WHERE id = 1; UPDATE items SET qty = 0 WHERE id = 2");
    const replica = join(dir, 'from-kafka.db');
    const boot = runCli(['bootstrap', 'k', '--log', kafka, '--replica', replica, '--topic-prefix', prefix, '--follow']);
    running.push(boot);
    await waitFor(async () => ((await differences(db.url, replica, TABLES)).length === 0 ? true : undefined), { timeoutMs: 60_000, what: 'the replica built from Kafka to equal the source' });
    await stop(boot);
    await stop(source);

    const again = await runCliToEnd(['copy-log', '--from', local, '--to', kafka, '--topic-prefix', prefix]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already has records in/);
  });
});
