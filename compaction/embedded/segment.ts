/**
 * The record framing of the embedded log's segment files. Each record:
 *
 *   u32 length of what follows the checksum │ u32 crc32 of it │ u64 offset │ i64 time (ms)
 *   u8 flags (1 = tombstone) │ u32 key length │ key │ u32 value length │ value
 *
 * The checksum lets recovery tell a record torn by a crash from a whole one; the offset is stored
 * in every record because compaction leaves gaps and offsets never change.
 */
import { crc32 } from 'node:zlib';

/** A decoded record of a segment, with where it lies in the file. */
export interface SegmentRecord {
  readonly offset: bigint;
  readonly timestamp: number;
  readonly key: Buffer;
  /** null for a tombstone. */
  readonly value: Buffer | null;
  /** Byte position of the record's first byte in its file, and its size. */
  readonly position: number;
  readonly size: number;
}

const HEAD = 8; // length + crc
const FIXED = 8 + 8 + 1 + 4 + 4; // offset, time, flags, key length, value length

/** The size of a record's frame. */
export function frameSize(key: Buffer, value: Buffer | null): number {
  return HEAD + FIXED + key.length + (value?.length ?? 0);
}

/**
 * Encodes one record into `buf` at `pos` (room for {@link frameSize} bytes), so that a batch is
 * framed in one buffer, copying each key and value once. Returns the position after it.
 */
export function encodeRecordInto(buf: Buffer, pos: number, offset: bigint, timestamp: number, key: Buffer, value: Buffer | null): number {
  const start = pos + HEAD;
  let p = start;
  p = buf.writeBigUInt64BE(offset, p);
  p = buf.writeBigInt64BE(BigInt(timestamp), p);
  p = buf.writeUInt8(value === null ? 1 : 0, p);
  p = buf.writeUInt32BE(key.length, p);
  p += key.copy(buf, p);
  p = buf.writeUInt32BE(value?.length ?? 0, p);
  if (value) p += value.copy(buf, p);
  buf.writeUInt32BE(p - start, pos);
  buf.writeUInt32BE(crc32(buf.subarray(start, p)), pos + 4);
  return p;
}

/** Encodes one record. */
export function encodeRecord(offset: bigint, timestamp: number, key: Buffer, value: Buffer | null): Buffer {
  const buf = Buffer.allocUnsafe(frameSize(key, value));
  encodeRecordInto(buf, 0, offset, timestamp, key, value);
  return buf;
}

export type ScanResult =
  | { kind: 'record'; record: SegmentRecord }
  /** Not enough bytes yet: a record being written, or a tail torn by a crash. */
  | { kind: 'incomplete' }
  /** Bytes that are not a valid record: a torn tail whose length field survived. */
  | { kind: 'corrupt'; reason: string };

/**
 * Decodes the record at `pos` of `buf` (whose first byte is at file position `base`). Its key and
 * value are copies, or with `views` views of `buf`: no copy per record, but `buf` then lives as long
 * as any of them, and must not be written again.
 */
export function decodeAt(buf: Buffer, pos: number, base = 0, views = false): ScanResult {
  if (buf.length - pos < HEAD) return { kind: 'incomplete' };
  const length = buf.readUInt32BE(pos);
  if (length < FIXED) return { kind: 'corrupt', reason: `record length ${length} is too small` };
  if (buf.length - pos - HEAD < length) return { kind: 'incomplete' };
  const body = buf.subarray(pos + HEAD, pos + HEAD + length);
  if (crc32(body) !== buf.readUInt32BE(pos + 4)) return { kind: 'corrupt', reason: 'checksum mismatch' };
  let p = 0;
  const offset = body.readBigUInt64BE(p);
  p += 8;
  const timestamp = Number(body.readBigInt64BE(p));
  p += 8;
  const tombstone = body.readUInt8(p) === 1;
  p += 1;
  const keyLength = body.readUInt32BE(p);
  p += 4;
  if (p + keyLength + 4 > body.length) return { kind: 'corrupt', reason: 'key length beyond the record' };
  const key = views ? body.subarray(p, p + keyLength) : Buffer.from(body.subarray(p, p + keyLength));
  p += keyLength;
  const valueLength = body.readUInt32BE(p);
  p += 4;
  if (p + valueLength !== body.length) return { kind: 'corrupt', reason: 'value length does not match the record' };
  const value = tombstone ? null : views ? body.subarray(p, p + valueLength) : Buffer.from(body.subarray(p, p + valueLength));
  return { kind: 'record', record: { offset, timestamp, key, value, position: base + pos, size: HEAD + length } };
}
