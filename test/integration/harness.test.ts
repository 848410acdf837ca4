import { afterAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  kafkaClient,
  services,
  sql,
  startPrivateKafka,
  startPrivatePostgres,
  uniqueName,
  waitFor,
} from '../harness/index.js';

// Proves the services are what the product tests assume, so their failures are about the product.
describe('test harness services', () => {
  it('PostgreSQL runs with wal_level=logical', async () => {
    const rows = await sql<{ wal_level: string }>(services().pgAdminUrl, 'SHOW wal_level');
    expect(rows[0]?.wal_level).toBe('logical');
  });

  it('PostgreSQL rejects a wrong password (28P01)', async () => {
    const url = new URL(services().pgAdminUrl);
    url.password = 'wrong-password';
    const err: unknown = await sql(url.toString(), 'SELECT 1').then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: '28P01' });
  });

  it('createDatabase gives a fresh database and drop removes it with its slots', async () => {
    const db = await createDatabase('harness');
    expect(db.name).toMatch(/^harness_[a-z0-9_]+$/);
    const [row] = await sql<{ db: string }>(db.url, 'SELECT current_database() AS db');
    expect(row?.db).toBe(db.name);
    await sql(db.url, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [uniqueName('slot')]);

    await db.drop();
    const left = await sql(db.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
    expect(left).toEqual([]);
    const slots = await sql(db.adminUrl, 'SELECT 1 FROM pg_replication_slots WHERE database = $1', [db.name]);
    expect(slots).toEqual([]);
  });

  describe('Kafka', () => {
    const kafka = kafkaClient('harness-smoke');
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const consumer = kafka.consumer({ groupId: uniqueName('harness_group') });
    afterAll(async () => {
      await Promise.allSettled([admin.disconnect(), producer.disconnect(), consumer.disconnect()]);
    });

    it('answers listTopics', async () => {
      await admin.connect();
      const topic = uniqueName('harness_listed');
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
      expect(await admin.listTopics()).toContain(topic);
    });

    it('round-trips a message through a compacted topic', async () => {
      const topic = uniqueName('harness_topic');
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      });
      expect(created).toBe(true);
      const [described] = (
        await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }] })
      ).resources;
      expect(described?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('compact');

      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'v1' }] });

      const seen: { key: string; value: string }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
        },
      });
      await waitFor(() => seen.length > 0, { timeoutMs: 60_000, what: `a message on ${topic}` });
      expect(seen).toEqual([{ key: 'k1', value: 'v1' }]);
    });
  });

  // Fault tests rely on restarts keeping data and ports; private instances leave the shared ones be.
  it('private PostgreSQL survives a crash restart with its data', async () => {
    const pg = await startPrivatePostgres();
    try {
      await sql(pg.adminUrl, 'CREATE TABLE t (id int PRIMARY KEY)');
      await sql(pg.adminUrl, 'INSERT INTO t VALUES (1)');
      await pg.restart('immediate');
      expect(await sql(pg.adminUrl, 'SELECT id FROM t')).toEqual([{ id: 1 }]);
    } finally {
      await pg.destroy();
    }
  });

  it('private Kafka restarts on the same port with its topics', async () => {
    const broker = await startPrivateKafka();
    const admin = kafkaClient('harness-restart', broker.brokers).admin();
    try {
      const topic = uniqueName('harness_restart');
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic }] });
      await admin.disconnect();
      await broker.restart();
      await admin.connect();
      expect(await admin.listTopics()).toContain(topic);
    } finally {
      await admin.disconnect().catch(() => undefined);
      await broker.destroy();
    }
  });
});
