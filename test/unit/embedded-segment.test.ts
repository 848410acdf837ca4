import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CdcError } from '../../common/index.js';
import { listSegments, segmentName } from '../../compaction/embedded/files.js';
import { decodeAt, encodeRecord } from '../../compaction/embedded/segment.js';
import { TopicReader } from '../../compaction/embedded/topic-reader.js';
import { TopicWriter } from '../../compaction/embedded/topic-writer.js';
import { readAll, rec, topicDir } from './support/embedded-topic.js';

const HUGE = { segmentBytes: 1 << 30, segmentMs: 1e12 };

describe('segment record framing', () => {
  it('round-trips any key, value or tombstone, and a cut-short record is incomplete, never a record', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
        fc.nat(),
        (offset, time, key, value, cutAt) => {
          const frame = encodeRecord(offset, time, Buffer.from(key), value && Buffer.from(value));
          const r = decodeAt(Buffer.concat([Buffer.from('xx'), frame]), 2, 100);
          expect(r).toEqual({ kind: 'record', record: { offset, timestamp: time, key: Buffer.from(key), value: value && Buffer.from(value), position: 102, size: frame.length } });
          expect(decodeAt(frame.subarray(0, cutAt % frame.length), 0)).toEqual({ kind: 'incomplete' });
        },
      ),
    );
  });

  it('never decodes a record whose bytes were changed: any flipped bit is corrupt (or, in the length, incomplete)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), fc.uint8Array({ maxLength: 32 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (key, value, at, bit) => {
        const frame = encodeRecord(7n, 1000, Buffer.from(key), Buffer.from(value));
        const i = at % frame.length;
        frame[i] = (frame[i] as number) ^ (1 << bit);
        expect(decodeAt(frame, 0).kind).not.toBe('record');
      }),
    );
  });
});

describe('embedded topic writer and reader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await topicDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cuts a record torn by a crash off the active segment, and later appends follow the last whole record', async () => {
    const { writer } = await TopicWriter.open(dir, HUGE);
    await writer.write([rec('a', '1'), rec('b', '2'), rec('a', null)], 1000);
    await writer.close();
    // The crash: the next record reached the file only in part.
    const torn = encodeRecord(3n, 1001, Buffer.from('c'), Buffer.from('3')).subarray(0, 13);
    const active = join(dir, segmentName(0n));
    await appendFile(active, torn);
    const sizeBefore = (await readFile(active)).length;

    const reopened = await TopicWriter.open(dir, HUGE);
    expect(reopened.truncatedBytes).toBe(torn.length);
    expect(reopened.writer.next).toBe(3n);
    expect((await readFile(active)).length).toBe(sizeBefore - torn.length);
    await reopened.writer.write([rec('c', '3'), rec('d', '4')], 1002);
    await reopened.writer.close();

    expect(await readAll(dir)).toEqual([
      [0n, 'a', '1'],
      [1n, 'b', '2'],
      [2n, 'a', null],
      [3n, 'c', '3'],
      [4n, 'd', '4'],
    ]);
  });

  it('also cuts a torn tail whose length survived but whose body did not (zeros, as after a crash that extended the file)', async () => {
    const { writer } = await TopicWriter.open(dir, HUGE);
    await writer.write([rec('a', '1')], 1000);
    await writer.close();
    const frame = encodeRecord(1n, 1001, Buffer.from('b'), Buffer.from('2'));
    const zeroed = Buffer.concat([frame.subarray(0, 4), Buffer.alloc(frame.length - 4)]);
    await appendFile(join(dir, segmentName(0n)), zeroed);

    const reopened = await TopicWriter.open(dir, HUGE);
    expect(reopened.truncatedBytes).toBe(zeroed.length);
    expect((await readFile(join(dir, segmentName(0n)))).length).toBe(encodeRecord(0n, 1000, Buffer.from('a'), Buffer.from('1')).length);
    await reopened.writer.write([rec('b', 'again')], 1002);
    await reopened.writer.close();
    expect(await readAll(dir)).toEqual([
      [0n, 'a', '1'],
      [1n, 'b', 'again'],
    ]);
  });

  it('reads across segment rolls, and reports a corrupted record in a closed segment as LOG_CORRUPT instead of reading it', async () => {
    const { writer } = await TopicWriter.open(dir, { segmentBytes: 100, segmentMs: 1e12 });
    for (let i = 0; i < 12; i++) await writer.write([rec(`k${i}`, `value-${i}`)], 1000 + i);
    await writer.close();
    const bases = await listSegments(dir);
    expect(bases.length).toBeGreaterThan(2);
    const all = await readAll(dir);
    expect(all.map(([o]) => o)).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(i)));

    // Flip one byte of the value of the second record of the first (closed) segment.
    const first = join(dir, segmentName(bases[0] as bigint));
    const bytes = await readFile(first);
    const firstSize = encodeRecord(0n, 1000, Buffer.from('k0'), Buffer.from('value-0')).length;
    const at = firstSize + firstSize - 2;
    bytes[at] = (bytes[at] as number) ^ 0x20;
    await writeFile(first, bytes);

    const reader = new TopicReader(dir, 't', 0n);
    try {
      const failure = await reader.read(1 << 20).then(
        () => null,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(CdcError);
      expect(failure).toMatchObject({ code: 'LOG_CORRUPT', message: expect.stringContaining(`damaged at byte ${firstSize}: checksum mismatch`) as unknown });
    } finally {
      await reader.close();
    }
  });
});
