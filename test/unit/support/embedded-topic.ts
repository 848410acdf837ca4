/** Helpers for the embedded log's unit tests: a topic directory in tmp, and reading it whole. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopicReader } from '../../../compaction/embedded/topic-reader.js';

/** A record to append, from strings; null value is a tombstone. */
export function rec(key: string, value: string | null): { key: Buffer; value: Buffer | null } {
  return { key: Buffer.from(key), value: value === null ? null : Buffer.from(value) };
}

export function topicDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cdc-topic-'));
}

/** Everything a fresh reader from offset 0 sees, as [offset, key, value]. */
export async function readAll(dir: string): Promise<[bigint, string, string | null][]> {
  const reader = new TopicReader(dir, 't', 0n);
  const out: [bigint, string, string | null][] = [];
  try {
    for (;;) {
      const { records } = await reader.read(1 << 20);
      if (records.length === 0) return out;
      for (const r of records) out.push([r.offset, r.key.toString(), r.value?.toString() ?? null]);
    }
  } finally {
    await reader.close();
  }
}
