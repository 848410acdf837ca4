/**
 * A TopicLog that measures what passes through it: records, bytes and latency of appends (the
 * source side) and of consumed batches (the sink side). Wrapping the log keeps the source and the
 * sink free of metrics code: what they hand to the log and take from it is what operators count.
 */
import type { AppendOptions, AppendRecord, ConsumeOptions, Consumption, LogBatch, LogRecord, TopicDescription, TopicLog, TopicSettings } from '../../compaction/index.js';
import type { Metrics } from './registry.js';
import { commitTimeOf, tableLabel } from './table-label.js';

/** What the wrapper needs to know besides the metrics. */
export interface InstrumentOptions {
  prefix: string;
  /** With a replica: label for sink metrics; without: source (snapshot counting) semantics. */
  replica?: string;
  /** True while the source is still snapshotting: table records count as snapshot rows. */
  snapshotting?: () => boolean;
}

/** The log, measured. Also tracks in-flight appends and consumer positions for lag and shutdown. */
export class InstrumentedLog implements TopicLog {
  readonly description: string;
  /** Records handed to `append` and not yet acked (for the shutdown message). */
  inflight = 0;
  /** Records of the last append that failed, until an append succeeds (the caller retries them). */
  failed = 0;
  /** Next offset to read per topic, as the consumer has got it. */
  readonly positions = new Map<string, bigint>();
  /** End offsets seen when consuming started, to tell when a sink has caught up. */
  private targets: Map<string, bigint> | undefined;
  private caughtUp = false;

  constructor(
    private readonly inner: TopicLog,
    private readonly metrics: Metrics,
    private readonly options: InstrumentOptions,
  ) {
    this.description = inner.description;
    if (inner.describeTopics) this.describeTopics = (topics) => (inner.describeTopics as NonNullable<TopicLog['describeTopics']>).call(inner, topics);
    if (inner.offsetAtTime) this.offsetAtTime = (topic, at) => (inner.offsetAtTime as NonNullable<TopicLog['offsetAtTime']>).call(inner, topic, at);
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  // The optional parts of the contract pass through as they are: the topic audit at start and the
  // sink's tombstone-horizon check depend on them.
  readonly describeTopics?: (topics: readonly string[]) => Promise<Map<string, TopicDescription>>;
  readonly offsetAtTime?: (topic: string, timestampMs: number) => Promise<bigint>;

  ensureTopics(names: readonly string[], settings?: TopicSettings): Promise<void> {
    return this.inner.ensureTopics(names, settings);
  }

  listTopics(prefix: string): Promise<string[]> {
    return this.inner.listTopics(prefix);
  }

  endOffsets(topics: readonly string[]): Promise<Map<string, bigint>> {
    return this.inner.endOffsets(topics);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Records handed to the log and not known to be durable. */
  get unacked(): number {
    return this.inflight + this.failed;
  }

  /** True once the current consumption has read up to the ends the log had when it started. */
  get following(): boolean {
    return this.caughtUp;
  }

  async append(records: readonly AppendRecord[], options?: AppendOptions): Promise<void> {
    const m = this.metrics;
    const started = process.hrtime.bigint();
    this.inflight += records.length;
    m.inflightRecords.set(this.inflight);
    try {
      await this.inner.append(records, options);
      this.failed = 0;
    } catch (e) {
      this.failed = Math.max(this.failed, records.length);
      throw e;
    } finally {
      this.inflight -= records.length;
      m.inflightRecords.set(this.inflight);
    }
    const acked = Date.now();
    m.appendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    const { prefix, snapshotting } = this.options;
    const stateTopic = `${prefix}._state`;
    // Sum per table first: one labelled increment per table per batch, not per record.
    const perTable = new Map<string, { records: number; bytes: number }>();
    let newestCommit: number | undefined;
    let looked = false;
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i] as AppendRecord;
      let t = perTable.get(r.topic);
      if (!t) perTable.set(r.topic, (t = { records: 0, bytes: 0 }));
      t.records += 1;
      t.bytes += r.key.length + (r.value?.length ?? 0);
      // The newest commit in the batch is its last change with a value; parse just that one.
      if (!looked && r.value !== null && !r.topic.startsWith(prefix + '._')) {
        looked = true;
        newestCommit = commitTimeOf(r.value);
      }
    }
    const snapshot = snapshotting?.() ?? false;
    for (const [topic, t] of perTable) {
      const table = tableLabel(topic, prefix);
      m.recordsWritten.inc({ table }, t.records);
      m.bytesWritten.inc({ table }, t.bytes);
      if (topic === stateTopic) continue;
      if (snapshot && !table.startsWith('_')) m.snapshotRows.inc({ table }, t.records);
    }
    // Snapshot markers: progress after each chunk says `"done":false`; only a finished table counts.
    for (const r of records) {
      // Only a done marker counts: progress markers and the capture settings are state records too.
      if (r.topic === stateTopic && r.value !== null && r.value.includes('"done":true')) m.snapshotTablesDone.inc();
    }
    if (newestCommit !== undefined) m.commitToLog.observe(Math.max(0, acked - newestCommit) / 1000);
  }

  async consume(options: ConsumeOptions): Promise<Consumption> {
    const m = this.metrics;
    const replica = this.options.replica ?? 'replica';
    for (const [t, o] of options.from) this.positions.set(t, o);
    // Each consumption (the sink re-subscribes when tables appear) is caught up afresh.
    this.caughtUp = false;
    this.targets = await this.inner.endOffsets([...options.from.keys()]);
    this.checkCaughtUp();
    const onBatch = async (batch: LogBatch): Promise<void> => {
      const table = tableLabel(batch.topic, this.options.prefix);
      let bytes = 0;
      for (const r of batch.records) bytes += r.key.length + (r.value?.length ?? 0);
      m.recordsRead.inc({ table }, batch.records.length);
      m.bytesRead.inc({ table }, bytes);
      const started = process.hrtime.bigint();
      await options.onBatch(batch);
      m.applySeconds.observe({ replica }, Number(process.hrtime.bigint() - started) / 1e9);
      m.recordsApplied.inc({ replica, table }, batch.records.length);
      this.positions.set(batch.topic, batch.nextOffset);
      // The newest change with a value (a tombstone carries no commit time).
      let commit: number | undefined;
      for (let i = batch.records.length - 1; i >= 0 && !table.startsWith('_'); i--) {
        const value = (batch.records[i] as LogRecord).value;
        if (value === null) continue;
        commit = commitTimeOf(value);
        break;
      }
      if (commit !== undefined) m.sinkLagSeconds.set({ replica }, Math.max(0, Date.now() - commit) / 1000);
      this.checkCaughtUp();
    };
    return this.inner.consume({ ...options, onBatch });
  }

  private checkCaughtUp(): void {
    if (this.caughtUp || !this.targets) return;
    for (const [t, end] of this.targets) if ((this.positions.get(t) ?? 0n) < end) return;
    this.caughtUp = true;
  }
}
