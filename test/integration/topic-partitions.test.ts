/**
 * A table topic that already exists with several partitions (made by hand, or by a cluster default)
 * is refused by `cdc start` with the topic, the partition count and the fix: cdc reads partition 0
 * only, and end offsets would count records it never reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, kafkaClient, runCli, runCliToEnd, services, sql, uniqueName, type CliProcess, type TestDatabase } from '../harness/index.js';

describe('a topic with several partitions', () => {
  let db: TestDatabase;
  const prefix = uniqueName('tp');
  const kafka = (): string => `kafka://${services().kafkaBrokers}`;
  const running: CliProcess[] = [];

  const createTopic = async (topic: string): Promise<void> => {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    db = await createDatabase('parts');
    await sql(db.url, `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')`);
  });

  afterAll(async () => {
    for (const p of running) p.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await db?.drop();
  });

  it('is refused at start, naming the topic, the partition count and the fix', async () => {
    await createTopic(`${prefix}.public.t`);
    const r = await runCliToEnd(['start', '--pg', db.url, '--log', kafka(), '--slot', uniqueName('slot'), '--topic-prefix', prefix], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${prefix}.public.t`);
    expect(r.stderr).toMatch(/3 partitions/);
    expect(r.stderr).toMatch(/kafka-topics\.sh .*--delete --topic/);
  });

  it('is refused when its table appears while cdc start runs', async () => {
    const prefix2 = uniqueName('tp');
    const p = runCli(['start', '--pg', db.url, '--log', kafka(), '--slot', uniqueName('slot'), '--topic-prefix', prefix2, '--table-poll-ms', '300']);
    running.push(p);
    await p.waitForOutput(/streaming changes/, 60_000);
    await createTopic(`${prefix2}.public.later`);
    await sql(db.url, `CREATE TABLE later (id int PRIMARY KEY); INSERT INTO later VALUES (1)`);
    const r = await p.exited;
    expect(r.code, r.stderr.slice(-3000)).toBe(2);
    expect(r.stderr).toContain(`${prefix2}.public.later`);
    expect(r.stderr).toMatch(/3 partitions/);
  });
});
