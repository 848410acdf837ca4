/**
 * kafkajs errors, narrowed once: what went wrong, on which broker, and what it takes to go on.
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

/** The chain from the outermost error to the innermost (originalError / cause / first of errors). */
function chain(e: unknown): KafkaJsLike[] {
  const out: KafkaJsLike[] = [];
  let at: unknown = e;
  while (typeof at === 'object' && at !== null && out.length < 8) {
    const f = fields(at);
    out.push(f);
    at = f.originalError ?? f.cause ?? (Array.isArray(f.errors) ? (f.errors as unknown[])[0] : undefined);
  }
  return out;
}

export function classifyKafkaError(e: unknown): KafkaFailure {
  const links = chain(e);
  const inner = links[links.length - 1] ?? {};
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
    newProducer ||
    links.some(
      (l) =>
        (typeof l.type === 'string' && TRANSIENT_TYPES.has(l.type)) ||
        (typeof l.name === 'string' && TRANSIENT_NAMES.has(l.name)) ||
        // A protocol error Kafka itself calls retriable (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, …).
        (typeof l.type === 'string' && l.retriable === true),
    ) ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|socket hang up|Connection (timeout|closed|error)/i.test(message);
  return { retriable, newProducer, broker, message, type };
}
