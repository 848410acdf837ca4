/**
 * The contract between the source and the sinks. Both speak only to a TopicLog; neither knows
 * whether Kafka or a local directory is behind it.
 *
 * Promises every implementation keeps (one conformance suite checks them):
 * - `append` resolves only when every record in the call is durable (Kafka: acks=all on an
 *   idempotent producer; embedded: fsync'd). A rejected append may have written a prefix of the
 *   records; the caller appends them again, and replaying a repeated record is harmless.
 * - Records of one topic keep the order in which they were appended; offsets never change.
 *   Appends called without waiting for each other land in call order (a failed one does not
 *   stop the next: the caller appends its records again, and those after them).
 * - Reading a topic from offset 0 after compaction returns, for every key, at least its latest
 *   record (a tombstone until the topic's delete retention has passed), in offset order.
 */

/** A record as read from the log. */
export interface LogRecord {
  readonly topic: string;
  readonly offset: bigint;
  readonly key: Buffer;
  /** `null` is a tombstone: the key was deleted. */
  readonly value: Buffer | null;
  /** When it was appended (ms since the epoch), where the log tells. */
  readonly timestamp?: number;
}

/** A record to append. */
export interface AppendRecord {
  readonly topic: string;
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/** How an append may be cut short. */
export interface AppendOptions {
  readonly signal?: AbortSignal;
}

/** A run of consecutive records of one topic, handed to a consumer. */
export interface LogBatch {
  readonly topic: string;
  readonly records: readonly LogRecord[];
  /** The offset the consumer reads next after this batch (past any compacted gap). */
  readonly nextOffset: bigint;
}

export interface ConsumeOptions {
  /** Topic → the next offset to read (0 to read from the beginning). */
  readonly from: ReadonlyMap<string, bigint>;
  /**
   * Called with one batch at a time, never concurrently; the next batch is fetched only after the
   * returned promise resolves, which bounds memory. A rejection ends the consumption with it.
   */
  readonly onBatch: (batch: LogBatch) => Promise<void>;
}

/** A running consumption. */
export interface Consumption {
  /** Stops fetching; resolves after the batch in progress (if any) has been handled. */
  stop(): Promise<void>;
  /**
   * No batch of `topic` is handed over until `resume(topic)`: a reader that cannot use a topic's
   * records yet (a sink waiting for a transaction's end in another topic) stops them coming rather
   * than holding them in memory. May be called from `onBatch`.
   */
  pause(topic: string): void;
  /** Hands over `topic`'s batches again, from the offset after the last batch handed over. */
  resume(topic: string): void;
  /** Settles when the consumption ends: resolves after stop(), rejects on a fatal error. */
  readonly done: Promise<void>;
}

/** Per-topic settings that compaction needs; see docs/topics.md. */
export interface TopicSettings {
  /** How long a tombstone survives compaction; a sink offline longer must rebuild. */
  readonly deleteRetentionMs: number;
  /** How soon a segment closes and becomes eligible for compaction. */
  readonly segmentMs: number;
  /** How long a record stays uncompacted (readable with its history). */
  readonly minCompactionLagMs: number;
  /** Kafka only: segment size (bytes) and the dirty share that triggers a cleaning; broker defaults when absent. */
  readonly segmentBytes?: number;
  readonly minCleanableDirtyRatio?: number;
}

export const defaultTopicSettings: TopicSettings = {
  deleteRetentionMs: 7 * 24 * 3600 * 1000,
  segmentMs: 3600 * 1000,
  minCompactionLagMs: 0,
};

/** What the log says about one topic's configuration (for the audit and the hazard checks). */
export interface TopicDescription {
  readonly partitions: number;
  /** Replicas per partition (the smallest, if they differ). */
  readonly replicationFactor: number;
  /** A log on one machine's disk (the embedded log): replication settings do not apply. */
  readonly local?: boolean;
  /** The topic's effective configuration (name → value), defaults included. */
  readonly configs: ReadonlyMap<string, string>;
}

export interface TopicLog {
  /** Where the log is, for messages (no secrets). */
  readonly description: string;
  /** Checks that the log answers; throws a CdcError (exit 2) naming the address when it does not. */
  connect(): Promise<void>;
  /** Creates the topics that do not exist yet, compacted, with the given settings. */
  ensureTopics(names: readonly string[], settings?: TopicSettings): Promise<void>;
  /** The names of existing topics that start with `prefix`. */
  listTopics(prefix: string): Promise<string[]>;
  /**
   * Appends records in order; resolves once all are durable (see the contract above). An abort of
   * `options.signal` ends the waiting out of failures: the append rejects without starting another
   * attempt, so that a caller can be sure nothing of it lands later (a request already on the wire
   * is waited for).
   */
  append(records: readonly AppendRecord[], options?: AppendOptions): Promise<void>;
  /** For each topic, the offset the next appended record will get (0 for an empty topic). */
  endOffsets(topics: readonly string[]): Promise<Map<string, bigint>>;
  /** Partitions, replication and configuration of existing topics (absent ones are left out). */
  describeTopics(topics: readonly string[]): Promise<Map<string, TopicDescription>>;
  /** The offset of the first record appended at or after `timestampMs` (the end offset if none). */
  offsetAtTime(topic: string, timestampMs: number): Promise<bigint>;
  /**
   * Another process appending to this log now, named for a message (`cdc start (pid 123)`), where
   * the log can tell: the embedded log knows its writer; Kafka has many and says undefined.
   */
  otherWriter(): Promise<string | undefined>;
  /** Reads the topics from the given offsets, following them until stopped. */
  consume(options: ConsumeOptions): Promise<Consumption>;
  close(): Promise<void>;
}
