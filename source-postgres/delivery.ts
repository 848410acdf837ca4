/**
 * Never acknowledge faster than durability. Records collect in memory until they are appended to
 * the log; a commit LSN becomes confirmable only when every record up to and including its
 * transaction is acked by the log. Up to `maxInFlight` appends are in flight at once, started in
 * order (group commit: what arrives meanwhile goes out in the next one), and the producer is made
 * to wait when too much is pending, which pauses the replication socket behind it.
 *
 *   pending ──flush──▶ in flight (≤ maxInFlight, in order) ──acked, and all before it──▶ confirmable LSN ──▶ PostgreSQL
 *                          │ an append fails
 *                          ▼
 *                      recovering: wait for every append in flight to settle, then append again,
 *                      as one call with retries, everything from the first append not acked to
 *                      the last one started (acked ones after it included) ──▶ in flight again
 *
 * Why everything after the first failure goes again: the log may hold append N+1 (acked) but not
 * N (failed); N appended alone would land after N+1, and a key changed in both would have N's
 * older value as its latest. Appended again after N, N+1's records are in the log twice, in
 * order, which replaying tolerates. Confirmations follow the order of the appends, never the
 * order of their acks.
 *
 * Every unit ends with end marks (compaction/tx-marks.ts): a source transaction at its commit, and
 * whatever is written outside one (a snapshot chunk, tombstones) when it is flushed. The marks go
 * into `pending` behind the unit's records, so they are durable — and the commit LSN confirmable —
 * only after every record of the unit is.
 *
 * A run of `cdc start` that failed is fenced by {@link Delivery.close}: its appends stop retrying
 * and are waited for, so nothing of it lands in the log after the next run's first append (which
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
  /** Pending records at which `add` waits for the log (besides up to maxInFlight batches in flight). */
  maxPending?: number;
  /** Appends in flight at once (default {@link DEFAULT_MAX_IN_FLIGHT}). */
  maxInFlight?: number;
  /** Which topics are table topics, whose units end with marks (none when absent). */
  isTableTopic?: (topic: string) => boolean;
}

/**
 * Appends in flight at once. Both logs write one append at a time (kafkajs' idempotent producer
 * holds a lock per broker from encode to ack; each log queues appends in call order), so the
 * second one waits in the log's queue — handed over and grouped while the first waits for its ack.
 * Measured in issue 13 (docs/benchmarks.md, "Kafka producer path"): on Kafka 0.29–0.32× with 2,
 * 0.20–0.27× with 1; a client that truly pipelines requests would take more.
 */
export const DEFAULT_MAX_IN_FLIGHT = 2;

/** One append handed to the log: its records, the commit it completes, and how it ended. */
interface Flight {
  readonly batch: AppendRecord[];
  /** The commit LSN all of whose records are in this flight or earlier ones. */
  commit: bigint | null;
  state: 'sending' | 'acked' | 'failed';
  error?: unknown;
  /** Settles (never rejects) when the append does. */
  done: Promise<void>;
}

