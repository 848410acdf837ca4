/**
 * Schema changes while `cdc start` runs, each followed by a live replica and, at the end, by a
 * replica bootstrapped from offset zero: ADD COLUMN with defaults (constant and volatile), DROP
 * COLUMN, a type change, primary-key value changes and a changed primary key, a rename, a table
 * created with rows (with identifiers that need quoting everywhere), TRUNCATE, a table that loses
 * its key, DROP TABLE, and a table dropped and created again under the same name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, replicaHasTable, tableDifferences } from './support/expect-values.js';
import { latestByKey, liveRows } from './support/topic.js';
import { cleanUp } from './support/clean-up.js';

const ODD_SCHEMA = 'My "Odd" Schema';
const ODD_TABLE = 'select.from Table';
const ODD = `"My ""Odd"" Schema"."select.from Table"`;
/** The odd table's topic, encoded by the rule in docs/topics.md. */
const ODD_TOPIC_SUFFIX = 'My-20-22Odd-22-20Schema.select-2efrom-20Table';

describe('schema changes followed', () => {
  let db: TestDatabase;
  let dir: string;
  let source: CliProcess;
  let sourceExited = false;
  const running: CliProcess[] = [];
  const prefix = uniqueName('sc');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const followed = (): string => join(dir, 'followed.db');

  /** Waits until the followed replica's `replica` table equals the source's `schema.table`. */
  const converged = async (schema: string, table: string, replica = schema === 'public' ? table : `${schema}.${table}`, path = followed()): Promise<void> => {
    const diffs = async (): Promise<string[]> => {
      try {
        return tableDifferences(await readSource(db.url, schema, table), path, replica);
      } catch (e) {
        return [(e as Error).message];
      }
    };
    await waitFor(async () => ((await diffs()).length === 0 ? true : undefined), { timeoutMs: 30_000, what: `replica table ${replica} equal to ${schema}.${table}` }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await diffs()).slice(0, 10).join('\n')}\ncdc start:\n${source.stderr().slice(-3000)}`);
    });
  };
  const gone = (table: string): Promise<true> =>
    waitFor(() => (replicaHasTable(followed(), table) ? undefined : true), { timeoutMs: 30_000, what: `replica table ${table} dropped` }).catch((e: Error) => {
      throw new Error(`${e.message}\ncdc start:\n${source.stderr().slice(-3000)}`);
    });

  beforeAll(async () => {
    db = await createDatabase('schema');
    dir = mkdtempSync(join(tmpdir(), 'cdc-schema-'));
    await sql(
      db.url,
      `CREATE TABLE base (id int PRIMARY KEY, a int, b text);
       INSERT INTO base SELECT g, g, 'b' || g FROM generate_series(1, 20) g;
       CREATE TABLE keyed (id int PRIMARY KEY, v text);
       INSERT INTO keyed SELECT g, 'v' || g FROM generate_series(1, 5) g;
       CREATE TABLE again (id int PRIMARY KEY, v text);
       INSERT INTO again VALUES (1, 'first life'), (2, 'first life');`,
    );
    source = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--table-poll-ms', '300']);
    running.push(source);
    void source.exited.then(() => (sourceExited = true));
    await source.waitForOutput(/streaming changes/, 60_000);
    running.push(runCli(['bootstrap', 'followed', '--log', kafka, '--replica', followed(), '--topic-prefix', prefix, '--follow']));
    await converged('public', 'base');
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('ADD COLUMN with a constant and a volatile default fills the existing rows', async () => {
    await sql(db.url, `ALTER TABLE base ADD COLUMN c text NOT NULL DEFAULT 'dflt', ADD COLUMN r double precision DEFAULT random()`);
    await converged('public', 'base');
    await sql(db.url, `INSERT INTO base (id, a, b) VALUES (100, 100, 'after add')`);
    await converged('public', 'base');
  });

  it('DROP COLUMN and a type change', async () => {
    await sql(db.url, `ALTER TABLE base DROP COLUMN b`);
    await converged('public', 'base');
    await sql(db.url, `ALTER TABLE base ALTER COLUMN a TYPE numeric(20,3) USING a * 1.5; UPDATE base SET a = a + 0.001 WHERE id = 2`);
    await converged('public', 'base');
  });

  it('primary-key value changes and a changed primary key', async () => {
    await sql(db.url, `UPDATE base SET id = id + 1000 WHERE id <= 3`);
    await converged('public', 'base');
    await sql(db.url, `UPDATE base SET c = 'k' || (id % 4); ALTER TABLE base DROP CONSTRAINT base_pkey, ADD PRIMARY KEY (c, id)`);
    await converged('public', 'base');
    await sql(db.url, `UPDATE base SET c = 'moved' WHERE id = 5; DELETE FROM base WHERE id = 6`);
    await converged('public', 'base');
    // No record under the old key is left live: compaction would otherwise keep such rows forever.
    for (const key of liveRows(await latestByKey(`${prefix}.public.base`)).keys()) expect(Object.keys(JSON.parse(key) as object)).toEqual(['c', 'id']);
  });

  it('a renamed table moves to its new name', async () => {
    await sql(db.url, `ALTER TABLE base RENAME TO renamed`);
    await converged('public', 'renamed');
    await gone('base');
    await sql(db.url, `INSERT INTO renamed (id, a, c) VALUES (200, 1, 'x')`);
    await converged('public', 'renamed');
  });

  it('a table created while running is captured with its existing rows; identifiers are quoted everywhere', async () => {
    await sql(
      db.url,
      `CREATE SCHEMA "My ""Odd"" Schema";
       CREATE TABLE ${ODD} ("Order" int, "a b" text, "x.y" bigint, "select" text, PRIMARY KEY ("Order", "a b"));
       INSERT INTO ${ODD} SELECT g, 'k ' || g, g * 10, 'it''s "q"' FROM generate_series(1, 10) g;`,
    );
    await converged(ODD_SCHEMA, ODD_TABLE);
    await sql(db.url, `UPDATE ${ODD} SET "x.y" = -1 WHERE "Order" < 4; DELETE FROM ${ODD} WHERE "Order" = 5; UPDATE ${ODD} SET "a b" = 'new key' WHERE "Order" = 6`);
    await converged(ODD_SCHEMA, ODD_TABLE);
    expect(liveRows(await latestByKey(`${prefix}.${ODD_TOPIC_SUFFIX}`)).size).toBe(9);
  });

  it('TRUNCATE empties the replica, and no truncated row is live in the topic', async () => {
    await sql(db.url, `BEGIN; INSERT INTO renamed (id, a, c) VALUES (300, 3, 'before'); TRUNCATE renamed; INSERT INTO renamed (id, a, c) VALUES (1, 1, 'after'); COMMIT`);
    await converged('public', 'renamed');
    const live = liveRows(await latestByKey(`${prefix}.public.renamed`));
    expect([...live.keys()]).toEqual([JSON.stringify({ c: 'after', id: '1' })]);
  });

  it('a table that loses its key is reported and left out, blocks neither the source nor the pipeline, and is read again with a key', async () => {
    // The INSERT in the same transaction reaches the stream after the key is gone.
    await sql(db.url, `BEGIN; ALTER TABLE keyed DROP CONSTRAINT keyed_pkey; INSERT INTO keyed VALUES (10, 'no key'); COMMIT`);
    await source.waitForOutput(/public\.keyed is not captured.*PRIMARY KEY/, 30_000);
    // Out of the publication: PostgreSQL accepts UPDATE and DELETE on it again.
    await waitFor(
      async () => {
        try {
          await sql(db.url, `UPDATE keyed SET v = 'updated' WHERE id = 1`);
          return true;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 30_000, what: 'UPDATE on the keyless table accepted' },
    );
    await sql(db.url, `INSERT INTO renamed (id, a, c) VALUES (2, 2, 'still flowing')`);
    await converged('public', 'renamed');
    expect(sourceExited).toBe(false);
    // With a key again it is read in full, with what changed while it had none.
    await sql(db.url, `ALTER TABLE keyed ADD PRIMARY KEY (id)`);
    await converged('public', 'keyed');
  });

  it('DROP TABLE drops the replica table, also when a table of that name comes back', async () => {
    await sql(db.url, `DROP TABLE ${ODD}`);
    await gone(`${ODD_SCHEMA}.${ODD_TABLE}`);
    expect(liveRows(await latestByKey(`${prefix}.${ODD_TOPIC_SUFFIX}`)).size).toBe(0);
    await sql(db.url, `DROP TABLE again; CREATE TABLE again (id int PRIMARY KEY, v text, w int); INSERT INTO again VALUES (2, 'second life', 2), (3, 'second life', 3)`);
    await converged('public', 'again');
  });

  it('DDL and rows changed while cdc start is down are followed after its restart', async () => {
    source.kill('SIGTERM');
    expect((await source.exited).code).toBe(0);
    await sql(
      db.url,
      `UPDATE renamed SET a = a + 1; ALTER TABLE renamed ADD COLUMN z int NOT NULL DEFAULT 42;
       CREATE TABLE while_down (id int PRIMARY KEY, v text); INSERT INTO while_down SELECT g, 'w' || g FROM generate_series(1, 5) g;`,
    );
    source = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--table-poll-ms', '300']);
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);
    await converged('public', 'renamed');
    await converged('public', 'while_down');
  });

  it('a replica bootstrapped from offset zero afterwards ends in the same state', async () => {
    const fresh = join(dir, 'fresh.db');
    const result = await runCliToEnd(['bootstrap', 'fresh', '--log', kafka, '--replica', fresh, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    for (const [schema, table] of [['public', 'renamed'], ['public', 'again'], ['public', 'while_down'], ['public', 'keyed']] as const) {
      expect(tableDifferences(await readSource(db.url, schema, table), fresh, table)).toEqual([]);
    }
    expect(replicaHasTable(fresh, 'base')).toBe(false);
    expect(replicaHasTable(fresh, `${ODD_SCHEMA}.${ODD_TABLE}`)).toBe(false);

  });
});
