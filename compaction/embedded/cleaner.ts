/**
 * Compaction of one topic of the embedded log, as Kafka's log cleaner does it: of the closed
 * segments (never the active one), keep for every key only its latest record; drop a tombstone
 * once it is older than the delete retention. Offsets never change; the log gets gaps.
 *
 * Memory is bounded: the map from key (a SHA-1 of it) to its latest offset holds at most
 * `maxKeys` entries; with more distinct keys a pass cleans only the segments its map covered.
 *
 * Crash safety: a group of consecutive segments is rewritten into a temporary file, fsync'd, and
 * renamed over the group's first segment; then the rest of the group is deleted. A crash between
 * the two leaves segments whose records also appear in the merged one; readers skip offsets they
 * have passed, and the next pass deletes such leftovers.
 */
import { createHash } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CdcError } from '../../common/index.js';
import { fileSize, listSegments, readSegment, segmentName } from './files.js';
import { syncDir } from './files.js';
import type { SegmentRecord } from './segment.js';
import { encodeRecord } from './segment.js';

export interface CleanerPolicy {
  readonly deleteRetentionMs: number;
  readonly minCompactionLagMs: number;
  readonly segmentBytes: number;
  readonly maxKeys: number;
}

export interface CleanResult {
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly recordsRemoved: number;
}

/**
 * The records of a closed segment. readSegment stops quietly at the first bad record (right for the
 * active segment's torn tail); a closed segment has none, so bad bytes there are damage, and
 * rewriting the segment without them would silently drop every record after them.
 */
async function* readClosed(path: string): AsyncGenerator<SegmentRecord> {
  let end = 0;
  for await (const r of readSegment(path)) {
    end = r.position + r.size;
    yield r;
  }
  if (end !== (await fileSize(path))) {
    throw new CdcError('LOG_CORRUPT', `${path} is damaged at byte ${end}: its records end before the file does`, {
      hint: 'a closed segment of the embedded log failed its checksum; restore the log directory from a backup, or start a new log and rebuild the replicas',
    });
  }
}

/** Frames per gathered write (Linux's IOV_MAX). */
const WRITE_GATHER = 1024;

function keyHash(key: Buffer): string {
  return createHash('sha1').update(key).digest('base64');
}

/** Cleans the closed segments of the topic in `dir`, the active one being `activeBase`. */
export async function cleanTopic(dir: string, activeBase: bigint, policy: CleanerPolicy, now = Date.now()): Promise<CleanResult> {
  for (const name of await readdir(dir)) if (name.endsWith('.cleaning')) await unlink(join(dir, name)).catch(() => undefined);
  const closed = (await listSegments(dir)).filter((b) => b < activeBase);
  const latest = new Map<string, bigint>();
  const covered: { base: bigint; bytes: number }[] = [];
  let lastOffset = -1n;
  const leftovers: bigint[] = [];
  for (const base of closed) {
    if (base <= lastOffset) {
      leftovers.push(base); // merged into an earlier segment by a pass that crashed before deleting it
      continue;
    }
    const seen: [string, bigint][] = [];
    let young = false;
    for await (const r of readClosed(join(dir, segmentName(base)))) {
      if (now - r.timestamp < policy.minCompactionLagMs) young = true;
      seen.push([keyHash(r.key), r.offset]);
      lastOffset = r.offset;
    }
    if (young) break;
    let added = 0;
    for (const [h] of seen) if (!latest.has(h)) added++;
    if (latest.size + added > policy.maxKeys && covered.length > 0) break;
    for (const [h, offset] of seen) latest.set(h, offset);
    covered.push({ base, bytes: (await stat(join(dir, segmentName(base)))).size });
  }
  for (const base of leftovers) await unlink(join(dir, segmentName(base))).catch(() => undefined);
  if (covered.length === 0) return { bytesBefore: 0, bytesAfter: 0, recordsRemoved: 0 };

  const keep = (r: SegmentRecord): boolean =>
    latest.get(keyHash(r.key)) === r.offset && !(r.value === null && now - r.timestamp >= policy.deleteRetentionMs);

  let bytesBefore = 0;
  let bytesAfter = 0;
  let removed = 0;
  let group: bigint[] = [];
  let out: { base: bigint; parts: Buffer[]; bytes: number; removed: number } | undefined;
  const flush = async (): Promise<void> => {
    if (!out) return;
    if (group.length === 1 && out.removed === 0) {
      // A segment this pass would not change (cleaned by an earlier pass, or with no key written
      // again) stays as it is: rewriting and fsyncing an identical copy of every closed segment at
      // every pass was disk work that delayed the appends' own fsyncs (issue 12).
      bytesAfter += out.bytes;
      out = undefined;
      group = [];
      return;
    }
    const target = join(dir, segmentName(out.base));
    const tmp = target + '.cleaning';
    const fh = await open(tmp, 'w');
    try {
      // Gathered writes: one write call per record kept the writer's event loop busy for seconds
      // per pass (its main-thread time, in cdc start, is time no change is appended), which showed
      // as a half-second stall of every row in the end-to-end latency (docs/benchmarks.md).
      // Made durable a gathered write at a time: one fsync of a whole rewritten group (32 MB in the
      // e2e bench) put that much I/O ahead of the appends' own fdatasync, which took 58 ms right
      // after it (docs/benchmarks.md, issue 12); at most WRITE_GATHER frames are queued ahead now.
      for (let i = 0; i < out.parts.length; i += WRITE_GATHER) {
        await fh.writev(out.parts.slice(i, i + WRITE_GATHER));
        await fh.datasync();
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await syncDir(dir);
    for (const b of group) if (b !== out.base) await unlink(join(dir, segmentName(b)));
    await syncDir(dir);
    bytesAfter += out.bytes;
    out = undefined;
    group = [];
  };
  for (const { base, bytes } of covered) {
    bytesBefore += bytes;
    if (out && out.bytes >= policy.segmentBytes) await flush();
    out ??= { base, parts: [], bytes: 0, removed: 0 };
    group.push(base);
    for await (const r of readClosed(join(dir, segmentName(base)))) {
      if (!keep(r)) {
        removed++;
        out.removed++;
        continue;
      }
      const frame = encodeRecord(r.offset, r.timestamp, r.key, r.value);
      out.parts.push(frame);
      out.bytes += frame.length;
    }
  }
  await flush();
  return { bytesBefore, bytesAfter, recordsRemoved: removed };
}
