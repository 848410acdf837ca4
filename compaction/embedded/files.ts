/**
 * The files of one topic of the embedded log:
 *
 *   <dir>/topics/<topic>/<base offset, 20 digits>.seg   segments, in offset order; the last is active
 *                        hw                             the durable end (u64): readers stop before it
 *                        settings.json                  compaction settings of the topic
 *
 * Only the writer appends, to the active segment; compaction rewrites closed ones.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { decodeAt, type SegmentRecord } from './segment.js';

export const SEGMENT_SUFFIX = '.seg';

export function segmentName(base: bigint): string {
  return base.toString().padStart(20, '0') + SEGMENT_SUFFIX;
}

/** The base offsets of a topic's segments, ascending. */
export async function listSegments(topicDir: string): Promise<bigint[]> {
  const names = await readdir(topicDir);
  return names
    .filter((n) => /^\d{20}\.seg$/.test(n))
    .map((n) => BigInt(n.slice(0, 20)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Opens a topic's durable-end file, to be read with {@link readHighWaterFrom}. */
export function openHighWater(topicDir: string): Promise<FileHandle> {
  return open(join(topicDir, 'hw'), 'r');
}

/** The durable end of a topic (the offset the next record gets), as the writer last published it. */
export async function readHighWater(topicDir: string): Promise<bigint> {
  const fh = await openHighWater(topicDir);
  try {
    return await readHighWaterFrom(fh);
  } finally {
    await fh.close();
  }
}

/** {@link readHighWater} from the topic's `hw` file held open (the writer rewrites it in place). */
export async function readHighWaterFrom(fh: FileHandle): Promise<bigint> {
  const buf = Buffer.alloc(8);
  const { bytesRead } = await fh.read(buf, 0, 8, 0);
  return bytesRead === 8 ? buf.readBigUInt64BE(0) : 0n;
}

/** Publishes the durable end; written in place, 8 bytes, after the data it covers is fsync'd. */
export async function writeHighWater(handle: FileHandle, end: bigint): Promise<void> {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(end, 0);
  await handle.write(buf, 0, 8, 0);
}

/** Writes a small file atomically and durably (temp, fsync, rename, fsync of the directory). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const fh = await open(path + '.tmp', 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(path + '.tmp', path);
  await syncDir(dirname(path));
}

/**
 * Makes a directory and any missing parents, each one's entry durable before it returns: a
 * directory's entry lives in its parent, so the parent of every directory made is fsync'd. The
 * records acked into a topic are lost with its directory if a power loss takes the entry.
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  if (missing.length === 0) return;
  await mkdir(dir, { recursive: true });
  for (const d of missing) await syncDir(dirname(d));
}

/** Makes a directory's entries durable (a created file or subdirectory, a rename). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

/** Reads a whole segment's valid records, stopping at the first incomplete or corrupt one. */
export async function* readSegment(path: string, chunkBytes = 1 << 20): AsyncGenerator<SegmentRecord> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let filePos = 0;
    let carry = Buffer.alloc(0);
    while (filePos < size) {
      const want = Math.min(chunkBytes, size - filePos);
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(chunk, 0, want, filePos);
      if (bytesRead === 0) break;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const bufBase = filePos - carry.length;
      filePos += bytesRead;
      let pos = 0;
      for (;;) {
        const r = decodeAt(buf, pos, bufBase);
        if (r.kind !== 'record') {
          if (r.kind === 'corrupt') return;
          break;
        }
        yield r.record;
        pos += r.record.size;
      }
      carry = Buffer.from(buf.subarray(pos));
    }
  } finally {
    await fh.close();
  }
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
