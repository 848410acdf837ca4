/**
 * `cdc` on one machine with nothing but PostgreSQL: the embedded log under a real `cdc start`,
 * and the reason compacted topics exist — 100 keys updated 600,000 times leave a log of a few MB,
 * from which a new replica equal to the source is built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCli, runCliToEnd, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { differences, type TableSpec } from './support/compare.js';

const TABLES: TableSpec[] = [{ source: 'public.counters', replica: 'counters', key: ['id'], columns: { id: 'int', n: 'int', note: 'text' } }];

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

describe('the embedded log under cdc start', () => {
  let db: TestDatabase;
  let dir: string;
  let source: CliProcess | undefined;
  const slot = uniqueName('slot');

  beforeAll(async () => {
    db = await createDatabase('embedded');
    dir = mkdtempSync(join(tmpdir(), 'cdc-embedded-pipeline-'));
    await sql(db.url, `CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL, note text);
      INSERT INTO counters SELECT g, 0, 'counter ' || g FROM generate_series(1, 100) g;
      CREATE PROCEDURE bump(rounds int) LANGUAGE plpgsql AS $$
      BEGIN FOR i IN 1..rounds LOOP UPDATE counters SET n = n + 1; COMMIT; END LOOP; END $$;`);
  });

  afterAll(async () => {
    source?.kill('SIGKILL');
    await source?.exited;
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('100 keys updated 600,000 times leave a log of a few MB, and a replica bootstrapped from it equals the source', async () => {
    const log = join(dir, 'log');
    source = runCli(['start', '--pg', db.url, '--log', log, '--slot', slot], {
      env: { CDC_LOG_SEGMENT_BYTES: String(256 * 1024), CDC_LOG_CLEANER_INTERVAL_MS: '500' },
    });
    await source.waitForOutput(/streaming changes/, 60_000);
    const follower = runCli(['bootstrap', 'live', '--log', log, '--replica', join(dir, 'live.db'), '--follow']);

    await sql(db.url, 'CALL bump(6000)');
    const [{ lsn } = { lsn: '' }] = await sql<{ lsn: string }>(db.url, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      async () => (await sql<{ ok: boolean }>(db.url, 'SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $2', [lsn, slot]))[0]?.ok,
      { timeoutMs: 180_000, intervalMs: 500, what: 'cdc start to confirm 600,000 changes' },
    );
    // 600,100 records of ~200 bytes were written; compaction brings the log down to a few MB.
    await waitFor(() => bytesUnder(log) < 4 * 1024 * 1024, { timeoutMs: 120_000, intervalMs: 500, what: `the log to be compacted (now ${bytesUnder(log)} bytes)` });

    await waitFor(async () => ((await differences(db.url, join(dir, 'live.db'), TABLES)).length === 0 ? true : undefined), { timeoutMs: 120_000, what: 'the followed replica to catch up' });
    follower.kill('SIGTERM');
    expect((await follower.exited).code).toBe(0);

    const fresh = join(dir, 'fresh.db');
    const r = await runCliToEnd(['bootstrap', 'fresh', '--log', log, '--replica', fresh], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(await differences(db.url, fresh, TABLES)).toEqual([]);
    const [{ n } = { n: '' }] = await sql<{ n: string }>(db.url, 'SELECT min(n)::text AS n FROM counters');
    expect(n).toBe('6000');

    source.kill('SIGTERM');
    expect((await source.exited).code).toBe(0);
  });
});
