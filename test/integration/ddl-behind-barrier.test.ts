/**
 * DDL committed after a barrier is written but before the stream reaches it (the stream is behind:
 * a large transaction in front). The work done at the barrier must not read a table with a
 * definition the stream has not reached: a change made before the DDL, streamed after the read,
 * would write the old definition last, and the replica would lose the new column.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, tableDifferences } from './support/expect-values.js';
import { cleanUp } from './support/clean-up.js';

describe('DDL behind a barrier', () => {
  let db: TestDatabase;
  let dir: string;
  let source: CliProcess;
  const running: CliProcess[] = [];
  const prefix = uniqueName('bb');
  const kafka = `kafka://${services().kafkaBrokers}`;

  const equal = async (path: string, table: string): Promise<string[]> => {
    try {
      return tableDifferences(await readSource(db.url, 'public', table), path, table);
    } catch (e) {
      return [(e as Error).message];
    }
  };
  const converged = (path: string, table: string): Promise<unknown> =>
    waitFor(async () => ((await equal(path, table)).length === 0 ? true : undefined), { timeoutMs: 60_000, what: `${table} in ${path}` }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await equal(path, table)).slice(0, 5).join('\n')}\ncdc start:\n${source.stderr().slice(-3000)}`);
    });

  beforeAll(async () => {
    db = await createDatabase('barrier');
    dir = mkdtempSync(join(tmpdir(), 'cdc-bb-'));
    await sql(db.url, `CREATE TABLE u (id int PRIMARY KEY, v text); INSERT INTO u VALUES (1, 'a'), (2, 'b'); CREATE TABLE bulk (id int PRIMARY KEY, v text)`);
    source = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', uniqueName('slot'), '--topic-prefix', prefix, '--table-poll-ms', '200']);
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);
    running.push(runCli(['bootstrap', 'followed', '--log', kafka, '--replica', join(dir, 'followed.db'), '--topic-prefix', prefix, '--follow']));
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('UPDATE then ADD COLUMN committed while the stream catches up to a barrier: the replica has the new column and its values', async () => {
    await converged(join(dir, 'followed.db'), 'u');
    // A large transaction puts the stream behind; a new table makes the next poll write a barrier
    // behind it; the UPDATE and the DDL commit after the barrier, before the stream reaches it.
    await sql(db.url, `INSERT INTO bulk SELECT g, repeat('x', 200) FROM generate_series(1, 200000) g`);
    await sql(db.url, `CREATE TABLE trig (id int PRIMARY KEY)`);
    await new Promise((r) => setTimeout(r, 1500));
    await sql(db.url, `UPDATE u SET v = 'before ddl' WHERE id = 1`);
    await sql(db.url, `ALTER TABLE u ADD COLUMN c int NOT NULL DEFAULT 5`);
    await converged(join(dir, 'followed.db'), 'u');
    await converged(join(dir, 'followed.db'), 'bulk');
    // And a replica built from offset zero afterwards.
    const fresh = join(dir, 'fresh.db');
    const r = await runCliToEnd(['bootstrap', 'fresh', '--log', kafka, '--replica', fresh, '--topic-prefix', prefix], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(r.stderr);
    await converged(fresh, 'u');
  }, 300_000);

  it('ADD COLUMN, UPDATE, DROP COLUMN within one poll interval: the replica ends with the source columns', async () => {
    await sql(db.url, `CREATE TABLE w (id int PRIMARY KEY, v text); INSERT INTO w VALUES (1, 'a'), (2, 'b')`);
    await converged(join(dir, 'followed.db'), 'w');
    const c = new (await import('pg')).default.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('ALTER TABLE w ADD COLUMN c int');
      await c.query(`UPDATE w SET v = 'with c', c = 1 WHERE id = 1`);
      await c.query('ALTER TABLE w DROP COLUMN c');
      await c.query(`UPDATE w SET v = 'without c' WHERE id = 2`);
    } finally {
      await c.end();
    }
    await converged(join(dir, 'followed.db'), 'w');
  }, 120_000);
});
