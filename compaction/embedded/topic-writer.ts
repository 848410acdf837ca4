/**
 * The writing side of one topic: appends to the active segment, rolls it when it is full or old,
 * and on open recovers from a crash by cutting the active segment at its last whole record (a
 * torn tail is the only damage a crash can do: records are only ever appended there).
 */
import { constants } from 'node:fs';
import { open, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CdcError } from '../../common/index.js';
import { listSegments, readSegment, segmentName, syncDir, writeHighWater } from './files.js';
import { encodeRecordInto, frameSize } from './segment.js';

export interface SegmentPolicy {
  readonly segmentBytes: number;
  readonly segmentMs: number;
}

export class TopicWriter {
  private constructor(
    private readonly dir: string,
    private readonly policy: SegmentPolicy,
    private active: FileHandle,
    private activeBase: bigint,
    private activeBytes: number,
    private activeSince: number | null,
    private readonly hw: FileHandle,
    /** The offset the next record gets. */
    public next: bigint,
    private dirty = false,
  ) {}

  /** Opens a topic for writing, creating its first segment or recovering its active one. */
  static async open(dir: string, policy: SegmentPolicy): Promise<{ writer: TopicWriter; truncatedBytes: number }> {
    const bases = await listSegments(dir);
    let base = bases[bases.length - 1];
    if (base === undefined) {
      base = 0n;
      await (await open(join(dir, segmentName(0n)), 'a')).close();
      await syncDir(dir);
    }
    const path = join(dir, segmentName(base));
    let next = base;
    let valid = 0;
    let since: number | null = null;
    for await (const r of readSegment(path)) {
      next = r.offset + 1n;
      valid = r.position + r.size;
      since ??= r.timestamp;
    }
    const handle = await open(path, 'r+');
    const size = (await handle.stat()).size;
    let truncatedBytes = 0;
    if (size > valid) {
      truncatedBytes = size - valid;
      await truncate(path, valid);
      await handle.sync();
    }
    const hw = await open(join(dir, 'hw'), constants.O_RDWR | constants.O_CREAT);
    await writeHighWater(hw, next);
    return { writer: new TopicWriter(dir, policy, handle, base, valid, since, hw, next), truncatedBytes };
  }

  /** Appends records (not yet durable: call sync). */
  async write(records: readonly { key: Buffer; value: Buffer | null }[], now: number): Promise<void> {
    await this.rollIfDue(now);
    // One buffer for the batch, each key and value copied into it once.
    let size = 0;
    for (const r of records) size += frameSize(r.key, r.value);
    const buf = Buffer.allocUnsafe(size);
    let pos = 0;
    let offset = this.next;
    for (const r of records) pos = encodeRecordInto(buf, pos, offset++, now, r.key, r.value);
    let written = 0;
    while (written < buf.length) {
      const { bytesWritten } = await this.active.write(buf, written, buf.length - written, this.activeBytes + written);
      if (bytesWritten === 0) throw new CdcError('LOG_WRITE_FAILED', `could not write to ${this.dir}`);
      written += bytesWritten;
    }
    this.activeBytes += buf.length;
    this.next += BigInt(records.length);
    this.activeSince ??= now;
    this.dirty = true;
  }

  /** Makes everything written durable, then lets readers see it. */
  async sync(): Promise<void> {
    if (!this.dirty) return;
    await this.active.datasync();
    await writeHighWater(this.hw, this.next);
    this.dirty = false;
  }

  private async rollIfDue(now: number): Promise<void> {
    if (this.activeBytes === 0) return;
    const full = this.activeBytes >= this.policy.segmentBytes;
    const old = this.activeSince !== null && now - this.activeSince >= this.policy.segmentMs;
    if (!full && !old) return;
    await this.sync();
    await this.active.close();
    this.activeBase = this.next;
    this.active = await open(join(this.dir, segmentName(this.next)), 'w+');
    await syncDir(this.dir);
    this.activeBytes = 0;
    this.activeSince = null;
  }

  /** The base offset of the active segment: compaction touches only segments before it. */
  get activeSegment(): bigint {
    return this.activeBase;
  }

  async close(): Promise<void> {
    await this.sync();
    await this.active.close();
    await this.hw.close();
  }
}

