import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigResourceTypes } from 'kafkajs';
import { createDatabase, kafkaClient, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';

const NO_STACK = /\n\s+at .*:\d+:\d+\)?/;

describe('compaction hazards: lossy topic configurations and tombstones a sink may have missed', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];
  const kafka = `kafka://${services().kafkaBrokers}`;
  const admin = kafkaClient('cdc-hazards').admin();

  beforeAll(async () => {
    db = await createDatabase('hazards');
    dir = mkdtempSync(join(tmpdir(), 'cdc-hazards-'));
    await sql(db.url, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 200) g");
    await admin.connect();
  });

  afterAll(async () => {
    for (const p of running) p.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await admin.disconnect();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cdc start refuses a table topic whose cleanup policy deletes records (exit 2, the fix named)', async () => {
    const prefix = uniqueName('hz');
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: `${prefix}.public.t`, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'retention.ms', value: '3600000' }] }],
    });
    const r = await runCliToEnd(['start', '--pg', db.url, '--log', kafka, '--slot', uniqueName('slot'), '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: topic configuration would lose data: ${prefix}\\.public\\.t: cleanup.policy=compact,delete`, 'm'));
    expect(r.stderr).toMatch(/^Try: .*--add-config cleanup.policy=compact/m);
    expect(r.stdout + r.stderr).not.toMatch(NO_STACK);
  });

  it('a sink with unread records older than delete.retention.ms refuses and says to rebuild; an idle one is not refused', async () => {
    const prefix = uniqueName('hz');
    const start = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', uniqueName('slot'), '--topic-prefix', prefix]);
    running.push(start);
    await start.waitForOutput(/streaming changes/, 60_000);
    const topic = `${prefix}.public.t`;
    const stale = join(dir, 'stale.db');
    const boot = await runCliToEnd(['bootstrap', 'app', '--log', kafka, '--replica', stale, '--topic-prefix', prefix]);
    expect(boot.code, boot.stderr).toBe(0);

    // Tombstones now live one second; deletes happen while the sink is away, longer than that.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'delete.retention.ms', value: '1000' }] }] });
    const before = (await admin.fetchTopicOffsets(topic))[0]?.high;
    await sql(db.url, 'DELETE FROM t WHERE id <= 10');
    await waitFor(async () => (await admin.fetchTopicOffsets(topic))[0]?.high !== before, { what: 'the deletes in the topic' });
    const deleted = Date.now();
    await waitFor(() => Date.now() > deleted + 1500, { what: 'the tombstone retention to pass' });

    const r = await runCliToEnd(['sink', 'app', '--log', kafka, '--replica', stale, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: .*deletes may have been compacted away unseen: ${topic.replace(/\./g, '\\.')} \\(last read .*delete.retention.ms 1000`, 'm'));
    expect(r.stderr).toMatch(/^Try: run cdc rebuild app --log kafka:\/\/\S+ --replica /m);
    expect(r.stdout + r.stderr).not.toMatch(NO_STACK);

    // After a rebuild the same replica follows again; a replica with nothing left to read is not
    // refused, however old its last read (no false alarm on an idle topic).
    const rebuilt = await runCliToEnd(['rebuild', 'app', '--log', kafka, '--replica', stale, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const age = Date.now();
    await waitFor(() => Date.now() > age + 1500, { what: 'the rebuilt replica to age past the retention' });
    const sink = runCli(['sink', 'app', '--log', kafka, '--replica', stale, '--topic-prefix', prefix]);
    running.push(sink);
    // Written once the sink has passed its check: a row written before it could age past the
    // one-second retention while the sink starts, and rightly be refused as possibly missed.
    await sink.waitForOutput(/sink following the log/, 60_000);
    await sql(db.url, "INSERT INTO t VALUES (1000, 'after')");
    await waitFor(() => {
      const r2 = new Database(stale, { readonly: true });
      try {
        return r2.prepare('SELECT v FROM t WHERE id = 1000').get() !== undefined;
      } finally {
        r2.close();
      }
    }, { timeoutMs: 60_000, what: 'the sink to apply a new row' });
    sink.kill('SIGTERM');
    expect((await sink.exited).code).toBe(0);
  });
});
