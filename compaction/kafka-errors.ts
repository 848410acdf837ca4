/**
 * Kafka client errors, narrowed once: what went wrong, on which broker, and what it takes to go
 * on. Two clients' shapes: kafkajs (admin, consumer) and @platformatic/kafka (the producer, see
 * kafka-producer.ts), whose protocol errors carry Kafka's name as `apiId` and its own verdict as
 * `canRetry`, nested in `errors` (one per attempt or per broker) and `cause`.
 *
 * Kafka's own classification decides (a protocol error's `retriable`, connection and timeout
 * errors), with two corrections that a cluster needs:
 * - kafkajs gives up on a retriable error after its own few retries and reports it as
 *   `KafkaJSNumberOfRetriesExceeded` (not retriable) — the cause is what counts;
 * - an idempotent producer whose sequence or id the broker no longer accepts
 *   (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH, after a leader
 *   change) is not lost: the Java client bumps its epoch and sends again; we take a new producer
 *   id, which resets every sequence, and send again what was not acknowledged.
 */

/** Protocol errors that a new producer id cures. */
const PRODUCER_STATE = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

/** Errors kafkajs marks as not retriable that a cluster in motion produces and then gets over. */
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

/**
 * @platformatic/kafka's client-side failures a cluster in motion produces: a connection refused
 * or closed (PLT_KFK_NETWORK, also the code of its request timeouts, which it calls final).
 */
const TRANSIENT_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

/** Protocol errors that mean "not now" although kafkajs calls them final. */
const TRANSIENT_TYPES = new Set([...PRODUCER_STATE, 'UNKNOWN_TOPIC_OR_PARTITION', 'NOT_CONTROLLER', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'KAFKA_STORAGE_ERROR']);

/** What one failed Kafka call tells us. */
export interface KafkaFailure {
  /** Worth waiting out: the cluster is electing, restarting or unreachable for a while. */
  readonly retriable: boolean;
  /** The idempotent producer must start over with a new producer id. */
  readonly newProducer: boolean;
  /** The broker it concerns, when the error says (`host:port`). */
  readonly broker: string | undefined;
  /** The innermost error's message, for logs and wrapped errors. */
  readonly message: string;
  /** Kafka's name for it (NOT_LEADER_OR_FOLLOWER, …) or kafkajs' class name. */
  readonly type: string;
}

interface KafkaJsLike {
  name?: unknown;
  type?: unknown;
  retriable?: unknown;
  /** @platformatic/kafka: Kafka's name for a protocol error, its retry verdict, its error code. */
  apiId?: unknown;
  canRetry?: unknown;
  code?: unknown;
  message?: unknown;
  broker?: unknown;
  host?: unknown;
  port?: unknown;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function fields(e: unknown): KafkaJsLike {
  return typeof e === 'object' && e !== null ? (e as KafkaJsLike) : {};
}

/**
 * The links from the outermost error inwards (originalError / cause / every one of errors),
 * depth first, so the last link is the innermost of the last branch; each gets `type` from
 * @platformatic/kafka's `apiId` and `retriable` from its `canRetry`, as kafkajs spells them.
 */
function chain(e: unknown): KafkaJsLike[] {
  const out: KafkaJsLike[] = [];
  const walk = (at: unknown, depth: number): void => {
    if (typeof at !== 'object' || at === null || out.length >= 16 || depth > 8) return;
    const f = fields(at);
    out.push(typeof f.apiId === 'string' ? { ...f, message: f.message, type: f.apiId, retriable: f.canRetry } : f);
    walk(f.originalError ?? f.cause, depth + 1);
    if (Array.isArray(f.errors)) for (const inner of f.errors as unknown[]) walk(inner, depth + 1);
  };
  walk(e, 0);
  return out;
}

/** A broker's refusal of a record or request beyond its size limits. */
const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Whether a classified failure is a size refusal (the append names the row; see tooLargeError). */
export function isTooLarge(f: KafkaFailure): boolean {
  return TOO_LARGE_TYPES.has(f.type);
}

/** Failures that no wait cures although a failure beside them (another broker, attempt) would be. */
const FINAL_TYPES = new Set([...TOO_LARGE_TYPES, 'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'INVALID_RECORD', 'CORRUPT_MESSAGE']);

/**
 * Refusals that @platformatic/kafka wraps in a retriable connection error ("Connection to … failed",
 * PLT_KFK_NETWORK): credentials (PLT_KFK_AUTHENTICATION), a misuse (PLT_KFK_USER) and Node's
 * certificate checks. Waiting does not change an answer the broker or the CA already gave.
 */
const FINAL_CODES = new Set(['PLT_KFK_AUTHENTICATION', 'PLT_KFK_USER', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

export function classifyKafkaError(e: unknown): KafkaFailure {
  const links = chain(e);
  const final = links.find((l) => (typeof l.type === 'string' && FINAL_TYPES.has(l.type)) || (typeof l.code === 'string' && FINAL_CODES.has(l.code)));
  // The innermost error names the failure; a Kafka protocol error, where there is one, names it better.
  const inner = final ?? [...links].reverse().find((l) => typeof l.type === 'string') ?? links[links.length - 1] ?? {};
  const type = typeof inner.type === 'string' ? inner.type : typeof inner.name === 'string' ? inner.name : 'Error';
  const message = typeof inner.message === 'string' ? inner.message : String(e);
  let broker: string | undefined;
  for (const l of links) {
    if (typeof l.broker === 'string') broker = l.broker;
    else if (typeof l.host === 'string' && (typeof l.port === 'number' || typeof l.port === 'string')) broker = `${l.host}:${l.port}`;
  }
  broker ??= /(\d{1,3}(?:\.\d{1,3}){3}:\d+|\[[0-9a-f:]+\]:\d+|[a-z0-9.-]+:\d{2,5})/i.exec(message)?.[1];
  const newProducer = links.some((l) => typeof l.type === 'string' && PRODUCER_STATE.has(l.type));
  const retriable =
    final === undefined &&
    (newProducer ||
      links.some(
        (l) =>
          (typeof l.type === 'string' && TRANSIENT_TYPES.has(l.type)) ||
          (typeof l.name === 'string' && TRANSIENT_NAMES.has(l.name)) ||
          (typeof l.code === 'string' && TRANSIENT_CODES.has(l.code)) ||
          // A protocol error Kafka itself calls retriable (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, …).
          (typeof l.type === 'string' && l.retriable === true),
      ) ||
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|socket hang up|Connection (timeout|closed|error)/i.test(message));
  return { retriable, newProducer, broker, message, type };
}
