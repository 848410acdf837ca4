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

/** Reads `topic` from offset 0 to its current end. */
export async function latestByKey(topic: string): Promise<Latest> {
  const kafka = kafkaClient('cdc-test-topic');
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const end = BigInt(offsets[0]?.high ?? '0');
  const byKey = new Map<string, string | null>();
  if (end === 0n) return { byKey, records: 0 };
  const consumer = kafka.consumer({ groupId: `cdc-test-${Math.random().toString(36).slice(2)}` });
  let records = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            records++;
            byKey.set(message.key?.toString('utf8') ?? '', message.value === null ? null : message.value.toString('utf8'));
            if (BigInt(message.offset) + 1n >= end) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { byKey, records };
}

/** The live rows (`after` of each non-tombstone latest record), by key text. */
export function liveRows(latest: Latest): Map<string, Record<string, string | null>> {
  const out = new Map<string, Record<string, string | null>>();
  for (const [k, v] of latest.byKey) if (v !== null) out.set(k, (JSON.parse(v) as { after: Record<string, string | null> }).after);
  return out;
}
