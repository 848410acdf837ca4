/**
 * Schemas that production databases have, tried as a new user would (`cdc start` on Kafka with a
 * following sink): the application's own statements must keep working on every table, tables
 * PostgreSQL cannot stream are named in the log with the reason, a partitioned table is one topic
 * (partitions attached later included), and a stored generated column reaches the replica with
 * its exact values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, kafkaClient, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, tableDifferences } from './support/expect-values.js';

describe('real schemas', () => {
  let db: TestDatabase;
  let dir: string;
  let source: CliProcess;
  let temp: pg.Client;
  const running: CliProcess[] = [];
  const prefix = uniqueName('rs');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const followed = (): string => join(dir, 'followed.db');

  const converged = async (table: string): Promise<void> => {
    const diffs = async (): Promise<string[]> => {
      try {
        return tableDifferences(await readSource(db.url, 'public', table), followed(), table);
      } catch (e) {
        return [(e as Error).message];
      }
    };
    await waitFor(async () => ((await diffs()).length === 0 ? true : undefined), { timeoutMs: 45_000, what: `replica table ${table} equal to the source` }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await diffs()).slice(0, 10).join('\n')}\ncdc start:\n${source.stderr().slice(-3000)}\nsink:\n${running[1]?.stderr().slice(-3000) ?? ''}`);
    });
  };

  beforeAll(async () => {
    db = await createDatabase('realschema');
    dir = mkdtempSync(join(tmpdir(), 'cdc-real-'));
    await sql(
      db.url,
      `CREATE TABLE deferred (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
       INSERT INTO deferred VALUES (1, 'a'), (2, 'b');
       CREATE TABLE nothing (id int PRIMARY KEY, v text);
       ALTER TABLE nothing REPLICA IDENTITY NOTHING;
       INSERT INTO nothing VALUES (1, 'a'), (2, 'b');
       CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text);
       INSERT INTO scratch VALUES (1, 'a');
       CREATE TABLE measures (id int, at date, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
       CREATE TABLE measures_2025 PARTITION OF measures FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
       CREATE TABLE measures_2026 PARTITION OF measures FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
       INSERT INTO measures VALUES (1, '2025-03-01', 'old'), (2, '2026-03-01', 'new');
       CREATE TABLE gen (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED, c text);
       INSERT INTO gen (id, a, c) SELECT g, g, 'c' || g FROM generate_series(1, 5) g;`,
    );
    // A temporary table lives as long as the session that made it: it is there when cdc starts.
    temp = new pg.Client({ connectionString: db.url });
    await temp.connect();
    await temp.query('CREATE TEMPORARY TABLE scribble (id int PRIMARY KEY, v text)');
    source = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--table-poll-ms', '300']);
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);
    running.push(runCli(['bootstrap', 'followed', '--log', kafka, '--replica', followed(), '--topic-prefix', prefix, '--follow']));
  });

  afterAll(async () => {
    for (const p of running) p.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await temp?.end().catch(() => undefined);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the application's UPDATE and DELETE work on a deferrable key and on REPLICA IDENTITY NOTHING", async () => {
    await sql(db.url, `UPDATE deferred SET v = 'changed' WHERE id = 1; DELETE FROM deferred WHERE id = 2`);
    await sql(db.url, `UPDATE nothing SET v = 'changed' WHERE id = 1; DELETE FROM nothing WHERE id = 2`);
  });

  it('names every table it cannot stream, with the reason', async () => {
    await source.waitForOutput(/public\.deferred is not captured: its primary key is deferrable/, 30_000);
    await source.waitForOutput(/public\.nothing is not captured: its replica identity is NOTHING/, 30_000);
    await source.waitForOutput(/public\.scratch is not captured: it is unlogged/, 30_000);
    await source.waitForOutput(/scribble is not captured: it is a temporary table/, 30_000);
  });

  it('a partitioned table is one topic, partitions attached later included', async () => {
    await converged('measures');
    await sql(
      db.url,
      `UPDATE measures SET v = 'changed' WHERE id = 1; INSERT INTO measures VALUES (3, '2026-06-01', 'third');
       CREATE TABLE measures_2027 (id int, at date, v text, PRIMARY KEY (id, at));
       INSERT INTO measures_2027 VALUES (4, '2027-02-01', 'attached with rows');
       ALTER TABLE measures ATTACH PARTITION measures_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');`,
    );
    await sql(db.url, `INSERT INTO measures VALUES (5, '2027-05-01', 'after attach'); DELETE FROM measures WHERE id = 2`);
    await converged('measures');
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.public.measures`));
      expect(topics).toEqual([`${prefix}.public.measures`]);
    } finally {
      await admin.disconnect();
    }
  });

  it('a stored generated column has its exact values in the replica, from the snapshot and after every change', async () => {
    await converged('gen');
    await sql(db.url, `UPDATE gen SET a = a + 100 WHERE id <= 2; UPDATE gen SET c = 'only c' WHERE id = 3; INSERT INTO gen (id, a) VALUES (6, 6); DELETE FROM gen WHERE id = 5`);
    await converged('gen');
  });

  it('cdc verify finds the replica equal to the source, partitioned and generated tables included', async () => {
    const r = await runCliToEnd(['verify', '--pg', db.url, '--replica', followed(), '--tables', 'measures,gen']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
