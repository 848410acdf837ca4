/**
 * TopicLog on Apache Kafka. One partition per topic, so a table's changes keep one total order; an
 * idempotent producer with acks=all, so an acked append survives a broker failover. Appends go
 * and reads through @platformatic/kafka (kafka-producer.ts, kafka-consumer.ts); topics and offsets
 * through kafkajs.
 *
 * On a cluster, leaders move: every call (topic creation, append, end offsets, reads) waits out
 * what Kafka calls retriable — an election, a node restarting, a node out of reach — with fresh
 * metadata and bounded backoff, for up to the retry window (CDC_RETRY_WINDOW_MS), warning at most
 * every few seconds with the broker and the error. A failed append is sent again by a new
 * producer (a new producer id resets the sequence numbers a leader change can leave the broker
 * and the client disagreeing on); what the failed attempt may have written is then in the log
 * twice, in order, which replaying tolerates. Only what Kafka calls final ends the process.
 */
import kafkajs from 'kafkajs';
import type { Admin, Kafka, KafkaConfig, SASLOptions } from 'kafkajs';
import { CdcError, messageOf, retry, SerialQueue, type Logger } from '../common/index.js';
import { disconnectSoon } from './kafka-close.js';
import { consumeKafka } from './kafka-consumer.js';
import { classifyKafkaError, isTooLarge, type KafkaFailure } from './kafka-errors.js';
import { KafkaProducer, loadKafkaLibrary, requests, tooLargeError, type KafkaProducerOptions } from './kafka-producer.js';
import { defaultTopicSettings, type AppendOptions, type AppendRecord, type ConsumeOptions, type Consumption, type TopicDescription, type TopicLog, type TopicSettings } from './topic-log.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

/**
 * The largest record batch a topic cdc creates accepts (its max.message.bytes): PostgreSQL rows
 * reach far beyond Kafka's 1 MiB default, and one large row must not stop every table. Just under
 * the broker's socket.request.max.bytes (100 MiB by default), which bounds any produce request.
 */
export const TOPIC_MAX_MESSAGE_BYTES = 100 * 1024 * 1024 - 256 * 1024;

export interface KafkaLogOptions {
  brokers: readonly string[];
  logger: Logger;
  clientId?: string;
  /** How long to wait for a broker before giving up on connect (ms). */
  connectTimeoutMs?: number;
  security?: KafkaSecurity;
  /** How long retriable failures are waited out before a call fails (ms; default 5 minutes). */
  retryWindowMs?: number;
}

/** How often the same kind of retry is reported at warn level. */
const WARN_EVERY_MS = 5000;
/** Attempts that fail quietly (about the first second) before a retry is worth a warning. */
const QUIET_ATTEMPTS = 3;

/** A topic whose partitions have no leader yet: what Kafka would say, retriable. */
class LeaderNotAvailable extends Error {
  readonly type = 'LEADER_NOT_AVAILABLE';
  readonly retriable = true;
}

