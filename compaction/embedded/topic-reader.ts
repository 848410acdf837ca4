/**
 * The reading side of one topic, for any number of readers in any process: reads records from a
 * position, never past the durable end the writer published (`hw`), across segment rolls and
 * across compaction rewriting segments underneath it.
 *
 * A reader holds an open segment; compaction replaces files by rename, so the held file keeps its
 * old (complete) content. Whenever the reader leaves a file it finds its next one again by offset,
 * so records that compaction moved into an earlier file are not skipped.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CdcError } from '../../common/index.js';
import type { LogRecord } from '../topic-log.js';
import { listSegments, openHighWater, readHighWaterFrom, segmentName } from './files.js';
import { decodeAt, type SegmentRecord } from './segment.js';

/**
 * A read buffer that readers taking turns share (the readers of one consumption are read one after
 * another). A following reader wakes hundreds of times a second for a few records; a new 1 MiB
 * buffer per read was ~300 MiB/s of short-lived external memory at 5,000 rows/s, and V8 collected
 * ~33 times a second in a following sink (docs/benchmarks.md, issue 12). Records read into it are
 * copies (decodeAt), so the next read into it cannot change them.
 */
export class ReadBuffer {
  private readonly buf: Buffer;

  constructor(readonly size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** `length` bytes to read into: this buffer's when it is large enough, else a new one. */
  take(length: number): Buffer {
    return length <= this.size ? this.buf.subarray(0, length) : Buffer.allocUnsafe(length);
  }
}

interface OpenSegment {
  readonly base: bigint;
  readonly handle: FileHandle;
  readonly ino: number;
  pos: number;
}

export class TopicReader {
  private segment: OpenSegment | undefined;
  /**
   * The last read filled most of what it asked for: the reader is reading a backlog (a bootstrap,
   * a catch-up), not following the end. Such a read goes into a buffer of its own and its records
   * are views of it, not copies: the copies of every key and value were ~5% of a bootstrap's main
   * thread (docs/benchmarks.md, issue 14). A record held keeps its buffer alive, which is the size
   * of the records read with it.
   */
  private bulk = false;
  /**
   * The topic's `hw` file, held open: the writer rewrites its 8 bytes in place, so a read of it
   * is one pread, not an open, a read and a close per wake (3 trips to the thread pool, on the
   * path of every change a following sink applies).
   */
  private hw: FileHandle | undefined;

  constructor(
    private readonly dir: string,
    readonly topic: string,
    /** The next offset to deliver. */
    public next: bigint,
    /** Where reads land; shared only with readers that never read at the same time as this one. */
    private readonly buffer = new ReadBuffer(0),
  ) {}

  /** Up to `maxBytes` of records from `next` (fewer at the end); empty when there is nothing new. */
  async read(maxBytes: number): Promise<{ records: LogRecord[]; nextOffset: bigint }> {
    const hw = await this.highWater();
    const records: LogRecord[] = [];
    let bytes = 0;
    const deliver = (rec: SegmentRecord): void => {
      if (rec.offset < this.next) return; // before the position (or moved here by compaction)
      records.push({ topic: this.topic, offset: rec.offset, key: rec.key, value: rec.value, timestamp: rec.timestamp });
      bytes += rec.size;
      this.next = rec.offset + 1n;
    };
    while (this.next < hw && bytes < maxBytes) {
      const seg = await this.current();
      if (!seg) break;
      const want = Math.max(64 * 1024, maxBytes - bytes);
      const views = this.bulk;
      const buf = await readAt(seg, seg.pos, views ? Buffer.allocUnsafe(want) : this.buffer.take(want));
      let p = 0;
      let done = false;
      while (p < buf.length) {
        const r = decodeAt(buf, p, 0, views);
        if (r.kind === 'corrupt') {
          // In the active segment this may be a record still being copied in: retry later.
          if (!(await this.isClosed(seg))) {
            done = true;
            break;
          }
          throw damaged(this.dir, seg, p, r.reason);
        }
        if (r.kind === 'incomplete') {
          if (p === 0 && buf.length === want) {
            // One record larger than the buffer.
            const big = await readAt(seg, seg.pos, Buffer.allocUnsafe(buf.readUInt32BE(0) + 8));
            const rr = decodeAt(big, 0);
            if (rr.kind === 'corrupt') throw damaged(this.dir, seg, 0, rr.reason);
            if (rr.kind === 'record' && rr.record.offset < hw) {
              deliver(rr.record);
              p = rr.record.size;
            } else done = true;
          } else if (buf.length < want) {
            done = true; // the tail being written, beyond the durable end
          }
          break;
        }
        if (r.record.offset >= hw) {
          done = true;
          break;
        }
        p += r.record.size;
        deliver(r.record);
        if (bytes >= maxBytes) {
          done = true;
          break;
        }
      }
      seg.pos += p;
      if (done) break;
      if (buf.length < want && p === buf.length && !(await this.advance(seg))) {
        // The whole log is read and the durable end is still ahead: the offsets between were
        // removed by compaction (the active segment is never compacted, so this is rare).
        if (this.next < hw && (await this.highWater()) === hw) this.next = hw;
        break;
      }
    }
    this.bulk = bytes >= maxBytes / 2;
    return { records, nextOffset: this.next };
  }

