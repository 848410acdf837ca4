/**
 * Kafka record batches (the v2 format, magic 2) read straight from a fetch response's bytes into
 * our LogRecords, keys and values as views of the batch's bytes.
 *
 * Why not the client library's reader: it builds an object per record (headers, timestamps, key
 * and value copied out) that we then turned into a LogRecord, and it gunzips each batch on the
 * main thread. In the Kafka bootstrap's profile that was ~1.25 s of a 1M-record bootstrap's main
 * thread, gunzip 0.72 s of it (docs/benchmarks.md). Here a gzip batch is inflated on libuv's
 * thread pool, while the main thread applies the batch before, and only what we keep is read.
 *
 * Layout (Kafka's DefaultRecordBatch): baseOffset int64, batchLength int32, partitionLeaderEpoch
 * int32, magic int8, crc uint32, attributes int16, lastOffsetDelta int32, baseTimestamp int64,
 * maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence int32, recordCount int32,
 * then the records, compressed as a whole when attributes say so. A record: length varint,
 * attributes int8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 for null),
 * value (the same), headers (skipped: the record's length covers them). CRC-32C is not checked, as
 * the library did not: the broker checks it on every produce.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { CdcError, messageOf } from '../common/index.js';
import type { LogRecord } from './topic-log.js';

const gunzipAsync = promisify(gunzip);

/** Bytes from a batch's start to its first record. */
const BATCH_HEAD = 61;
/** Where batchLength counts from: after baseOffset and batchLength. */
const LENGTH_FROM = 12;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const RECORD_COUNT_AT = 57;
const COMPRESSION = 0b111;
const GZIP = 1;
/** A transaction marker's batch: not records of ours. */
const IS_CONTROL = 1 << 5;
const EMPTY = Buffer.alloc(0);
/** Bounds of an inflation's output chunk: a trailer that lies (or a batch of several members) costs more chunks, not more memory. */
const MIN_CHUNK = 64 << 10;
const MAX_CHUNK = 32 << 20;

/** Decompresses a codec other than gzip (the client library's snappy, lz4 and zstd), synchronously. */
export type Decompress = (codec: number, data: Buffer) => Buffer;

/** A partition's records from `start` on, and the offset after the last batch read. */
export interface PartitionRecords {
  readonly records: LogRecord[];
  readonly nextOffset: bigint;
}

/**
 * The records of `topic` in `bytes` (one partition's record set in a fetch response) from offset
 * `start` on. A fetch returns whole batches from the one that holds `start`, so records before it
 * are left out; a batch cut off at the end of the response (the broker fills to a byte limit) is
 * left for the next fetch. `nextOffset` is past the last whole batch, past any offsets compaction
 * removed, or `start` when there is none.
 */
export async function readRecordBatches(bytes: Buffer, topic: string, start: bigint, decompress: Decompress): Promise<PartitionRecords> {
  // First the batches' heads, and every compressed batch set inflating at once on the thread pool.
  const batches: { base: bigint; count: number; records: Promise<Buffer> }[] = [];
  let nextOffset = start;
  for (let at = 0; bytes.length - at >= BATCH_HEAD; ) {
    const length = bytes.readInt32BE(at + 8);
    const end = at + LENGTH_FROM + length;
    if (end > bytes.length) break;
    const base = bytes.readBigInt64BE(at);
    const magic = bytes.readInt8(at + 16);
    if (magic !== 2) throw unreadable(topic, base, `its format is ${magic} (magic); only format 2 (Kafka 0.11 on) is read`);
    const attributes = bytes.readInt16BE(at + ATTRIBUTES_AT);
    const last = base + BigInt(bytes.readInt32BE(at + LAST_OFFSET_DELTA_AT)) + 1n;
    if (last > nextOffset) nextOffset = last;
    if ((attributes & IS_CONTROL) === 0 && last > start) {
      const codec = attributes & COMPRESSION;
      const body = bytes.subarray(at + BATCH_HEAD, end);
      const records = codec === 0 ? Promise.resolve(body) : uncompressed(codec, body, decompress).catch((e: unknown) => Promise.reject(unreadable(topic, base, `its records do not decompress: ${messageOf(e)}`)));
      // Marked observed: a later batch's bad head throws before Promise.all below waits for it.
      records.catch(() => undefined);
      batches.push({ base, count: bytes.readInt32BE(at + RECORD_COUNT_AT), records });
    }
    at = end;
  }
  // All awaited together: the first failure is thrown, and none is left unobserved.
  const bodies = await Promise.all(batches.map((b) => b.records));
  const records: LogRecord[] = [];
  batches.forEach((b, i) => {
    try {
      readRecords(bodies[i] as Buffer, b.base, b.count, topic, start, records);
    } catch (e) {
      throw e instanceof RangeError ? unreadable(topic, b.base, e.message) : e;
    }
  });
  return { records, nextOffset };
}

