import { describe, expect, it } from 'vitest';
import { KafkaProducer, ProducerClosed, requests } from '../../compaction/kafka-producer.js';
import type { AppendRecord } from '../../compaction/topic-log.js';

const rec = (i: number, bytes: number): AppendRecord => ({ topic: i % 2 ? 't1' : 't2', key: Buffer.from(`k${i}`), value: Buffer.alloc(bytes, 120) });

describe('the Kafka producer of KafkaLog', () => {
  it('splits an append into requests below 768 KiB, in order, a record beyond it alone', () => {
    const records = [...Array.from({ length: 3000 }, (_, i) => rec(i, 600)), rec(3000, 2 << 20), rec(3001, 10)];
    const chunks = [...requests(records)];
    expect(chunks.flat()).toEqual(records);
    for (const c of chunks.slice(0, -2)) expect(c.reduce((n, r) => n + r.key.length + (r.value?.length ?? 0) + 24, 0)).toBeLessThanOrEqual(768 * 1024);
    expect(chunks.at(-2)).toEqual([records[3000]]);
    expect(chunks.at(-1)).toEqual([records[3001]]);
    expect([...requests([])]).toEqual([]);
  });

  it('is fenced by close: a later send fails at once, without connecting, as final', async () => {
    const producer = new KafkaProducer({ brokers: ['127.0.0.1:1'], clientId: 'test', connectTimeoutMs: 100 });
    await producer.close();
    await expect(producer.send([rec(1, 10)])).rejects.toBeInstanceOf(ProducerClosed);
  });
});
