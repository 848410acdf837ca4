/**
 * A topic as compaction would leave it: the latest record of every key, read with a plain Kafka
 * client (no product code), so tests can check what `cdc start` wrote and what a replica built
 * from offset zero after compaction would see.
 */
import { kafkaClient } from '../../harness/index.js';

export interface Latest {
  /** key text → value text of the key's latest record, null for a tombstone */
  readonly byKey: Map<string, string | null>;
  readonly records: number;
}

/** A record as a plain client reads it: key and value as text, null value for a tombstone. */
export interface TopicRecord {
  readonly offset: bigint;
  readonly key: string;
  readonly value: string | null;
}

/** Hands every record of `topic`, from offset 0 to its end now, to `each`, in order. */
export async function readTopic(topic: string, each: (r: TopicRecord) => void, brokers?: string): Promise<void> {
  const kafka = kafkaClient('cdc-test-topic', brokers);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const end = BigInt(offsets[0]?.high ?? '0');
  if (end === 0n) return;
  const consumer = kafka.consumer({ groupId: `cdc-test-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const offset = BigInt(message.offset);
            each({ offset, key: message.key?.toString('utf8') ?? '', value: message.value === null ? null : message.value.toString('utf8') });
            if (offset + 1n >= end) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Reads `topic` from offset 0 to its current end. */
export async function latestByKey(topic: string): Promise<Latest> {
  const byKey = new Map<string, string | null>();
  let records = 0;
  await readTopic(topic, (r) => {
    records++;
    byKey.set(r.key, r.value);
  });
  return { byKey, records };
}

/** The live rows (`after` of each non-tombstone latest record), by key text; the end mark is no row. */
export function liveRows(latest: Latest): Map<string, Record<string, string | null>> {
  const out = new Map<string, Record<string, string | null>>();
  for (const [k, v] of latest.byKey) if (v !== null && k !== '"cdc.end"') out.set(k, (JSON.parse(v) as { after: Record<string, string | null> }).after);
  return out;
}
