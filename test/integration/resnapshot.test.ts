/**
 * `cdc resnapshot`: a chosen table read again while `cdc start` runs and the application keeps
 * updating it. The read happens where the request is in the WAL, so every change after it lands
 * after the rows read: the replica ends equal to the source, no older value winning. A key the
 * topic holds that the table does not (planted here) gets a tombstone. `cdc start` killed -9 in the
 * middle of the read resumes it after the last chunk the log holds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, kafkaClient, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { differences, type TableSpec } from './support/compare.js';
import { readTopic } from './support/topic.js';
import { cleanUp } from './support/clean-up.js';

const ROWS = 25_000;
const TABLES: TableSpec[] = [{ source: 'public.items', replica: 'items', key: ['id'], columns: { id: 'int', v: 'int', note: 'text' } }];

/** Updates random rows, each to a larger value than it had, until stopped. */
function updateLoad(url: string): { stop: () => Promise<number> } {
  let running = true;
  let done = 0;
  const loop = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      while (running) {
        const id = 1 + Math.floor(Math.random() * ROWS);
        await client.query("UPDATE items SET v = v + 1, note = 'updated ' || (v + 1) WHERE id = $1 OR id = $2", [id, ROWS + 1 - id]);
        done++;
      }
    } finally {
      await client.end();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return done;
    },
  };
}

describe('cdc resnapshot beside a running cdc start', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];
  let source: CliProcess;
  const prefix = uniqueName('rs');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const topic = `${prefix}.public.items`;
  const replica = (): string => join(dir, 'replica.db');
  const start = (env: Record<string, string> = {}): CliProcess => {
    const p = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix], { env });
    running.push(p);
    return p;
  };
  const converged = (): Promise<true> =>
    waitFor(async () => ((await differences(db.url, replica(), TABLES)).length === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 500, what: 'replica equal to the source' }).catch(async (e: Error) => {
      const diffs = await differences(db.url, replica(), TABLES);
      throw new Error(`${e.message}: ${diffs.length} differences, first ${diffs.slice(0, 5).join(' | ')}\n${running.map((p) => p.stderr().slice(-2000)).join('\n---\n')}`);
    });

  beforeAll(async () => {
    db = await createDatabase('resnap');
    dir = mkdtempSync(join(tmpdir(), 'cdc-resnapshot-'));
    await sql(db.url, `CREATE TABLE items (id int PRIMARY KEY, v bigint NOT NULL, note text); INSERT INTO items SELECT g, 0, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('reads the table again under concurrent updates, tombstones keys the table lacks, and resumes after kill -9', async () => {
    // The first read passes 3 chunks of 10 000 rows; the 5th chunk is the re-read's second.
    source = start({ CDC_CRASH_AT: 'snapshot-chunk:5' });
    await source.waitForOutput(/streaming changes/, 90_000);
    running.push(runCli(['bootstrap', 'rs', '--log', kafka, '--replica', replica(), '--topic-prefix', prefix, '--follow']));
    await converged();

    // A key in the topic that the table does not have (as after a delete no slot saw).
    let sample: string | null = null;
    await readTopic(topic, (r) => (sample ??= r.value));
    const planted = JSON.parse(sample ?? '{}') as { after: Record<string, string | null> };
    planted.after = { ...planted.after, id: '999999', v: '7', note: 'planted' };
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: '{"id":"999999"}', value: JSON.stringify(planted) }] });
    await producer.disconnect();

    const load = updateLoad(db.url);
    const request = runCli(['resnapshot', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--tables', 'items']);
    running.push(request);
    // Killed -9 in the middle of the re-read; started again, it resumes.
    const crashed = await source.exited;
    expect(crashed.stderr).toMatch(/crash point snapshot-chunk reached \(5\)/);
    source = start();
    await source.waitForOutput(/snapshot resumes.*"table":"public\.items"/, 90_000);
    const asked = await request.exited;
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toMatch(/public\.items: read again \(\d+ rows\)/);
    const updates = await load.stop();
    expect(updates).toBeGreaterThan(50);
    await converged();
    // The planted key has a tombstone as its latest record.
    let last: string | null | undefined;
    await readTopic(topic, (r) => {
      if (r.key === '{"id":"999999"}') last = r.value;
    });
    expect(last).toBeNull();
  }, 300_000);

  it('refuses a table that is not there, and says when cdc start is not running', async () => {
    const unknown = await runCliToEnd(['resnapshot', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--tables', 'nosuch']);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain('[TABLE_UNKNOWN]');
    source.kill('SIGTERM');
    await waitFor(async () => ((await sql<{ active: boolean }>(db.url, 'SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]))[0]?.active === false ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the slot to be inactive',
    });
    const idle = await runCliToEnd(['resnapshot', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--tables', 'items']);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/no cdc start is reading slot \S+ now: the tables are read again when it starts/);
  });
});
