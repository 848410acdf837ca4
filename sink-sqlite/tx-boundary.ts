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
import { decodeChange, type LogBatch, type LogRecord } from '../compaction/index.js';

/** Records held per topic at most; beyond this a huge transaction is applied in parts. */
export const MAX_HELD = 100_000;
/** How long a held tail waits for the rest of its transaction while the topic is idle. */
export const IDLE_FLUSH_MS = 500;

function txidOf(r: LogRecord): string | null | undefined {
  if (r.value === null) return undefined;
  return decodeChange(r.value).source.txid;
}

interface Held {
  records: LogRecord[];
  /** The transaction the held records belong to (undefined: tombstones only so far). */
  txid: string | undefined;
}

/** Per topic, the records held back because their transaction may continue in the next batch. */
export class TxBoundary {
  private readonly held = new Map<string, Held>();

  /**
   * The part of `pending + batch` that ends at a transaction boundary, as a batch to apply (its
   * `nextOffset` stops before the held records), or undefined when everything is held. Only the
   * new batch is scanned (each record's value decoded once): the held records are one
   * transaction's tail already, so a large transaction costs time linear in its size.
   */
  take(batch: LogBatch): LogBatch | undefined {
    const before = this.held.get(batch.topic);
    const records = batch.records;
    let cut = records.length;
    let tail: string | undefined;
    let whole = true;
    for (let i = records.length - 1; i >= 0; i--) {
      const txid = txidOf(records[i] as LogRecord);
      if (txid === undefined) {
        cut = i;
        continue;
      }
      if (txid === null || (tail !== undefined && txid !== tail)) {
        whole = false;
        break;
      }
      tail = txid;
      cut = i;
    }
    let apply: LogRecord[];
    let hold: Held;
    if (whole && before && (tail === undefined || before.txid === undefined || tail === before.txid)) {
      // The whole batch continues the held transaction.
      apply = [];
      hold = { records: before.records.concat(records), txid: tail ?? before.txid };
    } else {
      apply = before ? before.records.concat(records.slice(0, cut)) : records.slice(0, cut);
      hold = { records: records.slice(cut), txid: tail };
    }
    if (hold.records.length > MAX_HELD) {
      apply = apply.concat(hold.records);
      hold = { records: [], txid: undefined };
    }
    if (hold.records.length > 0) this.held.set(batch.topic, hold);
    else this.held.delete(batch.topic);
    const nextOffset = hold.records.length > 0 ? (hold.records[0] as LogRecord).offset : batch.nextOffset;
    if (apply.length === 0) return undefined;
    return { topic: batch.topic, records: apply, nextOffset };
  }

  /** Whether records of `topic` are held. */
  holds(topic: string): boolean {
    return this.held.has(topic);
  }

  /** Everything held for `topic`, as a batch ending at `nextOffset`, and forgets it. */
  release(topic: string, nextOffset: bigint): LogBatch | undefined {
    const records = this.held.get(topic)?.records;
    this.held.delete(topic);
    if (!records || records.length === 0) return undefined;
    return { topic, records, nextOffset };
  }

  /** The topics with held records. */
  topics(): string[] {
    return [...this.held.keys()];
  }
}