  private async highWater(): Promise<bigint> {
    this.hw ??= await openHighWater(this.dir);
    return readHighWaterFrom(this.hw);
  }

  private async isClosed(seg: OpenSegment): Promise<boolean> {
    return (await listSegments(this.dir)).some((b) => b > seg.base);
  }

  /** The open segment, or the one that holds `next`. */
  private async current(): Promise<OpenSegment | undefined> {
    if (this.segment) return this.segment;
    // The cleaner may delete a listed segment (merged into an earlier file) before it is opened:
    // then the listing is simply read again.
    for (let attempt = 0; ; attempt++) {
      const bases = await listSegments(this.dir);
      let base: bigint | undefined;
      for (const b of bases) if (b <= this.next) base = b;
      base ??= bases[0];
      if (base === undefined) return undefined;
      try {
        return (this.segment = await this.openSegment(base));
      } catch (e) {
        if (!isMissing(e) || attempt >= 20) throw e;
      }
    }
  }

  private async openSegment(base: bigint): Promise<OpenSegment> {
    const handle = await open(join(this.dir, segmentName(base)), 'r');
    return { base, handle, ino: (await handle.stat()).ino, pos: 0 };
  }

  /**
   * At the end of `seg`: switch to the file that now holds `next`, or to the next segment. Returns
   * false when `seg` is the active segment (nothing further yet).
   */
  private async advance(seg: OpenSegment): Promise<boolean> {
    const bases = await listSegments(this.dir);
    const later = bases.find((b) => b > seg.base);
    if (later === undefined) return false;
    // A later segment exists, so this one is complete: read what was appended before the roll.
    const size = (await seg.handle.stat()).size;
    if (size > seg.pos) return true;
    let holder: bigint | undefined;
    for (const b of bases) if (b <= this.next) holder = b;
    let target = later;
    if (holder !== undefined && holder !== seg.base) target = holder;
    else if (holder === seg.base) {
      const now = await stat(join(this.dir, segmentName(seg.base))).catch(() => undefined);
      // Compaction rewrote this segment (possibly merging later ones into it): read the new file.
      if (now && now.ino !== seg.ino) target = seg.base;
    }
    await seg.handle.close();
    this.segment = undefined;
    try {
      this.segment = await this.openSegment(target);
    } catch (e) {
      // Deleted by the cleaner since the listing: current() finds the file that holds `next` now.
      if (!isMissing(e)) throw e;
    }
    return true;
  }

  async close(): Promise<void> {
    await this.segment?.handle.close();
    this.segment = undefined;
    await this.hw?.close();
    this.hw = undefined;
  }
}

function isMissing(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

async function readAt(seg: OpenSegment, pos: number, buf: Buffer): Promise<Buffer> {
  const { bytesRead } = await seg.handle.read(buf, 0, buf.length, pos);
  return buf.subarray(0, bytesRead);
}

function damaged(dir: string, seg: OpenSegment, at: number, reason: string): CdcError {
  return new CdcError('LOG_CORRUPT', `${join(dir, segmentName(seg.base))} is damaged at byte ${seg.pos + at}: ${reason}`, {
    hint: 'a closed segment of the embedded log failed its checksum; restore the log directory from a backup, or start a new log and rebuild the replicas',
  });
}
