/**
 * Applies source transactions whole, across topics, the moment the log holds their end.
 *
 * Every unit `cdc start` writes (a transaction, a snapshot chunk, tombstones) ends with a mark on
 * each topic it touched, naming all of them (compaction/tx-marks.ts). Records are applied as they
 * arrive, into one open SQLite transaction — streamed, not held in the process, so a transaction
 * of any size costs no memory here — and that SQLite transaction is committed, with the offsets,
 * only when everything applied so far is made of complete units:
 *
 *   idle ──record──▶ open (applying) ──mark whose topics all reached their marks──▶ commit ──▶ idle
 *                        │
 *                        ├─ a topic at the mark of a unit still incomplete elsewhere holds the rest
 *                        │  of its batch and is reported blocked (the sink pauses reading it), so a
 *                        │  busy topic cannot keep the commit waiting for ever, nor fill memory
 *                        └─ the records after a topic's last mark read (a unit begun, its mark not
 *                           read yet) are held too, and a commit is made the moment a unit is whole:
 *                           under a load that never pauses, some unit is always half-read, so a
 *                           commit waiting for a quiet moment would never come (the 3-node cluster
 *                           test under pgbench found this)
 *
 * A unit is complete when each topic it names has passed a mark at least as late (by LSN). A mark
 * sent again after a `cdc start` restart therefore finds its unit complete, and no topic waits for
 * a mark that will never come. Topics the replica does not follow (dropped tables) are not waited
 * for.
 *
 * Until the log announces marks (format 2; tx-marks.ts) each batch is applied in a transaction of
 * its own, as the topics of earlier versions were. While a bootstrap has not yet caught up
 * (`strict` false) commits are made every {@link BULK_COMMIT_RECORDS} records, wherever they
 * fall: a bootstrap promises consistency once caught up.
 */
import { MinHeap, parseLsn } from '../common/index.js';
import { decodeEndMark, isEndMark, type LogBatch, type LogRecord } from '../compaction/index.js';
import type { Applier, UnitEnd } from './apply.js';
import type { ReplicaDb } from './replica.js';

/**
 * Under a steady load, the shortest time between two commits made mid-batch (each is a sync of the
 * replica; one per source transaction made the cluster test's sink fall behind pgbench at ~80
 * commits/s). When the reading pauses, settle() commits at once.
 */
export const GROUP_COMMIT_MS = 20;

/**
 * Records of units begun but not ended in what was read (all topics) held at most; beyond that a
 * unit's records are applied as they come (it is a large one), and its commit waits for its marks.
 */
export const HOLD_LIMIT = 20_000;

/**
 * Records applied at least between two commits while a bootstrap catches up (not strict): a commit
 * per fetched batch (~3,000 records) made SQLite write the same b-tree pages again every time.
 */
export const BULK_COMMIT_RECORDS = 100_000;

interface TopicState {
  /** The next offset to apply (records held back are not applied): skips a call with nothing to do. */
  position: bigint;
  /** Records applied since this topic's last mark: the open transaction is not whole. */
  dirty: boolean;
  /** The latest LSN among the marks applied in this topic (-1: none yet). */
  lastMark: bigint;
  /**
   * Records read but not applied: because the unit ending before them is incomplete
   * (`blockedBy`), or because they begin a unit whose mark is not read yet (a held tail).
   */
  held: readonly LogRecord[];
  /** Where the held records begin in `held` (an index, so that holding the rest of a batch copies nothing). */
  heldFrom: number;
  heldNext: bigint;
  /** Whether `held` is a tail (counted against the hold limit) rather than what a block holds. */
  heldTail: boolean;
  /** The unit that holds this topic back. */
  blockedBy: Unit | undefined;
}

interface Unit {
  readonly lsn: bigint;
  readonly topics: readonly string[];
}

export interface WholeTransactionsOptions {
  /** Whether a commit must end at unit boundaries (false while a bootstrap catches up). */
  strict: () => boolean;
  /** Whether the replica follows `topic` (has its table). */
  followed: (topic: string) => boolean;
  /** Records of begun units held back (all topics) at most (default {@link HOLD_LIMIT}). */
  holdLimit?: number;
  /** Records applied at least between two commits when not strict (default {@link BULK_COMMIT_RECORDS}). */
  bulkCommitRecords?: number;
}

export class WholeTransactions {
  private readonly state = new Map<string, TopicState>();
  /** Units whose marks have been applied in some but not yet all of their topics. */
  private readonly incomplete = new Map<bigint, Unit>();
  /**
   * Topic → the incomplete units that wait for it (its mark not passed yet), earliest first. When
   * a topic passes a mark only these are looked at again: a bootstrap reading one topic far ahead
   * of the others has every unit of it incomplete at once, and looking at all of them at every
   * mark made it quadratic (a fresh replica of the cluster test crawled at 650 records/s).
   */
  private readonly waitingOn = new Map<string, MinHeap<Unit>>();
  private open = false;
  /** Records applied into the open transaction. */
  private uncommitted = 0;
  /** Records held as tails (all topics). */
  private tailCount = 0;
  /** When the last commit was made (ms since the epoch). */
  private lastCommit = 0;

