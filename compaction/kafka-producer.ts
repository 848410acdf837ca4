/**
 * The append path to Kafka: an idempotent producer (acks=all) of @platformatic/kafka, one attempt
 * per call; KafkaLog waits out the failures (compaction/kafka-log.ts). Only the producer moved off
 * kafkajs (issue 13: kafkajs' encoders were a quarter of `cdc start`'s CPU, and this client sends
 * the same records at about twice the rate, docs/benchmarks.md). Reads moved too (issue 14,
 * kafka-consumer.ts); the admin side stays on kafkajs.
 *
 * One produce request per partition is on the wire at a time. The library reads a partition's
 * idempotent sequence number when it encodes a request and advances it on the ack, so two
 * requests in flight carry the same sequence: the broker refuses the second
 * (OUT_OF_ORDER_SEQUENCE_NUMBER, as bench/producer-spike.ts shows) or, when the two are the same
 * size, takes it for a duplicate and acknowledges records it never wrote. KafkaLog's SerialQueue
 * and its await of each `send` keep it to one.
 *
 *   open ──send──▶ open            a send creates the producer on first use (new producer id)
 *   open ──renew──▶ open           after a failure: the next send gets a new producer id
 *   open ──close──▶ closed         fenced: every later send fails, nothing more is appended
 */
import type { Producer, SASLOptions } from '@platformatic/kafka';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { CdcError } from '../common/index.js';
import { closeSoon } from './kafka-close.js';
import type { KafkaSecurity } from './kafka-log.js';
import type { AppendRecord } from './topic-log.js';

/** Bytes per produce request, well under the broker's default message.max.bytes (1 MiB); a larger record goes alone. */
const MAX_REQUEST_BYTES = 768 * 1024;
/**
 * Requests at least this large are compressed (gzip): a large text value is mostly repetitive.
 * gzip because every Kafka client reads it without a codec plugin (kafkajs, for one, needs one for
 * snappy and lz4, and Node 20's zlib has no zstd): the topics are for any consumer, not only ours.
 */
const COMPRESS_FROM_BYTES = 64 * 1024;
/** Per-record framing in a Kafka record batch, roughly (varints, attributes, headers count). */
const RECORD_OVERHEAD = 24;

/** Where and how to connect: KafkaLog's brokers, client id and security, as its admin uses them. */
export interface KafkaProducerOptions {
  brokers: readonly string[];
  clientId: string;
  connectTimeoutMs: number;
  security?: KafkaSecurity;
}

/** The library's module, once imported (see loadKafkaLibrary). */
let library: Promise<typeof import('@platformatic/kafka')> | undefined;

/**
 * The library, imported on first use: its module compiles its option schemas (ajv) when loaded,
 * about a second of CPU (the profile in docs/benchmarks.md), which a command on the embedded log,
 * or one that never appends, must not pay. KafkaLog.connect() starts the import early.
 */
export function loadKafkaLibrary(): Promise<typeof import('@platformatic/kafka')> {
  library ??= import('@platformatic/kafka');
  return library;
}

/** A send after `close()`: final, since this run must append nothing more. */
export class ProducerClosed extends Error {
  readonly type = 'PRODUCER_CLOSED';
  readonly retriable = false;
}

function sasl(s: NonNullable<KafkaSecurity['sasl']>): SASLOptions {
  const mechanism = s.mechanism === 'plain' ? 'PLAIN' : s.mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
  return { mechanism, username: s.username, password: s.password };
}

/** Where and how a @platformatic/kafka client connects (the producer's and the consumer's alike). */
export function connectionOptions(o: KafkaProducerOptions): { clientId: string; bootstrapBrokers: string[]; connectTimeout: number; tls?: TlsOptions; sasl?: SASLOptions } {
  const { tls, sasl: credentials } = o.security ?? {};
  const tlsOptions: TlsOptions | undefined = tls ? (tls.ca ? { ca: tls.ca } : {}) : undefined;
  return {
    clientId: o.clientId,
    bootstrapBrokers: [...o.brokers],
    connectTimeout: o.connectTimeoutMs,
    ...(tlsOptions ? { tls: tlsOptions } : {}),
    ...(credentials ? { sasl: sasl(credentials) } : {}),
  };
}

