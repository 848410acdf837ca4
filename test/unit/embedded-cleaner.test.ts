import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanTopic, type CleanerPolicy } from '../../compaction/embedded/cleaner.js';
import { listSegments, segmentName } from '../../compaction/embedded/files.js';
import { TopicWriter } from '../../compaction/embedded/topic-writer.js';
import { readAll, rec, topicDir } from './support/embedded-topic.js';

const RETENTION = 1000;
const policy: CleanerPolicy = { deleteRetentionMs: RETENTION, minCompactionLagMs: 0, segmentBytes: 400, maxKeys: 1_000_000 };

/** One append: a key of a few, a value or a tombstone, and how much later than the one before. */
const op = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), value: fc.option(fc.string({ maxLength: 12 }), { nil: null }), later: fc.nat({ max: 400 }) });

describe('embedded log cleaner', () => {
  it('keeps, of the closed segments, the latest record of each key in offset order, and drops a tombstone only after its retention', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), fc.nat({ max: 3000 }), async (ops, wait) => {
        const dir = await topicDir();
        try {
          const { writer } = await TopicWriter.open(dir, { segmentBytes: 120, segmentMs: 1e12 });
          let time = 1_000_000;
          const written: { offset: bigint; key: string; value: string | null; time: number }[] = [];
          for (const o of ops) {
            time += o.later;
            written.push({ offset: writer.next, key: o.key, value: o.value, time });
            await writer.write([rec(o.key, o.value)], time);
          }
          await writer.sync();
          const active = writer.activeSegment;
          const now = time + wait;
          await cleanTopic(dir, active, policy, now);

          // The model: the active segment is untouched; of the rest, each key's last record stays,
          // unless it is a tombstone written at least the retention ago.
          const closed = written.filter((w) => w.offset < active);
          const last = new Map(closed.map((w) => [w.key, w.offset]));
          const expected = written
            .filter((w) => w.offset >= active || (last.get(w.key) === w.offset && !(w.value === null && now - w.time >= RETENTION)))
            .map((w) => [w.offset, w.key, w.value]);
          expect(await readAll(dir)).toEqual(expected);
          await writer.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps a key whose tombstone is still retained deleted, and forgets it once the retention has passed', async () => {
    const dir = await topicDir();
    try {
      const { writer } = await TopicWriter.open(dir, { segmentBytes: 1, segmentMs: 1e12 });
      await writer.write([rec('k', 'v1')], 1000);
      await writer.write([rec('other', 'x')], 1000);
      await writer.write([rec('k', null)], 2000);
      await writer.write([rec('last', 'active')], 2000);
      await writer.sync();
      await cleanTopic(dir, writer.activeSegment, policy, 2000 + RETENTION - 1);
      expect(await readAll(dir)).toEqual([
        [1n, 'other', 'x'],
        [2n, 'k', null],
        [3n, 'last', 'active'],
      ]);
      await cleanTopic(dir, writer.activeSegment, policy, 2000 + RETENTION);
      expect(await readAll(dir)).toEqual([
        [1n, 'other', 'x'],
        [3n, 'last', 'active'],
      ]);
      await writer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves a segment it would not change as it is: no rewrite, no fsync of a copy', async () => {
    const dir = await topicDir();
    try {
      const { writer } = await TopicWriter.open(dir, { segmentBytes: 1, segmentMs: 1e12 });
      await writer.write([rec('a', 'v1')], 1000);
      await writer.write([rec('b', 'v1')], 1000);
      await writer.write([rec('a', 'v2')], 1000);
      await writer.write([rec('c', 'active')], 1000);
      await writer.sync();
      const first = await cleanTopic(dir, writer.activeSegment, policy, 1000);
      expect(first.recordsRemoved).toBe(1);
      const before = await Promise.all((await listSegments(dir)).map((b) => stat(join(dir, segmentName(b)))));
      // Everything closed is clean now: a second pass has nothing to remove, so nothing to write.
      const second = await cleanTopic(dir, writer.activeSegment, policy, 1000);
      expect(second.recordsRemoved).toBe(0);
      const after = await Promise.all((await listSegments(dir)).map((b) => stat(join(dir, segmentName(b)))));
      expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
      expect(await readAll(dir)).toEqual([
        [1n, 'b', 'v1'],
        [2n, 'a', 'v2'],
        [3n, 'c', 'active'],
      ]);
      await writer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to rewrite a closed segment with a corrupted record instead of dropping the records after it', async () => {
    const dir = await topicDir();
    try {
      const { writer } = await TopicWriter.open(dir, { segmentBytes: 200, segmentMs: 1e12 });
      for (let i = 0; i < 10; i++) await writer.write([rec(`k${i}`, `value-${i}`)], 1000);
      await writer.sync();
      const [first] = await listSegments(dir);
      const path = join(dir, segmentName(first as bigint));
      const bytes = await readFile(path);
      bytes[40] = (bytes[40] as number) ^ 0x01; // inside the second record
      await writeFile(path, bytes);
      await expect(cleanTopic(dir, writer.activeSegment, policy, 5000)).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
      const after = await readFile(path);
      expect(after.equals(bytes)).toBe(true);
      await writer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
