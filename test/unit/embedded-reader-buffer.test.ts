/**
 * A following reader wakes hundreds of times a second for a few records each. It read each time
 * into a new 1 MiB buffer: ~300 MiB/s of short-lived external memory at 5,000 rows/s, which made
 * V8 collect ~33 times a second in a following sink (3.7 s of pauses in 33 s, 250 of them over
 * 5 ms: the end-to-end tail of issue 12). Readers that take turns now share one read buffer; the
 * records they return are copies, so a later read into the same buffer cannot change them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rm } from 'node:fs/promises';
import { ReadBuffer, TopicReader } from '../../compaction/embedded/topic-reader.js';
import { TopicWriter } from '../../compaction/embedded/topic-writer.js';
import { rec, topicDir } from './support/embedded-topic.js';

let dir = '';
afterEach(async () => {
  vi.restoreAllMocks();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('embedded reader following a topic', () => {
  it('allocates no read-sized buffer per read, and records read earlier keep their bytes', async () => {
    dir = await topicDir();
    const { writer } = await TopicWriter.open(dir, { segmentBytes: 1 << 30, segmentMs: 1e12 });
    const buffer = new ReadBuffer(1 << 20);
    const readers = [new TopicReader(dir, 't', 0n, buffer), new TopicReader(dir, 't', 0n, buffer)];
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const seen: { key: Buffer; value: Buffer | null }[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        await writer.write([rec(`k${i}`, `value-${i}-${'x'.repeat(i)}`)], 1000 + i);
        await writer.sync();
        for (const reader of readers) {
          const { records } = await reader.read(1 << 20);
          expect(records.map((r) => r.offset)).toEqual([BigInt(i)]);
          seen.push(...records);
        }
      }
      const large = alloc.mock.calls.filter(([size]) => size >= 64 << 10);
      expect(large).toEqual([]);
      expect(seen.map((r) => `${r.key.toString()}=${r.value?.toString() ?? ''}`)).toEqual(
        Array.from({ length: 100 }, (_, i) => `k${i}=value-${i}-${'x'.repeat(i)}`).flatMap((s) => [s, s]),
      );
    } finally {
      for (const reader of readers) await reader.close();
      await writer.close();
    }
  });

  it('keeps every record of a backlog read in turns intact, read as views or copies, while the shared buffer is read into again', async () => {
    dir = await topicDir();
    const { writer } = await TopicWriter.open(dir, { segmentBytes: 1 << 30, segmentMs: 1e12 });
    const value = (i: number): string => `${i}:`.padEnd(900 + (i % 200), String.fromCharCode(97 + (i % 26)));
    for (let i = 0; i < 4000; i += 500) await writer.write(Array.from({ length: 500 }, (_, j) => rec(`k${i + j}`, value(i + j))), 1000);
    await writer.sync();
    const buffer = new ReadBuffer(1 << 20);
    // The second reader starts at the end and follows: its reads go into the shared buffer
    // between the first reader's backlog reads.
    const readers = [new TopicReader(dir, 't', 0n, buffer), new TopicReader(dir, 't', 4000n, buffer)];
    const kept: { key: Buffer; value: Buffer | null }[] = [];
    try {
      for (let round = 0; round < 20; round++) {
        const { records } = await (readers[0] as TopicReader).read(1 << 20);
        kept.push(...records);
        await writer.write([rec(`f${round}`, 'x'.repeat(1 << 10))], 2000);
        await writer.sync();
        const follow = await (readers[1] as TopicReader).read(1 << 20);
        expect(follow.records.map((r) => r.key.toString())).toEqual([`f${round}`]);
      }
      const rows = kept.filter((r) => r.key.toString().startsWith('k'));
      expect(rows.map((r) => `${r.key.toString()}=${r.value?.toString() ?? ''}`)).toEqual(Array.from({ length: 4000 }, (_, i) => `k${i}=${value(i)}`));
    } finally {
      for (const reader of readers) await reader.close();
      await writer.close();
    }
  });
});
