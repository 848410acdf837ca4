import { gzipSync } from 'node:zlib';
import { createRecordsBatch, Reader, readRecordsBatches, type MessageRecord } from '@platformatic/kafka';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchesOf } from '../../compaction/kafka-consumer.js';
import type { RawFetchResponse } from '../../compaction/kafka-fetch.js';
import { readRecordBatches, type Decompress } from '../../compaction/kafka-records.js';
import type { LogRecord } from '../../compaction/topic-log.js';

// Our reader of Kafka record batches (kafka-records.ts) against the client library's, on batches
// the library writes (every codec, keys and values null or not, headers), cut off anywhere as a
// fetch response may be; and on hand-made batches for what the library never writes: offsets
// compaction removed, transaction markers, damaged bytes.

const lib = await import('@platformatic/kafka');
const decompress: Decompress = (codec, data) => {
  const algorithm = Object.values(lib.compressionsAlgorithms).find((a) => a.bitmask === codec);
  if (!algorithm) throw new Error(`codec ${codec}`);
  return algorithm.decompressSync(data) as Buffer;
};

const bytes = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b));
const message = fc.record({ key: fc.option(bytes), value: fc.option(bytes), headers: fc.array(fc.tuple(bytes, bytes), { maxLength: 2 }) });
const batchSpec = fc.record({ messages: fc.array(message, { minLength: 1, maxLength: 30 }), compression: fc.constantFrom('none', 'gzip', 'snappy', 'lz4') as fc.Arbitrary<'none' | 'gzip' | 'snappy' | 'lz4'> });

/** Batches written by the library one after another from `base`, as a partition's record set. */
function libraryBatches(specs: readonly { messages: readonly { key: Buffer | null; value: Buffer | null; headers: [Buffer, Buffer][] }[]; compression: 'none' | 'gzip' | 'snappy' | 'lz4' }[], base: bigint): Buffer {
  let offset = base;
  const out: Buffer[] = [];
  for (const s of specs) {
    // A value left undefined is written as null, as the library's producer writes our tombstones (its type says otherwise).
    const messages = s.messages.map((m): MessageRecord => ({ topic: 't', partition: 0, key: m.key ?? undefined, value: (m.value ?? undefined) as Buffer, headers: new Map(m.headers), timestamp: 1_700_000_000_000n }));
    const b = Buffer.from(createRecordsBatch(messages, { compression: s.compression }).buffer);
    b.writeBigInt64BE(offset, 0);
    offset += BigInt(s.messages.length);
    out.push(b);
  }
  return Buffer.concat(out);
}

/** What the library reads from the same bytes, as our LogRecords from `start`, and the offset after its last batch. */
function libraryRead(set: Buffer, start: bigint): { records: [bigint, string, string | null][]; nextOffset: bigint } {
  const records: [bigint, string, string | null][] = [];
  let nextOffset = start;
  for (const b of readRecordsBatches(Reader.from(set))) {
    const end = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
    if (end > nextOffset) nextOffset = end;
    for (const r of b.records) {
      const offset = b.firstOffset + BigInt(r.offsetDelta);
      if (offset >= start) records.push([offset, (r.key ?? Buffer.alloc(0)).toString('hex'), r.value === null || r.value === undefined ? null : r.value.toString('hex')]);
    }
  }
  return { records, nextOffset };
}

function plain(records: readonly LogRecord[]): [bigint, string, string | null][] {
  return records.map((r) => [r.offset, r.key.toString('hex'), r.value === null ? null : r.value.toString('hex')]);
}

/** A v2 record batch by hand: records at the given offset deltas (the others compacted away). */
function batch(base: bigint, lastOffsetDelta: number, records: readonly { delta: number; key: Buffer | null; value: Buffer | null }[], options: { attributes?: number; magic?: number; gzip?: boolean } = {}): Buffer {
  const varint = (n: number): Buffer => {
    const out: number[] = [];
    let z = (n << 1) ^ (n >> 31);
    z >>>= 0;
    while (z >= 0x80) {
      out.push((z & 0x7f) | 0x80);
      z >>>= 7;
    }
    out.push(z);
    return Buffer.from(out);
  };
  const field = (b: Buffer | null): Buffer => (b === null ? varint(-1) : Buffer.concat([varint(b.length), b]));
  const body = Buffer.concat(
    records.map((r) => {
      const inner = Buffer.concat([Buffer.from([0]), varint(0), varint(r.delta), field(r.key), field(r.value), varint(0)]);
      return Buffer.concat([varint(inner.length), inner]);
    }),
  );
  const payload = options.gzip ? gzipSync(body) : body;
  const head = Buffer.alloc(61);
  head.writeBigInt64BE(base, 0);
  head.writeInt32BE(61 - 12 + payload.length, 8);
  head.writeInt8(options.magic ?? 2, 16);
  head.writeInt16BE((options.attributes ?? 0) | (options.gzip ? 1 : 0), 21);
  head.writeInt32BE(lastOffsetDelta, 23);
  head.writeBigInt64BE(-1n, 43); // producerId
  head.writeInt32BE(records.length, 57);
  return Buffer.concat([head, payload]);
}

