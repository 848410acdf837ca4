/**
 * Never acknowledge faster than durability. Records collect in memory until they are appended to
 * the log; a commit LSN becomes confirmable only when every record up to and including its
 * transaction is acked by the log. One append is in flight at a time (group commit: what arrives
 * meanwhile goes out in the next one), and the producer is made to wait when too much is pending,
 * which pauses the replication socket behind it.
 *
 *   pending ──flush──▶ in flight ──acked──▶ confirmable LSN ──▶ standby status to PostgreSQL
 *
 * Every unit ends with end marks (compaction/tx-marks.ts): a source transaction at its commit, and
 * whatever is written outside one (a snapshot chunk, tombstones) when it is flushed. The marks go
 * into `pending` behind the unit's records, so they are durable — and the commit LSN confirmable —
 * only after every record of the unit is.
 *
 * A run of `cdc start` that failed is fenced by {@link Delivery.close}: its append stops retrying
 * and is waited for, so nothing of it lands in the log after the next run's first append (which
 * would put an older change after a newer one, and make it the key's latest).
 */
import { crashPoint, formatLsn, retry, type Logger } from '../common/index.js';
import { endMarkRecords, isEndMark, type AppendRecord, type TopicLog } from '../compaction/index.js';

export interface DeliveryOptions {
  log: TopicLog;
  logger: Logger;
  /** Called with each newly durable commit LSN (to send it to PostgreSQL). */
  onDurable: (lsn: bigint) => void;
  /** Records per append. */
  batchRecords?: number;
  /** Pending records at which `add` waits for the log. */
  maxPending?: number;
  /** Which topics are table topics, whose units end with marks (none when absent). */
  isTableTopic?: (topic: string) => boolean;
}

export class Delivery {
  private pending: AppendRecord[] = [];
  /** End LSN of the last commit whose records are all in `pending` or earlier. */
  private pendingCommit: bigint | null = null;
  private inflight: Promise<void> | null = null;
  private failure: unknown;
  private readonly closing = new AbortController();
  private readonly batchRecords: number;
  private readonly maxPending: number;
  /** Table topic → records added since the unit under way began. */
  private unit = new Map<string, number>();
  /** Inside a source transaction: a flush does not end the unit, its commit does. */
  private inTransaction = false;
  /** The latest commit LSN seen: the position that marks of units outside transactions carry. */
  private lastLsn = 0n;
  /** Records acked by the log since start, for progress reports. */
  delivered = 0;
  /**
   * Rejects when an append fails for good, so that the run ends at once instead of at its next
   * change (a quiet stream may have none for a long time).
   */
  readonly failed: Promise<never>;
  private reportFailure!: (e: unknown) => void;

  constructor(private readonly options: DeliveryOptions) {
    this.batchRecords = options.batchRecords ?? 5000;
    this.maxPending = options.maxPending ?? 20_000;
    this.failed = new Promise<never>((_, reject) => (this.reportFailure = reject));
    this.failed.catch(() => undefined);
  }

  /**
   * True when nothing is waiting for the log and nothing failed: only then may a keepalive's
   * position be confirmed. A failed append leaves nothing pending, but its records are not in
   * the log; confirming past them would lose them at the next start.
   */
  get idle(): boolean {
    return this.failure === undefined && this.pending.length === 0 && this.inflight === null;
  }

  /** Queues records; waits while too many are pending. */
  async add(records: readonly AppendRecord[]): Promise<void> {
    this.throwIfFailed();
    const isTable = this.options.isTableTopic;
    for (const r of records) {
      this.pending.push(r);
      if (isTable?.(r.topic) && !isEndMark(r.key)) this.unit.set(r.topic, (this.unit.get(r.topic) ?? 0) + 1);
    }
    if (this.pending.length >= this.batchRecords) this.kick();
    while (this.pending.length >= this.maxPending && this.inflight) {
      await this.inflight;
      this.throwIfFailed();
    }
  }

  /** A source transaction begins: what follows is one unit until {@link commit}. */
  begin(): void {
    this.endUnit(null);
    this.inTransaction = true;
  }

  /** Marks the end of a transaction whose records have all been added. */
  commit(endLsn: bigint, txid: string | null = null): void {
    this.throwIfFailed();
    this.inTransaction = false;
    this.lastLsn = endLsn;
    this.endUnit(txid);
    this.pendingCommit = endLsn;
    this.kick();
  }

  /** Appends `records` now, after everything pending, and waits until they are durable. */
  async appendNow(records: readonly AppendRecord[]): Promise<void> {
    await this.add(records);
    await this.flush();
  }

  /**
   * Waits until everything added so far is durable. Outside a transaction, what was added is a
   * unit of its own (a snapshot chunk, tombstones) and gets its marks first.
   */
  async flush(): Promise<void> {
    if (!this.inTransaction) this.endUnit(null);
    for (;;) {
      this.throwIfFailed();
      if (this.inflight) await this.inflight;
      else if (this.pending.length > 0) this.kick(true);
      else return;
    }
  }

  /**
   * Fences this delivery: no new append starts, the one under way stops waiting out failures and
   * is waited for. Nothing queued is confirmed; PostgreSQL sends it again to the next run.
   */
  async close(): Promise<void> {
    this.failure ??= new Error('delivery closed');
    this.closing.abort();
    await this.inflight;
  }

  /** Queues the marks of the unit under way, if it wrote to any table topic. */
  private endUnit(txid: string | null): void {
    if (this.unit.size === 0) return;
    const topics = Object.fromEntries(this.unit);
    this.unit = new Map();
    for (const r of endMarkRecords({ lsn: formatLsn(this.lastLsn), txid, topics })) this.pending.push(r);
  }

  private kick(force = false): void {
    if (this.inflight || this.failure !== undefined) return;
    if (this.pending.length === 0) {
      // Everything up to this commit is already durable (its records went out in earlier batches).
      if (this.pendingCommit !== null) {
        const lsn = this.pendingCommit;
        this.pendingCommit = null;
        this.options.onDurable(lsn);
      }
      return;
    }
    if (!force && this.pendingCommit === null && this.pending.length < this.batchRecords) return;
    const batch = this.pending.splice(0, Math.max(this.batchRecords, this.pending.length >= this.maxPending ? this.pending.length : 0));
    // The commit LSN is covered only if its records all went out in this batch.
    const commit = this.pending.length === 0 ? this.pendingCommit : null;
    if (this.pending.length === 0) this.pendingCommit = null;
    this.inflight = this.send(batch, commit).finally(() => {
      this.inflight = null;
      this.kick();
    });
  }

  private async send(batch: AppendRecord[], commit: bigint | null): Promise<void> {
    try {
      await retry(() => this.options.log.append(batch, { signal: this.closing.signal }), {
        attempts: 6,
        signal: this.closing.signal,
        baseMs: 500,
        maxMs: 15_000,
        onRetry: (e, attempt, delay) => this.options.logger.warn('log append failed; retrying', { attempt, delay_ms: Math.round(delay), error: String(e) }),
      });
      this.delivered += batch.length;
      crashPoint('after-append');
      if (commit !== null) this.options.onDurable(commit);
    } catch (e) {
      this.failure ??= e;
      this.reportFailure(e);
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
