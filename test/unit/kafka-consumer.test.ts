import type { RecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { batchesOf } from '../../compaction/kafka-consumer.js';

/** A record batch as the library decodes it: records at the given offset deltas (others compacted away). */
function batch(firstOffset: bigint, lastOffsetDelta: number, deltas: readonly number[], attributes = 0): RecordsBatch {
  return {
    firstOffset,
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes,
    lastOffsetDelta,
    firstTimestamp: 0n,
    maxTimestamp: 0n,
    producerId: -1n,
    producerEpoch: -1,
    firstSequence: -1,
    records: deltas.map((d) => ({ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta: d, key: d === 0 ? null : Buffer.from(`k${d}`), value: d === 2 ? null : Buffer.from(`v${d}`), headers: [] })),
  };
}

function response(parts: { topicId: string; batches: RecordsBatch[] | undefined }[]): Parameters<typeof batchesOf>[0] {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: parts.map((p) => ({
      topicId: p.topicId,
      partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 0n, lastStableOffset: 0n, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records: p.batches }],
    })),
  };
}

describe('the batches of a Kafka fetch response', () => {
  it('hands over the records from the offset asked for, past compacted gaps and transaction markers, one batch per topic', () => {
    const ids = new Map([
      ['id-a', 'a'],
      ['id-b', 'b'],
    ]);
    const r = response([
      // Topic a asked from 12: the batch holding it starts at 10 and its last records were compacted away.
      { topicId: 'id-a', batches: [batch(10n, 4, [0, 1, 2, 3]), batch(15n, 0, [], 1 << 5), batch(16n, 3, [1])] },
      // Topic b asked from 5: a batch of records all compacted away still moves the position.
      { topicId: 'id-b', batches: [batch(5n, 2, [])] },
      { topicId: 'id-unknown', batches: [batch(0n, 0, [0])] },
    ]);
    const out = batchesOf(
      r,
      ids,
      new Map([
        ['a', 12n],
        ['b', 5n],
      ]),
    );
    expect(out.map((b) => ({ topic: b.topic, offsets: b.records.map((x) => x.offset), nextOffset: b.nextOffset }))).toEqual([
      { topic: 'a', offsets: [12n, 13n, 17n], nextOffset: 20n },
      { topic: 'b', offsets: [], nextOffset: 8n },
    ]);
    const a = out[0]?.records ?? [];
    expect(a.map((x) => [x.topic, x.key.toString(), x.value?.toString() ?? null])).toEqual([
      ['a', 'k2', null],
      ['a', 'k3', 'v3'],
      ['a', 'k1', 'v1'],
    ]);
  });

  it('hands over nothing for a topic with no records at or past its position', () => {
    const ids = new Map([['id-a', 'a']]);
    const from = new Map([['a', 30n]]);
    expect(batchesOf(response([{ topicId: 'id-a', batches: undefined }]), ids, from)).toEqual([]);
    expect(batchesOf(response([{ topicId: 'id-a', batches: [] }]), ids, from)).toEqual([]);
    expect(batchesOf(response([{ topicId: 'id-a', batches: [batch(20n, 9, [0, 9])] }]), ids, from)).toEqual([]);
  });

  it('gives a record without a key an empty key', () => {
    const out = batchesOf(response([{ topicId: 'id-a', batches: [batch(0n, 0, [0])] }]), new Map([['id-a', 'a']]), new Map([['a', 0n]]));
    expect(out[0]?.records[0]?.key).toEqual(Buffer.alloc(0));
  });
});
