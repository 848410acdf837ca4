/**
 * Keeps a source transaction whole within a topic. Kafka hands records over in fetch batches whose
 * edges know nothing of PostgreSQL transactions, so a batch may end half-way through one. Applying
 * it as it comes would let readers see half a transaction. Instead the trailing records that may
 * belong to an unfinished transaction are held back and applied with the next batch, and the
 * committed offset stops before them (a restart reads them again).
 *
 * Which records are held: every record after the last one whose transaction id differs from the
 * batch's last transaction id. Tombstones carry no position, so a tombstone in that tail is held
 * too (it may belong to the last transaction). Snapshot records (no transaction id) are not a
 * transaction and are never held, so a snapshot of a million rows does not pile up here.
 *
 * Limits (docs/operations.md): a transaction larger than {@link MAX_HELD} records in one topic may
 * be seen in parts; a tail held while the topic is idle is applied after {@link IDLE_FLUSH_MS},
 * because the log has no commit marker to say that a transaction is complete.
 */
import type { LogBatch, LogRecord } from '../compaction/index.js';
import { decodedChange } from './decoded.js';

/** Records held per topic at most; beyond this a huge transaction is applied in parts. */
export const MAX_HELD = 100_000;
/** How long a held tail waits for the rest of its transaction while the topic is idle. */
export const IDLE_FLUSH_MS = 500;

function txidOf(r: LogRecord): string | null | undefined {
  if (r.value === null) return undefined;
  return decodedChange(r.value).source.txid;
}

/** Per topic, the records held back because their transaction may continue in the next batch. */
export class TxBoundary {
  private readonly held = new Map<string, LogRecord[]>();
  /** Per topic, the transaction id of the held records (all have it, or are tombstones). */
  private readonly heldTxid = new Map<string, string>();

  /**
   * The part of `pending + batch` that ends at a transaction boundary, as a batch to apply (its
   * `nextOffset` stops before the held records), or undefined when everything is held.
   */
  take(batch: LogBatch): LogBatch | undefined {
    const held = this.held.get(batch.topic) ?? [];
    const heldTxid = this.heldTxid.get(batch.topic);
    const records = [...held, ...batch.records];
    let cut = records.length;
    let tail: string | null | undefined;
    for (let i = records.length - 1; i >= 0; i--) {
      // Reaching the held records with their own transaction id: the scan would keep every one
      // of them (each has that id or is a tombstone), so skip it. Without this, a large
      // transaction arriving in many batches was scanned again with each one: quadratic.
      if (i < held.length && tail !== undefined && tail === heldTxid) {
        cut = 0;
        break;
      }
      const txid = txidOf(records[i] as LogRecord);
      if (txid === undefined) {
        cut = i;
        continue;
      }
      if (tail === undefined) {
        if (txid === null) break;
        tail = txid;
        cut = i;
        continue;
      }
      if (txid !== tail) break;
      cut = i;
    }
    if (records.length - cut > MAX_HELD) cut = records.length;
    const apply = records.slice(0, cut);
    const hold = records.slice(cut);
    if (hold.length > 0) this.held.set(batch.topic, hold);
    else this.held.delete(batch.topic);
    if (hold.length > 0 && typeof tail === 'string') this.heldTxid.set(batch.topic, tail);
    else this.heldTxid.delete(batch.topic);
    const nextOffset = hold.length > 0 ? (hold[0] as LogRecord).offset : batch.nextOffset;
    if (apply.length === 0) return undefined;
    return { topic: batch.topic, records: apply, nextOffset };
  }

  /** Whether records of `topic` are held. */
  holds(topic: string): boolean {
    return this.held.has(topic);
  }

  /** Everything held for `topic`, as a batch ending at `nextOffset`, and forgets it. */
  release(topic: string, nextOffset: bigint): LogBatch | undefined {
    const records = this.held.get(topic);
    this.held.delete(topic);
    this.heldTxid.delete(topic);
    if (!records || records.length === 0) return undefined;
    return { topic, records, nextOffset };
  }

  /** The topics with held records. */
  topics(): string[] {
    return [...this.held.keys()];
  }
}
