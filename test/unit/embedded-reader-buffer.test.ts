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
});
