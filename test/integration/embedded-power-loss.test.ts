/**
 * Issue 17 item 11b: what `cdc start` has confirmed to PostgreSQL must survive a power loss of the
 * embedded log's machine — PostgreSQL recycles the WAL behind a confirmed position, so a record
 * lost after its confirmation is lost for good. A new topic (a table created while cdc runs) gets
 * a new directory, a settings file and segments; each directory entry is durable only once its
 * parent directory is fsync'd. The file-system operations of a real `cdc start` are traced and
 * replayed against a strict power-loss model (support/power-loss.ts) at the moment the slot shows
 * the new table's row confirmed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, REPO_ROOT, runCli, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { lostOnPowerLoss, readTrace } from './support/power-loss.js';

describe('embedded log: what is confirmed survives a power loss', () => {
  let db: TestDatabase;
  let dir: string;
  let source: CliProcess | undefined;

  beforeAll(async () => {
    db = await createDatabase('power');
    dir = mkdtempSync(join(tmpdir(), 'cdc-power-'));
    await sql(db.url, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')");
  });

  afterAll(async () => {
    source?.kill('SIGKILL');
    await source?.exited;
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a table created while cdc runs: its topic's directory, settings and segments are durable once its row is confirmed", async () => {
    const log = join(dir, 'log');
    const trace = join(dir, 'fs-trace.jsonl');
    const slot = uniqueName('slot');
    const prefix = uniqueName('pl');
    source = runCli(['start', '--pg', db.url, '--log', log, '--slot', slot, '--topic-prefix', prefix, '--table-poll-ms', '300'], {
      env: { NODE_OPTIONS: `--require ${join(REPO_ROOT, 'test/harness/fs-trace.cjs')}`, CDC_FS_TRACE: trace, CDC_FS_TRACE_ROOT: dir },
    });
    await source.waitForOutput(/streaming changes/, 60_000);

    await sql(db.url, "CREATE TABLE u (id int PRIMARY KEY, v text); INSERT INTO u VALUES (1, 'new')");
    // The table is found by the next poll and read; its next row comes through the stream.
    const hw = join(log, 'topics', `${prefix}.public.u`, 'hw');
    await waitFor(() => existsSync(hw) && readFileSync(hw).length === 8 && readFileSync(hw).readBigUInt64BE(0) > 0n, { timeoutMs: 60_000, what: 'the new table in the log' });
    await sql(db.url, "INSERT INTO u VALUES (2, 'streamed')");
    const [{ lsn } = { lsn: '' }] = await sql<{ lsn: string }>(db.url, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      async () => (await sql<{ ok: boolean }>(db.url, 'SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $2', [lsn, slot]))[0]?.ok,
      { timeoutMs: 60_000, intervalMs: 100, what: "cdc start to confirm the new table's row" },
    );
    // The power goes out now: only what the trace made durable so far counts.
    const ops = readTrace(trace);

    const topicsDir = join(log, 'topics');
    const entries = [log, topicsDir];
    const files: string[] = [];
    for (const topic of [`${prefix}.public.t`, `${prefix}.public.u`, `${prefix}._schemas`]) {
      const topicDir = join(topicsDir, topic);
      const segments = readdirSync(topicDir).filter((n) => n.endsWith('.seg')).map((n) => join(topicDir, n));
      expect(segments.length, topic).toBeGreaterThan(0);
      entries.push(topicDir, join(topicDir, 'settings.json'), ...segments);
      files.push(...segments);
    }
    expect(lostOnPowerLoss(ops, entries, files)).toEqual([]);
  });
});
