/**
 * Issue 17 item 11a on a real `cdc start`: the embedded cleaner merges and deletes segments while
 * sinks read them. A reader that listed a segment the cleaner then deleted must list again, not
 * exit with ENOENT. Tiny segments, a cleaner every 20 ms under a steady stream of updates, and
 * readers on a slow disk (each segment open waits, test/harness/slow-open.cjs) make the race
 * frequent; bootstraps from offset zero run one after another through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, REPO_ROOT, runCli, runCliToEnd, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { differences, type TableSpec } from './support/compare.js';
import { cleanUp } from './support/clean-up.js';

const TABLES: TableSpec[] = [{ source: 'public.churn', replica: 'churn', key: ['id'], columns: { id: 'int', n: 'int', pad: 'text' } }];
const SLOW_DISK = { NODE_OPTIONS: `--require ${join(REPO_ROOT, 'test/harness/slow-open.cjs')}`, CDC_SLOW_OPEN_MS: '30' };

describe('embedded log: readers and the cleaner at once', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];

  beforeAll(async () => {
    db = await createDatabase('race');
    dir = mkdtempSync(join(tmpdir(), 'cdc-race-'));
    await sql(db.url, `CREATE TABLE churn (id int PRIMARY KEY, n int NOT NULL, pad text);
      INSERT INTO churn SELECT g, 0, repeat('x', 200) FROM generate_series(1, 40) g;
      CREATE PROCEDURE bump(rounds int) LANGUAGE plpgsql AS $$
      BEGIN FOR i IN 1..rounds LOOP UPDATE churn SET n = n + 1 WHERE id = 1 + i % 40; COMMIT; END LOOP; END $$;`);
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('bootstraps from offset zero while segments are merged and deleted under them all end equal to the source', async () => {
    const log = join(dir, 'log');
    const prefix = uniqueName('race');
    const slot = uniqueName('slot');
    const source = runCli(['start', '--pg', db.url, '--log', log, '--slot', slot, '--topic-prefix', prefix], {
      env: { CDC_LOG_SEGMENT_BYTES: '4096', CDC_LOG_CLEANER_INTERVAL_MS: '20' },
    });
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);

    let writing = true;
    const load = (async () => {
      while (writing) await sql(db.url, 'CALL bump(200)');
    })();
    try {
      for (let i = 0; i < 8; i++) {
        const r = await runCliToEnd(['bootstrap', `b${i}`, '--log', log, '--replica', join(dir, `b${i}.db`), '--topic-prefix', prefix], { timeoutMs: 120_000, env: SLOW_DISK });
        expect(r.code, `bootstrap ${i}: ${r.stderr.slice(-1500)}`).toBe(0);
      }
    } finally {
      writing = false;
      await load;
    }
    // Once cdc start has everything, a last bootstrap equals the source.
    const [{ lsn } = { lsn: '' }] = await sql<{ lsn: string }>(db.url, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      async () => (await sql<{ ok: boolean }>(db.url, 'SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $2', [lsn, slot]))[0]?.ok,
      { timeoutMs: 60_000, intervalMs: 200, what: 'cdc start to confirm the last update' },
    );
    const last = join(dir, 'last.db');
    const r = await runCliToEnd(['bootstrap', 'last', '--log', log, '--replica', last, '--topic-prefix', prefix], { timeoutMs: 120_000, env: SLOW_DISK });
    expect(r.code, r.stderr).toBe(0);
    expect(await differences(db.url, last, TABLES)).toEqual([]);
  }, 600_000);
});