  constructor(
    private readonly db: ReplicaDb,
    private readonly applier: Applier,
    private readonly options: WholeTransactionsOptions,
  ) {}

  /** Whether everything applied is committed. */
  get committed(): boolean {
    return !this.open;
  }

  /**
   * Topics held at the mark of a unit incomplete elsewhere: the reader should not hand over more
   * of them until they are released (each holds at most the rest of one batch meanwhile).
   */
  blocked(): string[] {
    const out: string[] = [];
    for (const [topic, s] of this.state) if (s.blockedBy) out.push(topic);
    return out;
  }

  /**
   * Applies a batch of a table topic (or holds it back). Throws what Applier throws; an
   * UnknownSchemaError leaves the records from the one that needs the definition unapplied; the
   * offsets saved in the open transaction say where to read again.
   */
  take(batch: LogBatch): void {
    const s = this.topic(batch.topic, batch.records[0]?.offset ?? batch.nextOffset);
    if (this.applier.logFormat < 2) {
      // Topics of the old format have no marks: each batch is applied as it comes.
      this.applyRun(batch.topic, s, batch.records.filter((r) => !isEndMark(r.key)), batch.nextOffset);
      this.commit();
      return;
    }
    if (s.blockedBy) {
      // A batch of a topic already blocked (a reader that does not pause): held with the rest.
      s.held = [...s.held.slice(s.heldFrom), ...batch.records];
      s.heldFrom = 0;
      s.heldNext = batch.nextOffset;
      return;
    }
    // A tail held back (the start of a unit whose mark was not read yet) goes first.
    const records = heldCount(s) > 0 ? [...s.held.slice(s.heldFrom), ...batch.records] : batch.records;
    this.unhold(s);
    this.process(batch.topic, s, records, 0, batch.nextOffset);
  }

  /**
   * Commits what was applied if it is made of whole units (or if not strict), then applies what
   * topics held back for units complete now — after the commit, so that it does not delay it.
   * True when nothing stays uncommitted.
   */
  settle(): boolean {
    do {
      if (this.open && (this.options.strict() ? this.whole() : this.uncommitted >= (this.options.bulkCommitRecords ?? BULK_COMMIT_RECORDS))) this.commit();
    } while (this.releaseHeld());
    return !this.open;
  }

  /** Whether everything applied is made of complete units. */
  private whole(): boolean {
    for (const [topic, s] of this.state) if (s.dirty && this.options.followed(topic)) return false;
    let whole = true;
    for (const [lsn, u] of this.incomplete) {
      // A unit can also become complete by a topic ceasing to be followed (a dropped table).
      if (this.complete(u)) this.incomplete.delete(lsn);
      else whole = false;
    }
    return whole;
  }

  /** Abandons what was applied and not committed (the caller reads again from the replica's offsets). */
  rollback(): void {
    if (this.open && this.db.inTransaction) this.db.exec('ROLLBACK');
    this.open = false;
    this.uncommitted = 0;
    this.state.clear();
    this.incomplete.clear();
    this.waitingOn.clear();
    this.tailCount = 0;
  }

  /**
   * Forgets records held back: the caller resubscribes from the offsets saved in the open
   * transaction, and what it reads again is held again while its unit is incomplete.
   */
  dropHeld(): void {
    for (const s of this.state.values()) {
      s.held = [];
      s.heldFrom = 0;
      s.heldTail = false;
      s.blockedBy = undefined;
    }
    this.tailCount = 0;
  }

  private topic(topic: string, from: bigint): TopicState {
    let s = this.state.get(topic);
    if (!s) {
      s = { position: from, dirty: false, lastMark: -1n, held: [], heldFrom: 0, heldNext: from, heldTail: false, blockedBy: undefined };
      this.state.set(topic, s);
    }
    return s;
  }

  private unhold(s: TopicState): void {
    if (s.heldTail) this.tailCount -= heldCount(s);
    s.held = [];
    s.heldFrom = 0;
    s.heldTail = false;
  }

