/**
 * Issue 17, item 11a: a reader lists the segments, the cleaner deletes one of them (merged into an
 * earlier file) before the reader opens it. The reader must list again, not fail with ENOENT (a
 * sink exited 1 on it). The race is made certain by serving the reader one stale listing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

const stale: { bases: bigint[] | null } = { bases: null };
vi.mock('../../compaction/embedded/files.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../compaction/embedded/files.js')>();
  return {
    ...real,
    // The listing taken just before the cleaner's delete, once; then the directory as it is.
    listSegments: async (dir: string): Promise<bigint[]> => {
      const bases = stale.bases;
      stale.bases = null;
      return bases ?? real.listSegments(dir);
    },
  };
});

const { listSegments, segmentName } = await import('../../compaction/embedded/files.js');
const { TopicReader } = await import('../../compaction/embedded/topic-reader.js');
const { TopicWriter } = await import('../../compaction/embedded/topic-writer.js');
const { rec, topicDir } = await import('./support/embedded-topic.js');

let dir = '';
afterEach(async () => {
  stale.bases = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('embedded reader and a segment deleted under it', () => {
  it('lists again when a segment it listed is gone before it opens it, and reads every record from where it was', async () => {
    dir = await topicDir();
    const { writer } = await TopicWriter.open(dir, { segmentBytes: 100, segmentMs: 1e12 });
    for (let i = 0; i < 12; i++) await writer.write([rec(`k${i}`, `value-${i}`)], 1000 + i);
    await writer.close();
    const bases = await listSegments(dir);
    expect(bases.length).toBeGreaterThan(3);
    // The cleaner merged the second segment into the first and deleted it: here, the first
    // segment keeps its records and the second's are gone with it, so a reader positioned inside
    // the deleted one must go on from the next segment that exists.
    const gone = bases[1] as bigint;
    const after = bases[2] as bigint;
    await rm(join(dir, segmentName(gone)));
    stale.bases = bases;
    const reader = new TopicReader(dir, 't', gone);
    try {
      const { records } = await reader.read(1 << 20);
      expect(records[0]?.offset).toBe(after);
      expect(records.at(-1)?.offset).toBe(11n);
    } finally {
      await reader.close();
    }
  });
});
