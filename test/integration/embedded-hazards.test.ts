/**
 * The embedded log's cleaner drops tombstones older than the topic's delete retention, as Kafka
 * does, so a sink that comes back with unread records older than that is refused with the same
 * rebuild hint as on Kafka (the embedded log describes its topics and finds offsets by time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCli, runCliToEnd, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { cleanUp } from './support/clean-up.js';

describe('embedded log: tombstones a sink may have missed', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];

  beforeAll(async () => {
    db = await createDatabase('ehz');
    dir = mkdtempSync(join(tmpdir(), 'cdc-ehz-'));
    await sql(db.url, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g");
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('a sink with unread records older than the delete retention refuses and says to rebuild', async () => {
    const prefix = uniqueName('ehz');
    const log = join(dir, 'log');
    const start = runCli(['start', '--pg', db.url, '--log', log, '--slot', uniqueName('slot'), '--topic-prefix', prefix]);
    running.push(start);
    await start.waitForOutput(/streaming changes/, 60_000);
    const topic = `${prefix}.public.t`;
    const replica = join(dir, 'stale.db');
    const boot = await runCliToEnd(['bootstrap', 'app', '--log', log, '--replica', replica, '--topic-prefix', prefix]);
    expect(boot.code, boot.stderr).toBe(0);

    // Tombstones now live one second; deletes happen while the sink is away, longer than that.
    const topicDir = join(log, 'topics', topic);
    const settings = JSON.parse(readFileSync(join(topicDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(topicDir, 'settings.json'), JSON.stringify({ ...settings, deleteRetentionMs: 1000 }));
    const hw = (): bigint => readFileSync(join(topicDir, 'hw')).readBigUInt64BE(0);
    const before = hw();
    await sql(db.url, 'DELETE FROM t WHERE id <= 10');
    await waitFor(() => (hw() !== before ? true : undefined), { what: 'the deletes in the topic' });
    const deleted = Date.now();
    await waitFor(() => Date.now() > deleted + 1500, { what: 'the tombstone retention to pass' });

    const r = await runCliToEnd(['sink', 'app', '--log', log, '--replica', replica, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`deletes may have been compacted away unseen: ${topic.replace(/\./g, '\\.')} \\(last read .*delete.retention.ms 1000`));
    expect(r.stderr).toMatch(/^Try: run cdc rebuild app --log \S+ --replica /m);
  });
});