export class Delivery {
  private pending: AppendRecord[] = [];
  /** End LSN of the last commit whose records are all in `pending` or earlier. */
  private pendingCommit: bigint | null = null;
  /** Appends started and not yet confirmed, in the order they were started. */
  private flights: Flight[] = [];
  /** The re-append after a failure, while it runs: nothing new starts meanwhile. */
  private recovery: Promise<void> | null = null;
  private failure: unknown;
  private readonly closing = new AbortController();
  private readonly batchRecords: number;
  private readonly maxPending: number;
  private readonly maxInFlight: number;
  /** Resolved (and replaced) whenever an append settles: what `add` and `flush` wait on. */
  private changed!: Promise<void>;
  private signalChange!: () => void;
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
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.failed = new Promise<never>((_, reject) => (this.reportFailure = reject));
    this.failed.catch(() => undefined);
    this.renewChange();
  }

  /**
   * True when nothing is waiting for the log and nothing failed: only then may a keepalive's
   * position be confirmed. A failed append leaves nothing pending, but its records are not in
   * the log; confirming past them would lose them at the next start.
   */
  get idle(): boolean {
    return this.failure === undefined && this.pending.length === 0 && this.flights.length === 0 && this.recovery === null;
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
    for (;;) {
      this.throwIfFailed();
      if (this.pending.length < this.maxPending || this.canStart()) return;
      await this.changed;
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
      if (this.pending.length > 0 && this.canStart()) this.kick(true);
      else if (this.flights.length > 0 || this.recovery) await this.changed;
      else return;
    }
  }

  /**
   * Fences this delivery: no new append starts, the ones under way stop waiting out failures and
   * are waited for. Nothing queued is confirmed; PostgreSQL sends it again to the next run.
   */
  async close(): Promise<void> {
    this.failure ??= new Error('delivery closed');
    this.closing.abort();
    while (this.flights.length > 0 || this.recovery) {
      await Promise.all([...this.flights.map((f) => f.done), this.recovery]);
      if (!this.recovery) break;
    }
  }

  /** Queues the marks of the unit under way, if it wrote to any table topic. */
  private endUnit(txid: string | null): void {
    if (this.unit.size === 0) return;
    const topics = Object.fromEntries(this.unit);
    this.unit = new Map();
    for (const r of endMarkRecords({ lsn: formatLsn(this.lastLsn), txid, topics })) this.pending.push(r);
  }

  private canStart(): boolean {
    return this.failure === undefined && this.recovery === null && this.flights.length < this.maxInFlight;
  }

  private kick(force = false): void {
    if (this.failure !== undefined) return;
    for (;;) {
      if (this.pending.length === 0) {
        if (this.pendingCommit !== null) {
          const lsn = this.pendingCommit;
          this.pendingCommit = null;
          // Every record up to this commit went out in earlier appends: it is durable with the
          // last of them, or already (nothing in flight).
          const last = this.flights.at(-1);
          if (last) last.commit = lsn;
          else this.options.onDurable(lsn);
        }
        return;
      }
      if (!this.canStart()) return;
      // A full batch goes out at once, beside those in flight; a commit's short one only when
      // nothing is in flight — else it waits and goes with the commits that follow (group
      // commit: one request for many small transactions, not one each).
      if (!force && this.pending.length < this.batchRecords && (this.pendingCommit === null || this.flights.length > 0)) return;
      // One batch per append, also when the log lags behind and `pending` is full: what is held
      // stays maxPending + maxInFlight × batchRecords records. (The whole backlog as one append
      // held up to three times maxPending on Kafka, every record of it long enough to be promoted
      // to V8's old generation; a larger append is split into requests anyway, sent one by one.)
      const batch = this.pending.splice(0, this.batchRecords);
      // The commit LSN is covered only if its records all went out in this batch.
      const commit = this.pending.length === 0 ? this.pendingCommit : null;
      if (this.pending.length === 0) this.pendingCommit = null;
      this.start(batch, commit);
      force = false;
    }
  }

  private start(batch: AppendRecord[], commit: bigint | null): void {
    const flight: Flight = { batch, commit, state: 'sending', done: Promise.resolve() };
    // Called at once (an async function runs to its first await), so appends reach the log in order.
    flight.done = (async () => this.options.log.append(batch, { signal: this.closing.signal }))().then(
      () => void (flight.state = 'acked'),
      (e: unknown) => {
        flight.state = 'failed';
        flight.error = e;
      },
    );
    this.flights.push(flight);
    void flight.done.then(() => this.settled());
  }

  /** An append settled: confirm what is acked in order, recover from a failure, start more. */
  private settled(): void {
    if (this.recovery) return; // The recovery waits for every flight and takes over.
    this.confirmAcked();
    if (this.flights.some((f) => f.state === 'failed')) {
      this.recovery = this.recover().finally(() => {
        this.recovery = null;
        this.signalChange();
        this.kick();
      });
    } else {
      this.signalChange();
      this.kick();
    }
  }

  /** Confirms, in append order, every flight acked with all before it. */
  private confirmAcked(): void {
    while (this.flights[0]?.state === 'acked') {
      const f = this.flights.shift();
      if (!f) break;
      this.delivered += f.batch.length;
      crashPoint('after-append');
      if (f.commit !== null) this.options.onDurable(f.commit);
    }
  }

  /**
   * After a failed append: once every append in flight has settled, appends again everything from
   * the first one not acked, in order, as one call with retries (see the diagram above).
   */
  private async recover(): Promise<void> {
    // No flight starts while recovering, so the ones there are all there will be.
    await Promise.all(this.flights.map((f) => f.done));
    this.confirmAcked();
    const again = this.flights;
    const records = again.flatMap((f) => f.batch);
    const failed = again.find((f) => f.state === 'failed');
    try {
      // Attempt 1 is the append that failed: the retry helper judges it (retriable? fenced?) and
      // waits its backoff before the records go again.
      await retry((attempt) => (attempt === 1 ? Promise.reject(failed?.error) : this.options.log.append(records, { signal: this.closing.signal })), {
        attempts: 6,
        signal: this.closing.signal,
        baseMs: 500,
        maxMs: 15_000,
        onRetry: (e, attempt, delay) => this.options.logger.warn('log append failed; retrying', { attempt, records: records.length, delay_ms: Math.round(delay), error: String(e) }),
      });
      // Every flight's records are in the log now, after all before them: confirmed in order.
      for (const f of again) f.state = 'acked';
      this.confirmAcked();
    } catch (e) {
      this.failure ??= e;
      this.reportFailure(e);
    }
  }

  private renewChange(): void {
    this.changed = new Promise<void>((resolve) => (this.signalChange = () => (resolve(), this.renewChange())));
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