const kv = (delta: number): { delta: number; key: Buffer | null; value: Buffer | null } => ({ delta, key: delta === 0 ? null : Buffer.from(`k${delta}`), value: delta === 2 ? null : Buffer.from(`v${delta}`) });

describe('reading Kafka record batches from a fetch response', () => {
  it('reads what the client library reads, for any records, codec, start and cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(batchSpec, { minLength: 1, maxLength: 4 }), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.nat(130), fc.double({ min: 0, max: 1, noNaN: true }), async (specs, base, skip, cutAt) => {
        const set = libraryBatches(specs, base);
        // A response ends wherever the broker's byte limit fell, whole batches or not.
        const cut = set.subarray(0, Math.round(set.length * cutAt) === 0 ? set.length : Math.round(set.length * cutAt));
        const start = base + BigInt(skip);
        const ours = await readRecordBatches(cut, 't', start, decompress);
        const theirs = libraryRead(cut, start);
        expect({ records: plain(ours.records), nextOffset: ours.nextOffset }).toEqual(theirs);
        expect(ours.records.every((r) => r.topic === 't')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('moves past offsets compaction removed and transaction markers, from the offset asked for', async () => {
    const set = Buffer.concat([batch(10n, 4, [0, 1, 2, 3].map(kv)), batch(15n, 0, [], { attributes: 1 << 5 }), batch(16n, 3, [kv(1)], { gzip: true })]);
    const out = await readRecordBatches(set, 'a', 12n, decompress);
    expect(out.nextOffset).toBe(20n);
    expect(out.records.map((r) => [r.offset, r.key.toString(), r.value?.toString() ?? null])).toEqual([
      [12n, 'k2', null],
      [13n, 'k3', 'v3'],
      [17n, 'k1', 'v1'],
    ]);
  });

  it('gives a record without a key an empty key, and nothing before the offset asked for', async () => {
    expect((await readRecordBatches(batch(0n, 0, [kv(0)]), 'a', 0n, decompress)).records[0]?.key).toEqual(Buffer.alloc(0));
    expect(await readRecordBatches(batch(20n, 9, [kv(0), kv(9)]), 'a', 30n, decompress)).toEqual({ records: [], nextOffset: 30n });
    expect(await readRecordBatches(Buffer.alloc(0), 'a', 7n, decompress)).toEqual({ records: [], nextOffset: 7n });
  });

  it('refuses a batch it cannot read, naming the topic and offset', async () => {
    const old = readRecordBatches(batch(40n, 0, [kv(0)], { magic: 1 }), 'a', 0n, decompress);
    await expect(old).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    await expect(old).rejects.toThrow(/topic a.*offset 40.*format is 1/);
    const damaged = batch(50n, 1, [kv(1)]);
    damaged.writeInt8(0x7e, 61); // the first record's length, past the batch
    const read = readRecordBatches(damaged, 'a', 0n, decompress);
    await expect(read).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    await expect(read).rejects.toThrow(/topic a.*offset 50/);
    const damagedGzip = batch(60n, 0, [kv(1)], { gzip: true });
    const crcAt = damagedGzip.length - 8; // the gzip trailer's CRC-32 of the records
    damagedGzip.writeUInt8(damagedGzip.readUInt8(crcAt) ^ 0xff, crcAt);
    await expect(readRecordBatches(damagedGzip, 'a', 0n, decompress)).rejects.toThrow(/topic a.*offset 60.*do not decompress.*check/);
    // A damaged gzip batch before one of an old format: the format is refused, and the failed inflation is not left unobserved.
    await expect(readRecordBatches(Buffer.concat([damagedGzip, batch(61n, 0, [kv(0)], { magic: 1 })]), 'a', 0n, decompress)).rejects.toThrow(/offset 61.*format is 1/);
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});

describe('the batches of a Kafka fetch response', () => {
  it('gives one batch per topic it asked for, from its own offset', async () => {
    const response: RawFetchResponse = {
      responses: [
        { topicId: 'id-a', partitions: [{ partitionIndex: 0, errorCode: 0, records: Buffer.concat([batch(10n, 4, [0, 1, 2, 3].map(kv)), batch(16n, 3, [kv(1)])]) }] },
        // A batch of records all compacted away still moves the position.
        { topicId: 'id-b', partitions: [{ partitionIndex: 0, errorCode: 0, records: batch(5n, 2, []) }] },
        { topicId: 'id-c', partitions: [{ partitionIndex: 0, errorCode: 0, records: undefined }] },
        { topicId: 'id-unknown', partitions: [{ partitionIndex: 0, errorCode: 0, records: batch(0n, 0, [kv(0)]) }] },
      ],
    };
    const ids = new Map([
      ['id-a', 'a'],
      ['id-b', 'b'],
      ['id-c', 'c'],
    ]);
    const from = new Map([
      ['a', 12n],
      ['b', 5n],
      ['c', 3n],
    ]);
    const out = await batchesOf(response, ids, from, decompress);
    expect(out.map((b) => ({ topic: b.topic, offsets: b.records.map((x) => x.offset), nextOffset: b.nextOffset }))).toEqual([
      { topic: 'a', offsets: [12n, 13n, 17n], nextOffset: 20n },
      { topic: 'b', offsets: [], nextOffset: 8n },
    ]);
  });
});
