/**
 * TopicLog on Apache Kafka (kafkajs). One partition per topic, so a table's changes keep one total
 * order; an idempotent producer with acks=all, so an acked append survives a broker failover and a
 * retried send is never written twice.
 */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Admin, Batch, Consumer, Kafka, KafkaConfig, Producer, SASLOptions } from 'kafkajs';
import { CdcError, messageOf, retry, type Logger } from '../common/index.js';
import { defaultTopicSettings, type AppendRecord, type ConsumeOptions, type Consumption, type LogBatch, type LogRecord, type TopicDescription, type TopicLog, type TopicSettings } from './topic-log.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

/** Bytes per produce request, well under the broker's default message.max.bytes (1 MiB). */
const MAX_REQUEST_BYTES = 768 * 1024;
/** Per-record framing in a Kafka record batch, roughly (varints, attributes, headers count). */
const RECORD_OVERHEAD = 24;

export interface KafkaLogOptions {
  brokers: readonly string[];
  logger: Logger;
  clientId?: string;
  /** How long to wait for a broker before giving up on connect (ms). */
  connectTimeoutMs?: number;
  security?: KafkaSecurity;
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
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private readonly consumers = new Set<Consumer>();

  constructor(private readonly options: KafkaLogOptions) {
    this.description = `kafka://${options.brokers.join(',')}`;
    this.kafka = new KafkaClient({ ...this.clientConfig(), retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 } });
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
      logCreator: () => (entry) => logger.debug(`kafkajs: ${entry.log.message}`, { namespace: entry.namespace }),
    };
  }

  async connect(): Promise<void> {
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
    const admin = this.kafka.admin();
    await admin.connect();
    this.admin = admin;
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) await this.connect();
    return this.admin as Admin;
  }

  async ensureTopics(names: readonly string[], settings: TopicSettings = defaultTopicSettings): Promise<void> {
    // A broker under load may answer a creation with a retriable error (its metadata not yet
    // showing the new partitions' leaders); the topics then usually exist a moment later.
    await retry(() => this.createMissing(names, settings), {
      attempts: 4,
      baseMs: 500,
      maxMs: 4000,
      // Any failure: kafkajs reports a leader election in progress as non-retriable once its own
      // retries ran out. A real refusal (no permission) costs a few seconds more, then surfaces.
      retriable: (e) => e instanceof CdcError && e.code === 'TOPIC_CREATE_FAILED',
      onRetry: (e, attempt) => this.options.logger.debug('topic creation failed; retrying', { attempt, error: messageOf(e) }),
    });
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
      if (!missing.every((n) => after.has(n))) {
        throw new CdcError('TOPIC_CREATE_FAILED', `cannot create topics ${missing.join(', ')} on ${this.description}: ${messageOf(e)}`, {
          hint: 'check that the Kafka principal may create topics, or create them with cleanup.policy=compact',
          retriable: typeof e === 'object' && e !== null && (e as { retriable?: unknown }).retriable === true,
          cause: e,
        });
      }
    }
  }

  async listTopics(prefix: string): Promise<string[]> {
    const admin = await this.getAdmin();
    return (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort();
  }

  async append(records: readonly AppendRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      try {
        await producer.connect();
      } catch (e) {
        throw unreachable(this.options.brokers, e);
      }
      this.producer = producer;
    }
    // The broker takes at most message.max.bytes (1 MiB by default) per partition per request,
    // so a large append goes out as several requests, in order.
    let chunk: AppendRecord[] = [];
    let bytes = 0;
    for (const r of records) {
      const size = r.key.length + (r.value?.length ?? 0) + RECORD_OVERHEAD;
      if (bytes + size > MAX_REQUEST_BYTES && chunk.length > 0) {
        await this.send(this.producer, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(r);
      bytes += size;
    }
    await this.send(this.producer, chunk);
  }

  private async send(producer: Producer, records: readonly AppendRecord[]): Promise<void> {
    const byTopic = new Map<string, { key: Buffer; value: Buffer | null }[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push({ key: r.key, value: r.value });
    }
    try {
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    } catch (e) {
      const tooLarge = /larger than the max message size|MESSAGE_TOO_LARGE/i.test(messageOf(e));
      throw new CdcError('LOG_APPEND_FAILED', `Kafka did not acknowledge ${records.length} records: ${messageOf(e)}`, {
        hint: tooLarge
          ? 'a row is larger than the topic accepts: raise max.message.bytes on the topic (and message.max.bytes on the broker)'
          : 'check the broker; cdc start confirms nothing to PostgreSQL until Kafka acknowledges, so a restart resends these changes',
        retriable: !tooLarge,
        cause: e,
      });
    }
  }

  async endOffsets(topics: readonly string[]): Promise<Map<string, bigint>> {
    const admin = await this.getAdmin();
    const out = new Map<string, bigint>();
    for (const topic of topics) {
      const parts = await admin.fetchTopicOffsets(topic);
      out.set(topic, parts.reduce((sum, p) => sum + BigInt(p.high), 0n));
    }
    return out;
  }

  async describeTopics(topics: readonly string[]): Promise<Map<string, TopicDescription>> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const names = topics.filter((t) => existing.has(t));
    const out = new Map<string, TopicDescription>();
    if (names.length === 0) return out;
    const metadata = await admin.fetchTopicMetadata({ topics: names });
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name })) });
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
    const parts = await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    return parts.reduce((sum, p) => sum + BigInt(p.offset), 0n);
  }

  async consume(options: ConsumeOptions): Promise<Consumption> {
    const next = new Map(options.from);
    let consumer: Consumer | undefined;
    let failure: unknown;
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined);
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        if (consumer) {
          await consumer.disconnect().catch(() => undefined);
          this.consumers.delete(consumer);
        }
        if (failure === undefined) settle.resolve();
        else settle.reject(failure);
      })();
      return stopping;
    };
    const eachBatch = async (batch: Batch): Promise<void> => {
      if (stopping || failure !== undefined) return;
      const from = next.get(batch.topic) ?? 0n;
      const records: LogRecord[] = [];
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (offset < from) continue;
        records.push({ topic: batch.topic, offset, key: m.key ?? Buffer.alloc(0), value: m.value });
      }
      const last = BigInt(batch.lastOffset()) + 1n;
      const nextOffset = records.length > 0 ? (records[records.length - 1] as LogRecord).offset + 1n : last;
      const upTo = nextOffset > last ? nextOffset : last;
      if (upTo <= from) return;
      const logBatch: LogBatch = { topic: batch.topic, records, nextOffset: upTo };
      try {
        await options.onBatch(logBatch);
        next.set(batch.topic, upTo);
      } catch (e) {
        failure = e;
        void stop();
      }
    };
    // A broker that just started (or restarted) may not have a group coordinator for a while:
    // setting up is retried, each time with a fresh consumer.
    const open = async (): Promise<Consumer> => {
      // Offsets live in the replica, not in Kafka: a throwaway group only gets us fetch sessions.
      const c = this.kafka.consumer({ groupId: `cdc-reader-${randomUUID()}`, allowAutoTopicCreation: false, maxBytesPerPartition: 1 << 20, maxBytes: 8 << 20 });
      // Positions are ours, not the group's: after every (re)join — kafkajs restarts a crashed
      // consumer with a fresh group session — fetching resumes at the next offset we need.
      const seekAll = (): void => {
        for (const [topic, offset] of next) {
          try {
            c.seek({ topic, partition: 0, offset: offset.toString() });
          } catch {
            // Not joined yet (a restart is pending): the GROUP_JOIN handler seeks again.
          }
        }
      };
      c.on(c.events.GROUP_JOIN, seekAll);
      c.on(c.events.CRASH, (event) => {
        if (!event.payload.restart && c === consumer) {
          failure ??= unreachable(this.options.brokers, event.payload.error);
          void stop();
        }
      });
      try {
        await c.connect();
        await c.subscribe({ topics: [...next.keys()], fromBeginning: true });
        await c.run({ autoCommit: false, eachBatch: ({ batch }) => eachBatch(batch) });
        seekAll();
        return c;
      } catch (e) {
        await c.disconnect().catch(() => undefined);
        throw unreachable(this.options.brokers, e);
      }
    };
    try {
      consumer = await retry(open, { attempts: 10, baseMs: 500, maxMs: 8000, onRetry: (e) => this.options.logger.warn('Kafka consumer not ready; retrying', { error: messageOf(e) }) });
      this.consumers.add(consumer);
    } catch (e) {
      failure = e;
      await stop();
    }
    return { stop, done };
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect().catch(() => undefined)));
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }
}
