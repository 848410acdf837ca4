/**
 * A table dropped and created again under the same name while a sink follows: the new table's rows
 * may reach the sink before its definition in `_schemas` (they are in another topic). The sink must
 * wait for the definition, never skip the rows and commit past them. Several rounds, on both logs.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCli, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, replicaHasTable, tableDifferences } from './support/expect-values.js';

for (const kind of ['embedded', 'kafka'] as const) {
  describe(`a table dropped and created again while a sink follows (${kind})`, () => {
    let db: TestDatabase;
    let dir: string;
    const running: CliProcess[] = [];
    const prefix = uniqueName('rc');
    const log = (): string => (kind === 'kafka' ? `kafka://${services().kafkaBrokers}` : join(dir, 'log'));
    const replica = (): string => join(dir, 'followed.db');
    const tails = (): string => running.map((p) => p.stderr().slice(-2000)).join('\n---\n');

    beforeAll(async () => {
      db = await createDatabase('recreate');
      dir = mkdtempSync(join(tmpdir(), 'cdc-rc-'));
      await sql(db.url, `CREATE TABLE again (id int PRIMARY KEY, v text); INSERT INTO again VALUES (1, 'life 0'); CREATE TABLE other (id int PRIMARY KEY)`);
      const source = runCli(['start', '--pg', db.url, '--log', log(), '--slot', uniqueName('slot'), '--topic-prefix', prefix, '--table-poll-ms', '200']);
      running.push(source);
      await source.waitForOutput(/streaming changes/, 60_000);
      running.push(runCli(['bootstrap', 'followed', '--log', log(), '--replica', replica(), '--topic-prefix', prefix, '--follow']));
    });

    afterAll(async () => {
      for (const p of running) p.kill('SIGKILL');
      await Promise.all(running.map((p) => p.exited));
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('every life of the table reaches the replica whole', async () => {
      const equal = async (): Promise<string[]> => {
        try {
          return tableDifferences(await readSource(db.url, 'public', 'again'), replica(), 'again');
        } catch (e) {
          return [(e as Error).message];
        }
      };
      for (let life = 1; life <= 4; life++) {
        await waitFor(async () => ((await equal()).length === 0 ? true : undefined), { timeoutMs: 30_000, what: `life ${life - 1} in the replica` }).catch(async (e: Error) => {
          throw new Error(`${e.message}\n${(await equal()).slice(0, 5).join('\n')}\n${tails()}`);
        });
        await sql(db.url, 'DROP TABLE again');
        await waitFor(() => (replicaHasTable(replica(), 'again') ? undefined : true), { timeoutMs: 30_000, what: `life ${life - 1} dropped from the replica` });
        await sql(db.url, `CREATE TABLE again (id int PRIMARY KEY, v text); INSERT INTO again SELECT g, 'life ${life}' FROM generate_series(1, ${life * 5}) g`);
      }
      await waitFor(async () => ((await equal()).length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the last life in the replica' }).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${(await equal()).slice(0, 5).join('\n')}\n${tails()}`);
      });
    }, 200_000);
  });
}