/** A compressed batch's records: gzip on the thread pool, any other codec by `decompress`. */
async function uncompressed(codec: number, body: Buffer, decompress: Decompress): Promise<Buffer> {
  return codec === GZIP ? inflate(body) : decompress(codec, body);
}

/**
 * A gzip batch inflated on the thread pool, into one buffer of the size its trailer gives (ISIZE):
 * with zlib's default 16 KiB chunks the main thread took a callback per chunk and a copy to join
 * them, ~8% of the Kafka bootstrap's main thread. The +1 spares zlib a last call to find the end.
 */
function inflate(body: Buffer): Promise<Buffer> {
  const size = body.length >= 18 ? body.readUInt32LE(body.length - 4) : 0;
  return gunzipAsync(body, { chunkSize: Math.min(Math.max(size + 1, MIN_CHUNK), MAX_CHUNK) });
}

/** Appends the `count` records of a batch's (uncompressed) body at or after `start` to `out`. */
function readRecords(body: Buffer, base: bigint, count: number, topic: string, start: bigint, out: LogRecord[]): void {
  const v = new VarintReader(body);
  for (let i = 0; i < count; i++) {
    const length = v.varint();
    const end = v.at + length;
    if (length < 0 || end > body.length) throw unreadable(topic, base, `record ${i} runs past the batch`);
    v.at += 1; // attributes
    v.skipVarint(); // timestampDelta
    const offset = base + BigInt(v.varint());
    const keyLength = v.varint();
    const key = keyLength < 0 ? EMPTY : body.subarray(v.at, (v.at += keyLength));
    const valueLength = v.varint();
    const value = valueLength < 0 ? null : body.subarray(v.at, (v.at += valueLength));
    if (v.at > end) throw unreadable(topic, base, `the record at offset ${offset} runs past its own length`);
    v.at = end; // headers: not ours
    if (offset >= start) out.push({ topic, offset, key, value });
  }
}

/** A batch this reader cannot read: not retriable (the same bytes come back). */
function unreadable(topic: string, base: bigint, reason: string): CdcError {
  return new CdcError('LOG_CORRUPT', `Kafka topic ${topic}: the record batch at offset ${base} cannot be read: ${reason}`, {
    hint: 'check the topic with kafka-dump-log.sh; if it is damaged, start a new topic prefix with cdc start and rebuild the replicas',
  });
}

/** Zig-zag varints as Kafka writes them in records. */
class VarintReader {
  at = 0;
  constructor(private readonly b: Buffer) {}

  /** A signed 32-bit zig-zag varint. */
  varint(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      const byte = this.b[this.at++];
      if (byte === undefined) throw new RangeError('a record batch ends inside a varint');
      n |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new RangeError('a varint longer than 5 bytes');
    }
    return (n >>> 1) ^ -(n & 1);
  }

  /** Past a varint or varlong, its value unread. */
  skipVarint(): void {
    for (let i = 0; i < 10; i++) {
      const byte = this.b[this.at++];
      if (byte === undefined) throw new RangeError('a record batch ends inside a varint');
      if ((byte & 0x80) === 0) return;
    }
    throw new RangeError('a varlong longer than 10 bytes');
  }
}
