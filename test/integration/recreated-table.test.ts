/**
 * A table dropped and created again under the same name while a sink follows: the new table's rows
 * may reach the sink before its definition in `_schemas` (they are in another topic). The sink must
 * wait for the definition, never skip the rows and commit past them. Several rounds, on both logs.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/index.js';
import { DirLog, KafkaLog, schemaTopic, type ConsumeOptions, type Consumption, type LogBatch, type TopicLog } from '../../compaction/index.js';
import { runSink } from '../../sink-sqlite/index.js';
import { createDatabase, runCli, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, replicaHasTable, tableDifferences } from './support/expect-values.js';
import { cleanUp } from './support/clean-up.js';

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

    afterAll(() => cleanUp({ running, db, dir }));

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

/**
 * The same race made certain: a sink whose log hands over each batch of `_schemas` only after the
 * next batch of a table topic (or after a second, when none comes), so the new table's rows always
 * come before its definition.
 */
function definitionsLate(inner: TopicLog, schemas: string): TopicLog {
  const wrapper = Object.create(inner) as TopicLog;
  wrapper.consume = (options: ConsumeOptions): Promise<Consumption> => {
    // Reading the definitions alone (to their end) must not wait for a table batch that never comes.
    if (![...options.from.keys()].some((t) => t !== schemas)) return inner.consume(options);
    let held: LogBatch[] = [];
    // Every call of the sink's onBatch goes through this chain: never two at once.
    let chain: Promise<void> = Promise.resolve();
    const serial = (work: () => Promise<void>): Promise<void> => (chain = chain.then(work));
    const release = (): Promise<void> =>
      serial(async () => {
        const late = held;
        held = [];
        for (const b of late) await options.onBatch(b);
      });
    return inner.consume({
      ...options,
      onBatch: async (batch) => {
        if (batch.topic === schemas) {
          held.push(batch);
          setTimeout(() => void release().catch(() => undefined), 1000);
          return;
        }
        await serial(() => options.onBatch(batch));
        await release();
      },
    });
  };
  return wrapper;
}

for (const kind of ['embedded', 'kafka'] as const) {
  describe(`a table dropped and created again, its new definition read after its rows (${kind})`, () => {
    it('the sink reads the definitions again instead of skipping the rows', async () => {
      const db = await createDatabase('recreate_late');
      const dir = mkdtempSync(join(tmpdir(), 'cdc-rcl-'));
      const prefix = uniqueName('rcl');
      const logUrl = kind === 'kafka' ? `kafka://${services().kafkaBrokers}` : join(dir, 'log');
      const inner: TopicLog = kind === 'kafka' ? new KafkaLog({ brokers: services().kafkaBrokers.split(','), logger: silentLogger }) : new DirLog({ path: logUrl, logger: silentLogger });
      const stop = new AbortController();
      let source: CliProcess | undefined;
      let sink: Promise<void> | undefined;
      try {
        await sql(db.url, `CREATE TABLE again (id int PRIMARY KEY, v text); INSERT INTO again VALUES (1, 'life 0')`);
        source = runCli(['start', '--pg', db.url, '--log', logUrl, '--slot', uniqueName('slot'), '--topic-prefix', prefix, '--table-poll-ms', '200']);
        await source.waitForOutput(/streaming changes/, 60_000);
        const replica = join(dir, 'late.db');
        sink = runSink({ name: 'late', replicaPath: replica, prefix, mode: 'bootstrap', follow: true, retryWindowMs: 60_000 }, { log: definitionsLate(inner, schemaTopic(prefix)), logger: silentLogger }, stop.signal);
        sink.catch(() => undefined);
        const equal = async (): Promise<string[]> => {
          try {
            return tableDifferences(await readSource(db.url, 'public', 'again'), replica, 'again');
          } catch (e) {
            return [(e as Error).message];
          }
        };
        await waitFor(async () => ((await equal()).length === 0 ? true : undefined), { timeoutMs: 60_000, what: 'life 0 in the replica' });
        for (let life = 1; life <= 3; life++) {
          // Dropped in the replica first (a drop record read), so that the new table's rows find
          // no table there: the moment the sink used to skip them.
          await sql(db.url, 'DROP TABLE again');
          await waitFor(() => (replicaHasTable(replica, 'again') ? undefined : true), { timeoutMs: 30_000, what: `life ${life - 1} dropped from the replica` });
          await sql(db.url, `CREATE TABLE again (id int PRIMARY KEY, v text); INSERT INTO again SELECT g, 'life ${life}' FROM generate_series(1, ${life * 5}) g`);
          await waitFor(async () => ((await equal()).length === 0 ? true : undefined), { timeoutMs: 60_000, what: `life ${life} in the replica` }).catch(async (e: Error) => {
            throw new Error(`${e.message}\n${(await equal()).slice(0, 5).join('\n')}\n${source?.stderr().slice(-2000) ?? ''}`);
          });
        }
      } finally {
        stop.abort();
        await sink?.catch(() => undefined);
        source?.kill('SIGKILL');
        await source?.exited;
        await inner.close();
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 240_000);
  });
}
