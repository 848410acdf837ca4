/**
 * Rows as large as PostgreSQL holds in practice: a 3.2 MB and a 50 MB text value (hex of md5s,
 * which compresses about 2:1, not to nothing) reach the replica exactly, from the snapshot and
 * from the stream, on Kafka and on the embedded log, and the other tables keep flowing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, kafkaClient, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, tableDifferences } from './support/expect-values.js';
import { cleanUp } from './support/clean-up.js';

/** An SQL expression for a text of about `mb` megabytes that does not compress to nothing. */
const bigText = (mb: number, salt: string): string => `(SELECT string_agg(md5('${salt}' || g::text), '') FROM generate_series(1, ${Math.round((mb * 1_000_000) / 32)}) g)`;

for (const kind of ['kafka', 'embedded'] as const) {
  describe(`large rows (${kind})`, () => {
    let db: TestDatabase;
    let dir: string;
    const running: CliProcess[] = [];
    const prefix = uniqueName('big');
    const slot = uniqueName('slot');
    const log = (): string => (kind === 'kafka' ? `kafka://${services().kafkaBrokers}` : join(dir, 'log'));
    const replica = (): string => join(dir, 'followed.db');

    const converged = async (table: string): Promise<void> => {
      const diffs = async (): Promise<string[]> => {
        try {
          return tableDifferences(await readSource(db.url, 'public', table), replica(), table).map((d) => d.slice(0, 300));
        } catch (e) {
          return [(e as Error).message];
        }
      };
      await waitFor(async () => ((await diffs()).length === 0 ? true : undefined), { timeoutMs: 150_000, intervalMs: 2000, what: `replica table ${table} equal to the source` }).catch(async (e: Error) => {
        const tails = running.map((p) => p.stderr().slice(-2000)).join('\n---\n');
        throw new Error(`${e.message}\n${(await diffs()).slice(0, 5).join('\n')}\n${tails}`);
      });
    };

    beforeAll(async () => {
      db = await createDatabase('big');
      dir = mkdtempSync(join(tmpdir(), 'cdc-big-'));
      await sql(
        db.url,
        `CREATE TABLE big (id int PRIMARY KEY, v text);
         CREATE TABLE small (id int PRIMARY KEY, v text);
         INSERT INTO big VALUES (1, ${bigText(3.2, 'a')}), (2, ${bigText(50, 'b')});
         INSERT INTO small VALUES (1, 'one');`,
      );
      const source = runCli(['start', '--pg', db.url, '--log', log(), '--slot', slot, '--topic-prefix', prefix, '--table-poll-ms', '500']);
      running.push(source);
      await source.waitForOutput(/streaming changes/, 120_000);
      running.push(runCli(['bootstrap', 'followed', '--log', log(), '--replica', replica(), '--topic-prefix', prefix, '--follow']));
    }, 300_000);

    afterAll(() => cleanUp({ running, db, dir }));

    it('the snapshot carries a 3.2 MB and a 50 MB value', async () => {
      await converged('big');
      await converged('small');
    }, 200_000);

    it('the stream carries them too, and the other tables keep flowing', async () => {
      await sql(db.url, `UPDATE big SET v = ${bigText(50, 'c')} WHERE id = 1; INSERT INTO big VALUES (3, ${bigText(3.2, 'd')})`);
      await sql(db.url, `INSERT INTO small VALUES (2, 'two')`);
      await converged('small');
      await converged('big');
    }, 200_000);
  });
}

describe('a row beyond what the topic accepts (kafka)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createDatabase('toobig');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('stops cdc start with an error that names the table, the key and the setting to raise', async () => {
    const prefix = uniqueName('big');
    const topic = `${prefix}.public.big`;
    // A topic made by hand with Kafka's default limit (1 MiB).
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'max.message.bytes', value: '1048588' }] }] });
    } finally {
      await admin.disconnect();
    }
    await sql(db.url, `CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big VALUES (42, ${bigText(3.2, 'e')})`);
    const r = await runCliToEnd(['start', '--pg', db.url, '--log', `kafka://${services().kafkaBrokers}`, '--slot', uniqueName('slot'), '--topic-prefix', prefix], { timeoutMs: 120_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`topic ${prefix.replace(/[.]/g, '\\.')}\\.public\\.big with key \\S*42`));
    expect(r.stderr).toMatch(/--entity-name \S+ --add-config max\.message\.bytes=\d+/);
  }, 150_000);
});