/** TLS and SASL to the brokers (see docs/security.md). */
export interface KafkaSecurity {
  /** TLS; `ca` (PEM text) replaces the system's trusted CAs. */
  tls?: { ca?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

function saslOptions(sasl: NonNullable<KafkaSecurity['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function unreachable(brokers: readonly string[], cause: unknown): CdcError {
  const message = messageOf(cause);
  // The broker answered but refused us: the fix is the credentials or the CA, not the address.
  if (/authentication failed|SASL/i.test(message)) {
    return new CdcError('LOG_AUTH_FAILED', `cannot reach Kafka at ${brokers.join(',')}: ${message}`, {
      hint: 'check --kafka-sasl, --kafka-user and the password (CDC_KAFKA_PASSWORD or --kafka-password-file)',
      exitCode: 2,
      cause,
    });
  }
  if (/certificate|self.signed|verify/i.test(message)) {
    return new CdcError('LOG_TLS_UNTRUSTED', `cannot reach Kafka at ${brokers.join(',')}: ${message}`, {
      hint: 'pass the CA that signed the brokers\' certificates with --kafka-ca FILE',
      exitCode: 2,
      cause,
    });
  }
  return new CdcError('LOG_UNREACHABLE', `cannot reach Kafka at ${brokers.join(',')}: ${messageOf(cause)}`, {
    hint: 'check that the broker is running and that --log names its advertised address (kafka://host:port)',
    exitCode: 2,
    retriable: true,
    cause,
  });
}

export class KafkaLog implements TopicLog {
  readonly description: string;
  private readonly kafka: Kafka;
  private readonly windowMs: number;
  private admin: Admin | undefined;
  private readonly producer: KafkaProducer;
  /** Where and how the @platformatic/kafka clients (producer, readers) connect. */
  private readonly producerOptions: KafkaProducerOptions;
  private readonly consumptions = new Set<Consumption>();
  private readonly warned = new Map<string, number>();
  private lastClientError: string | undefined;
  private readonly appends = new SerialQueue();

  constructor(private readonly options: KafkaLogOptions) {
    this.description = `kafka://${options.brokers.join(',')}`;
    this.windowMs = options.retryWindowMs ?? 5 * 60_000;
    // kafkajs' own retries are short, so that its failures reach `call` soon and are reported.
    this.kafka = new KafkaClient({ ...this.clientConfig(), retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 } });
    this.producerOptions = { brokers: options.brokers, clientId: options.clientId ?? 'cdc', connectTimeoutMs: options.connectTimeoutMs ?? 5000, security: options.security };
    this.producer = new KafkaProducer(this.producerOptions);
  }

  private clientConfig(): KafkaConfig {
    const logger = this.options.logger;
    const { tls, sasl } = this.options.security ?? {};
    return {
      ...(tls ? { ssl: tls.ca ? { ca: [tls.ca] } : true } : {}),
      ...(sasl ? { sasl: saslOptions(sasl) } : {}),
      clientId: this.options.clientId ?? 'cdc',
      brokers: [...this.options.brokers],
      connectionTimeout: this.options.connectTimeoutMs ?? 5000,
      requestTimeout: 30_000,
      // kafkajs reports every reconnect attempt as an error; the retries are ours to report.
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        if (entry.level <= logLevel.WARN) this.lastClientError = `${entry.log.message}${typeof entry.log['broker'] === 'string' ? ` (broker ${entry.log['broker']})` : ''}`;
        logger.debug(`kafkajs: ${entry.log.message}`, { namespace: entry.namespace });
      },
    };
  }

  /**
   * Runs one Kafka call, waiting out retriable failures for up to the retry window. Anything
   * else, or the window spent, becomes `wrap`'s CdcError, not retriable: the waiting is done.
   */
  private async call<T>(
    stage: string,
    fn: () => Promise<T>,
    opts: { topics?: readonly string[]; signal?: AbortSignal; repair?: (f: KafkaFailure) => Promise<void>; wrap?: (e: unknown, f: KafkaFailure) => CdcError } = {},
  ): Promise<T> {
    try {
      return await retry(fn, {
        windowMs: this.windowMs,
        signal: opts.signal,
        baseMs: 250,
        maxMs: 5000,
        retriable: (e) => classifyKafkaError(e).retriable,
        onRetry: async (e, attempt) => {
          const f = classifyKafkaError(e);
          await this.reportRetry(stage, f, attempt, opts.topics ?? []);
          await opts.repair?.(f);
        },
      });
    } catch (e) {
      const f = classifyKafkaError(e);
      if (e instanceof CdcError && !f.retriable) throw e;
      const waited = f.retriable ? ` (still failing after ${Math.round(this.windowMs / 1000)} s of retries)` : '';
      throw (
        opts.wrap?.(e, f) ??
        new CdcError('LOG_UNAVAILABLE', `Kafka ${stage} failed on ${f.broker ?? this.description}: ${f.message}${waited}`, {
          hint: 'check the brokers (all nodes up, partitions with a leader in sync); CDC_RETRY_WINDOW_MS sets how long cdc waits',
          cause: e,
        })
      );
    }
  }

  private async reportRetry(stage: string, f: KafkaFailure, attempt: number, topics: readonly string[]): Promise<void> {
    const now = Date.now();
    const fields = { stage, attempt, error: f.message, kafka_error: f.type, broker: f.broker };
    // The first short failures are the cluster's normal motion (a new topic's leader being
    // elected): debug; a failure that lasts is a warning, at most every WARN_EVERY_MS.
    if (attempt < QUIET_ATTEMPTS || now - (this.warned.get(stage) ?? 0) < WARN_EVERY_MS) {
      this.options.logger.debug(`Kafka ${stage} failed; retrying`, fields);
      return;
    }
    this.warned.set(stage, now);
    const leaders = topics.length > 0 && f.broker === undefined ? await this.leaders(topics).catch(() => undefined) : undefined;
    this.options.logger.warn(`Kafka ${stage} failed; retrying`, { ...fields, ...(leaders ? { leaders } : {}) });
  }

  /** "topic: node N (host:port)" for each topic, from fresh metadata; for messages only. */
  private async leaders(topics: readonly string[]): Promise<string> {
    const admin = await this.getAdmin();
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('metadata timed out')), 3000).unref());
    const [metadata, cluster] = await Promise.race([Promise.all([admin.fetchTopicMetadata({ topics: [...topics] }), admin.describeCluster()]), timeout]);
    const hosts = new Map(cluster.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]));
    return metadata.topics
      .map((t) => {
        const leader = t.partitions.find((p) => p.partitionId === 0)?.leader ?? -1;
        return `${t.name}: ${leader < 0 ? 'no leader' : `node ${leader} (${hosts.get(leader) ?? 'not in the cluster'})`}`;
      })
      .join('; ');
  }

  async connect(): Promise<void> {
    // The producer's library loads (about a second) while the probe waits for the broker.
    void loadKafkaLibrary().catch(() => undefined);
    // A first look with short retries, so an address with no broker fails in seconds; the long
    // retries of the working client are for brokers that were there and went away.
    const probe = new KafkaClient({ ...this.clientConfig(), retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 } }).admin();
    try {
      await probe.connect();
      await probe.listTopics();
    } catch (e) {
      throw unreachable(this.options.brokers, e);
    } finally {
      await probe.disconnect().catch(() => undefined);
    }
    await this.getAdmin();
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await this.call('connect', () => admin.connect(), { wrap: (e) => unreachable(this.options.brokers, e) });
      this.admin = admin;
    }
    return this.admin;
  }

  async ensureTopics(names: readonly string[], settings: TopicSettings = defaultTopicSettings): Promise<void> {
    await this.call('topic creation', () => this.createMissing(names, settings), { topics: names });
    // Created is not usable: each new partition needs an elected leader before it takes appends.
    await this.call('topic creation', () => this.leadersElected(names), { topics: names });
  }

  private async leadersElected(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const admin = await this.getAdmin();
    const metadata = await admin.fetchTopicMetadata({ topics: [...new Set(names)] });
    const leaderless = metadata.topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
    if (leaderless.length > 0) throw new LeaderNotAvailable(`no leader yet for ${leaderless.map((t) => t.name).join(', ')}`);
  }

  private async createMissing(names: readonly string[], settings: TopicSettings): Promise<void> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(names)].filter((n) => !existing.has(n));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) },
            { name: 'segment.ms', value: String(settings.segmentMs) },
            { name: 'min.compaction.lag.ms', value: String(settings.minCompactionLagMs) },
            { name: 'delete.retention.ms', value: String(settings.deleteRetentionMs) },
            ...(settings.segmentBytes ? [{ name: 'segment.bytes', value: String(settings.segmentBytes) }] : []),
            ...(settings.minCleanableDirtyRatio !== undefined ? [{ name: 'min.cleanable.dirty.ratio', value: String(settings.minCleanableDirtyRatio) }] : []),
          ],
        })),
      });
    } catch (e) {
      // Another process may have created a topic between list and create; that is fine.
      const after = new Set(await admin.listTopics());
      if (missing.every((n) => after.has(n))) return;
      // An election under way: waited out by `call`. Anything else (no permission) is final.
      if (classifyKafkaError(e).retriable) throw e;
      throw new CdcError('TOPIC_CREATE_FAILED', `cannot create topics ${missing.join(', ')} on ${this.description}: ${messageOf(e)}`, {
        hint: 'check that the Kafka principal may create topics, or create them with cleanup.policy=compact',
        cause: e,
      });
    }
  }

  async listTopics(prefix: string): Promise<string[]> {
    const admin = await this.getAdmin();
    const all = await this.call('topic listing', () => admin.listTopics());
    return all.filter((t) => t.startsWith(prefix)).sort();
  }

  append(records: readonly AppendRecord[], options: AppendOptions = {}): Promise<void> {
    // One append at a time, in call order, as the embedded log does: the caller may keep several
    // in flight (source-postgres/delivery.ts), and the producer keeps order only with one request
    // per partition on the wire (kafka-producer.ts). A failed append does not stop the next (the
    // caller re-appends).
    return this.appends.run(() => this.appendNow(records, options));
  }

  private async appendNow(records: readonly AppendRecord[], options: AppendOptions): Promise<void> {
    // Request by request, each acknowledged before the next goes; a failed one is sent again alone.
    for (const chunk of requests(records)) await this.sendRequest(chunk, options.signal);
  }

  private async sendRequest(records: readonly AppendRecord[], signal: AbortSignal | undefined): Promise<void> {
    await this.call('append', () => this.producer.send(records), {
      topics: [...new Set(records.map((r) => r.topic))],
      signal,
      // Whatever failed, the next attempt goes out with a new producer id: sequence numbers that
      // a leader change left out of step (OUT_OF_ORDER_SEQUENCE_NUMBER) are not sent again. What
      // the failed attempt wrote is then in the log twice, in order, which replaying tolerates.
      repair: () => this.producer.renew(),
      wrap: (e, f) => {
        if (isTooLarge(f)) return tooLargeError(records, f.message, e);
        // Refused at the connection (the admin's probe in connect() passed, but credentials or the CA may change).
        if (/authentication|SASL|certificate|self.signed/i.test(f.message)) return unreachable(this.options.brokers, e);
        return new CdcError('LOG_APPEND_FAILED', `Kafka did not acknowledge ${records.length} records (${f.broker ?? this.description}): ${f.message}`, {
          hint: 'check the brokers; cdc start confirms nothing to PostgreSQL until Kafka acknowledges, so a restart resends these changes',
          cause: e,
        });
      },
    });
  }

  async endOffsets(topics: readonly string[]): Promise<Map<string, bigint>> {
    const admin = await this.getAdmin();
    const out = new Map<string, bigint>();
    for (const topic of topics) {
      // Asked of the partition's current leader (kafkajs refreshes metadata on NOT_LEADER).
      const parts = await this.call('end offsets', () => admin.fetchTopicOffsets(topic), { topics: [topic] });
      out.set(topic, parts.reduce((sum, p) => sum + BigInt(p.high), 0n));
    }
    return out;
  }

  async describeTopics(topics: readonly string[]): Promise<Map<string, TopicDescription>> {
    const admin = await this.getAdmin();
    const existing = new Set(await this.call('topic listing', () => admin.listTopics()));
    const names = topics.filter((t) => existing.has(t));
    const out = new Map<string, TopicDescription>();
    if (names.length === 0) return out;
    const metadata = await this.call('topic metadata', () => admin.fetchTopicMetadata({ topics: names }), { topics: names });
    const described = await this.call('topic configuration', () =>
      admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name })) }),
    );
    for (const t of metadata.topics) {
      const resource = described.resources.find((r) => r.resourceName === t.name);
      out.set(t.name, {
        partitions: t.partitions.length,
        replicationFactor: Math.min(...t.partitions.map((p) => p.replicas.length)),
        configs: new Map((resource?.configEntries ?? []).map((e) => [e.configName, e.configValue])),
      });
    }
    return out;
  }

  async offsetAtTime(topic: string, timestampMs: number): Promise<bigint> {
    const admin = await this.getAdmin();
    const parts = await this.call('offset lookup', () => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs), { topics: [topic] });
    return parts.reduce((sum, p) => sum + BigInt(p.offset), 0n);
  }

  /** Kafka takes appends from any number of producers and does not say who they are. */
  otherWriter(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  async consume(options: ConsumeOptions): Promise<Consumption> {
    const consumption = await consumeKafka(
      {
        client: this.producerOptions,
        logger: this.options.logger,
        endOffsets: (topics) => this.endOffsets(topics),
        leaders: (topics) => this.leaders(topics),
        lastClientError: () => this.lastClientError,
        unreachable: (e) => unreachable(this.options.brokers, e),
        windowMs: this.windowMs,
      },
      options,
    );
    this.consumptions.add(consumption);
    void consumption.done.catch(() => undefined).finally(() => this.consumptions.delete(consumption));
    return consumption;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumptions].map((c) => c.stop().catch(() => undefined)));
    await this.producer.close();
    if (this.admin) await disconnectSoon(this.admin);
  }
}
