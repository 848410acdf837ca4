import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readReplicaStatus } from '../../sink-sqlite/index.js';
import { differences, type TableSpec } from './support/compare.js';
import { cleanUp } from './support/clean-up.js';

const TABLES: TableSpec[] = [
  {
    source: 'public.accounts',
    replica: 'accounts',
    key: ['id'],
    columns: { id: 'int', owner: 'text', balance: 'numeric', opened: 'timestamptz', active: 'bool', photo: 'bytea', score: 'float' },
  },
  {
    source: 'inventory.items',
    replica: 'inventory.items',
    key: ['warehouse', 'sku'],
    columns: { warehouse: 'int', sku: 'text', qty: 'int', note: 'text' },
  },
];

const SCHEMA = `
CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance numeric(30,6), opened timestamptz, active boolean, photo bytea, score double precision);
CREATE SCHEMA inventory;
CREATE TABLE inventory.items (sku text, warehouse int, qty int NOT NULL, note text, PRIMARY KEY (warehouse, sku));
CREATE TABLE audit_log (msg text);
INSERT INTO accounts
  SELECT g, 'owner ' || g, g::numeric * 1000000007 / 1000, timestamptz '2026-01-01 00:00:00.000001+00' + g * interval '1 second 1 microsecond',
         g % 2 = 0, CASE WHEN g % 10 = 0 THEN NULL ELSE decode(lpad(to_hex(g), 8, '0'), 'hex') END, g / 7.0
  FROM generate_series(1, 2000) g;
INSERT INTO accounts VALUES (9223372036854775807, 'max', 99999999999999999999999.999999, 'infinity', NULL, '\\x00', 'NaN');
INSERT INTO inventory.items SELECT 'sku-' || g, g % 3, g, NULL FROM generate_series(1, 300) g;
INSERT INTO audit_log VALUES ('not captured');
`;

/** Changes of every kind, run after `cdc start` is streaming. */
async function applyChanges(url: string, round: number): Promise<void> {
  const base = 100_000 * round;
  await sql(url, `INSERT INTO accounts SELECT ${base} + g, 'new ' || g, g, now(), true, '\\xdeadbeef', -0.5 FROM generate_series(1, 500) g`);
  await sql(url, `UPDATE accounts SET balance = balance + 1, owner = owner || ' ✓ "quoted"\ttab' WHERE id % 5 = ${round % 5}`);
  await sql(url, `DELETE FROM accounts WHERE id % 7 = ${round % 7} AND id < 2000`);
  // One transaction of several statements, including a primary-key change.
  await sql(
    url,
    `DO $$ BEGIN
       INSERT INTO accounts VALUES (${base + 900}, 'tx', 1, now(), false, NULL, 1e300);
       UPDATE accounts SET id = ${base + 901} WHERE id = ${base + 900};
       DELETE FROM accounts WHERE id = ${base + 1};
       UPDATE inventory.items SET qty = qty * 2, note = 'round ${round}' WHERE warehouse = ${round % 3};
       UPDATE inventory.items SET warehouse = 7 WHERE sku = 'sku-${round + 10}';
     END $$`,
  );
  await sql(url, `DELETE FROM inventory.items WHERE sku = 'sku-${round + 20}'`);
}

describe('PostgreSQL → Kafka → SQLite, end to end', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];
  const prefix = uniqueName('p');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const startArgs = (): string[] => ['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix];
  const start = (): CliProcess => {
    const p = runCli(startArgs());
    running.push(p);
    return p;
  };
  const sink = (name: string, replica: string, command: 'sink' | 'bootstrap', follow = false): CliProcess => {
    const p = runCli([command, name, '--log', kafka, '--replica', replica, '--topic-prefix', prefix, ...(follow ? ['--follow'] : [])]);
    running.push(p);
    return p;
  };
  const converged = (replica: string) =>
    waitFor(async () => ((await differences(db.url, replica, TABLES)).length === 0 ? true : undefined), {
      timeoutMs: 60_000,
      what: `replica ${replica} equal to the source`,
    }).catch(async (e: unknown) => {
      const diffs = await differences(db.url, replica, TABLES);
      throw new Error(`${(e as Error).message}\nfirst differences:\n${diffs.slice(0, 10).join('\n')}`);
    });
  const stop = async (p: CliProcess): Promise<void> => {
    p.kill('SIGTERM');
    const r = await p.exited;
    expect(r.code, `clean stop of ${r.stderr}`).toBe(0);
  };

  beforeAll(async () => {
    db = await createDatabase('pipeline');
    dir = mkdtempSync(join(tmpdir(), 'cdc-pipeline-'));
    await sql(db.url, SCHEMA);
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('snapshots existing rows, streams every kind of change, and a followed and a later bootstrapped replica both equal the source', async () => {
    const source = start();
    await source.waitForOutput(/streaming changes/, 60_000);
    expect(source.stderr()).toMatch(/public\.audit_log is not captured.*PRIMARY KEY/);

    const followed = join(dir, 'followed.db');
    const follower = sink('followed', followed, 'bootstrap', true);
    for (let round = 1; round <= 3; round++) await applyChanges(db.url, round);
    await converged(followed);

    const later = join(dir, 'later.db');
    const result = await runCliToEnd(['bootstrap', 'later', '--log', kafka, '--replica', later, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(await differences(db.url, later, TABLES)).toEqual([]);
    // The keyless table stays out of the log and the replica, and is not a failure.
    expect((await differences(db.url, later, TABLES)).length).toBe(0);

    await stop(follower);
    await stop(source);
  });

  it('loses and duplicates nothing when cdc start and cdc sink are stopped and restarted mid-stream', async () => {
    const followed = join(dir, 'followed.db');
    let source = start();
    await source.waitForOutput(/streaming changes/, 60_000);
    let follower = sink('followed', followed, 'sink');

    // A steady write load while both processes are stopped and started in turn.
    let writing = true;
    let round = 10;
    const load = (async () => {
      while (writing) await applyChanges(db.url, round++);
    })();
    try {
      await waitFor(() => round > 12, { timeoutMs: 60_000, what: 'write load under way' });
      await stop(source);
      await waitFor(() => round > 14, { timeoutMs: 60_000, what: 'writes while cdc start is down' });
      source = start();
      await source.waitForOutput(/streaming changes/, 60_000);
      await stop(follower);
      await waitFor(() => round > 16, { timeoutMs: 60_000, what: 'writes while cdc sink is down' });
      follower = sink('followed', followed, 'sink');
      await waitFor(() => round > 18, { timeoutMs: 60_000, what: 'writes after restarts' });
    } finally {
      writing = false;
      await load;
    }
    await converged(followed);

    // A replica bootstrapped now, from offset zero of topics that hold the restarts, is equal too.
    const fresh = join(dir, 'fresh.db');
    const result = await runCliToEnd(['bootstrap', 'fresh', '--log', kafka, '--replica', fresh, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(await differences(db.url, fresh, TABLES)).toEqual([]);

    // The slot has confirmed everything: the commit of the last change the replica holds is at or
    // before the slot's confirmed position, so nothing is left for a restart to send again.
    const last = readReplicaStatus(followed).lsn;
    expect(last).not.toBeNull();
    await waitFor(async () => {
      const [row] = await sql<{ ok: boolean }>(db.url, 'SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [slot, last]);
      return row?.ok === true;
    }, { timeoutMs: 30_000, what: `the slot to confirm past ${last ?? '?'}` });
    await stop(follower);
    await stop(source);
  });
});