/** KafkaLog's producer: one attempt per `send`; the retries and their window are KafkaLog's. */
export class KafkaProducer {
  private producer: Producer | undefined;
  private closed = false;

  constructor(private readonly options: KafkaProducerOptions) {}

  private async get(): Promise<Producer> {
    if (this.closed) throw new ProducerClosed('the Kafka producer of this run is closed: nothing more is appended');
    const { Producer, ProduceAcks } = await loadKafkaLibrary();
    // Checked again after the await: close() may have run meanwhile.
    if (this.closed) throw new ProducerClosed('the Kafka producer of this run is closed: nothing more is appended');
    if (!this.producer) {
      this.producer = new Producer({
        ...connectionOptions(this.options),
        idempotent: true,
        acks: ProduceAcks.ALL,
        autocreateTopics: false,
        // The library's own retries are short (a leader move, a refreshed metadata), so that what
        // lasts reaches KafkaLog's retry window soon and is reported. Above 1: the library turns
        // 0 or 1 into "retry forever" for an idempotent producer.
        retries: 3,
        retryDelay: 250,
        requestTimeout: 30_000,
      });
    }
    return this.producer;
  }

  /**
   * Sends one request's records (see `requests`) and resolves when all are acknowledged; one
   * attempt. The caller awaits it before the next send: one request per partition in flight.
   */
  async send(records: readonly AppendRecord[]): Promise<void> {
    const bytes = records.reduce((n, r) => n + recordBytes(r), 0);
    // Partition 0 named: the only one cdc writes and reads (a topic with more is refused). Several
    // topics go in one request per leader, each partition's records as one batch, in order.
    const producer = await this.get();
    await producer.send({
      messages: records.map((r) => ({ topic: r.topic, partition: 0, key: r.key, value: r.value ?? undefined })),
      ...(bytes >= COMPRESS_FROM_BYTES ? { compression: 'gzip' as const } : {}),
    });
  }

  /** Drops the producer: the next send starts a new one, with a new producer id and sequences. */
  async renew(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    if (old) await closeSoon(old);
  }

  /** Fences: sends under way are aborted, and every later one fails. */
  async close(): Promise<void> {
    this.closed = true;
    await this.renew();
  }
}

/**
 * The broker takes at most message.max.bytes (1 MiB by default) per partition per request, so a
 * large append goes out as several requests, in order; a record beyond the limit goes alone.
 */
export function* requests(records: readonly AppendRecord[]): Generator<readonly AppendRecord[]> {
  let chunk: AppendRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordBytes(r) + RECORD_OVERHEAD;
    if (bytes + size > MAX_REQUEST_BYTES && chunk.length > 0) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * A row larger than its topic or the broker accepts: names the topic (the table), the row's key
 * and the settings to raise, since nothing after that row can be appended until then.
 */
export function tooLargeError(records: readonly AppendRecord[], message: string, cause: unknown): CdcError {
  const largest = records.reduce((a, b) => (recordBytes(b) > recordBytes(a) ? b : a));
  const size = recordBytes(largest);
  const key = largest.key.toString('utf8');
  const mb = Math.ceil(size / (1 << 20)) + 1;
  return new CdcError(
    'ROW_TOO_LARGE',
    `a row of topic ${largest.topic} with key ${key.length > 200 ? `${key.slice(0, 200)}…` : key} is ${size} bytes, more than Kafka accepts: ${message}`,
    {
      hint: `raise max.message.bytes on the topic (kafka-configs.sh --bootstrap-server HOST:PORT --alter --entity-type topics --entity-name ${largest.topic} --add-config max.message.bytes=${mb * 1048576}) and, if the row is beyond it, socket.request.max.bytes on every broker; then restart cdc start: nothing after this row was confirmed`,
      cause,
    },
  );
}

/** A record's key and value bytes (what counts against a request's and a topic's size limits). */
function recordBytes(r: AppendRecord): number {
  return r.key.length + (r.value?.length ?? 0);
}