  /** Applies `records` of `topic` up to the first mark of an incomplete unit; holds the rest. */
  private process(topic: string, s: TopicState, records: readonly LogRecord[], from: number, nextOffset: bigint): void {
    const strict = this.options.strict();
    let start = from;
    for (let i = from; i < records.length; i++) {
      const r = records[i] as LogRecord;
      if (!isEndMark(r.key)) continue;
      const mark = decodeEndMark(r.value);
      const unit: Unit = { lsn: parseLsn(mark.lsn), topics: Object.keys(mark.topics) };
      this.applyRun(topic, s, records.slice(start, i), r.offset + 1n, { endLsn: unit.lsn, transaction: mark.txid !== null });
      start = i + 1;
      s.dirty = false;
      if (unit.lsn > s.lastMark) {
        s.lastMark = unit.lsn;
        this.passed(topic, unit.lsn);
      }
      if (this.complete(unit)) {
        // The moment a unit is whole may be the only one at which everything applied is: under a
        // steady load the next unit is always under way somewhere, so commit now, not at the end.
        // At most one commit every GROUP_COMMIT_MS, as each is a sync: the last unit of a burst
        // is committed by settle(), where everything read is applied and whole.
        if (strict && this.open && Date.now() - this.lastCommit >= GROUP_COMMIT_MS && this.whole()) this.commit();
        continue;
      }
      this.addIncomplete(unit);
      if (strict) {
        // What follows waits, and the reader pauses this topic (blocked()): applying it would
        // keep the commit waiting for yet another unit. No cycle can form: a topic blocked at
        // unit u waits only for topics that have not reached u's mark, and marks are in commit
        // order in every topic.
        s.blockedBy = unit;
        s.held = records;
        s.heldFrom = i + 1;
        s.heldNext = nextOffset;
        return;
      }
    }
    const tailLength = records.length - start;
    if (tailLength > 0 && strict && this.tailCount + tailLength <= (this.options.holdLimit ?? HOLD_LIMIT)) {
      // The start of a unit whose mark is still to come: held, not applied, so that this topic is
      // not left half-way through a unit while the others reach their marks (which, under a load
      // that never pauses, would keep every commit waiting). A unit larger than the limit is
      // applied as it comes, streamed, and its commit waits for its mark.
      s.held = records;
      s.heldFrom = start;
      s.heldTail = true;
      s.heldNext = nextOffset;
      this.tailCount += tailLength;
      return;
    }
    this.applyRun(topic, s, start === 0 ? records : records.slice(start), nextOffset);
  }

  /** Applies rows (and the offset after them) into the open transaction. */
  private applyRun(topic: string, s: TopicState, rows: readonly LogRecord[], nextOffset: bigint, unit?: UnitEnd): void {
    if (rows.length === 0 && nextOffset === s.position) return;
    if (!this.open && this.applier.logFormat >= 2) {
      this.db.exec('BEGIN');
      this.open = true;
    }
    this.applier.applyData({ topic, records: rows, nextOffset }, unit);
    this.uncommitted += rows.length;
    s.position = nextOffset;
    if (rows.length > 0) s.dirty = true;
  }

  /** Applies what topics held back for units that are complete now; true if any. */
  private releaseHeld(): boolean {
    let released = false;
    for (const [topic, s] of this.state) {
      // Only what a unit blocked; a held tail waits for the rest of its unit to be read.
      if (!s.blockedBy || !this.complete(s.blockedBy)) continue;
      s.blockedBy = undefined;
      released = true;
      if (heldCount(s) === 0) continue;
      const { held, heldFrom } = s;
      s.held = [];
      s.heldFrom = 0;
      this.process(topic, s, held, heldFrom, s.heldNext);
    }
    return released;
  }

  private addIncomplete(u: Unit): void {
    this.incomplete.set(u.lsn, u);
    for (const t of u.topics) {
      if ((this.state.get(t)?.lastMark ?? -1n) >= u.lsn) continue;
      let heap = this.waitingOn.get(t);
      if (!heap) this.waitingOn.set(t, (heap = new MinHeap<Unit>((a, b) => a.lsn < b.lsn)));
      heap.push(u);
    }
  }

  /** `topic` passed a mark at `lsn`: the units that waited for it up to there may be complete. */
  private passed(topic: string, lsn: bigint): void {
    const heap = this.waitingOn.get(topic);
    if (!heap) return;
    for (let u = heap.peek(); u !== undefined && u.lsn <= lsn; u = heap.peek()) {
      heap.pop();
      if (this.incomplete.get(u.lsn) === u && this.complete(u)) this.incomplete.delete(u.lsn);
    }
  }

  private complete(u: Unit): boolean {
    return u.topics.every((t) => !this.options.followed(t) || (this.state.get(t)?.lastMark ?? -1n) >= u.lsn);
  }

  private commit(): void {
    if (this.open) {
      this.db.exec('COMMIT');
      this.open = false;
      this.uncommitted = 0;
      this.lastCommit = Date.now();
    }
    // A unit still incomplete (possible only when not strict) stays, and keeps the next strict
    // commit waiting.
  }
}

function heldCount(s: TopicState): number {
  return s.held.length - s.heldFrom;
}
