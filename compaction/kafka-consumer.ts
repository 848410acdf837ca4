/**
 * Reading topics from Kafka at positions we own (they live in the replica, not in a consumer
 * group), through a kafkajs consumer in a throwaway group that only gives us fetch sessions.
 *
 * A cluster in motion can leave a kafkajs consumer stuck without an error (fetching from a leader
 * that went away, a group coordinator that moved). So a watchdog looks every 10 s: while the log
 * holds records we have not read and no batch arrived, it says so (topic, position, log end, the
 * partition's leader, the last error the client met), and after 30 s it replaces the consumer,
 * resuming at the same positions.
 *
 *   opening ─▶ fetching ─(no progress 30 s with records waiting)─▶ reopening ─▶ fetching
 *                  │                                                         │
 *                  └──────────────── stop() / onBatch failed ────────────────┴─▶ stopped
 */
import { randomUUID } from 'node:crypto';
import type { Batch, Consumer, Kafka } from 'kafkajs';
import { messageOf, retry, type Logger } from '../common/index.js';
import type { ConsumeOptions, Consumption, LogBatch, LogRecord } from './topic-log.js';

/**
 * Fetch sizes. They count bytes as the broker stores them, compressed: `cdc start` gzips its
 * requests, and 1 MiB of the bench's records was ~50,000 records once decoded — kafkajs decodes a
 * whole fetch at once — which made a bootstrap's peak RSS 300–560 MB at 300k records. 256 KiB per
 * partition (~12,000 such records) made it 204–241 MB at no measurable cost in speed on a local
 * broker (docs/benchmarks.md, issue 14); an uncompressed topic gets ~1,000 records per fetch.
 */
const FETCH_PARTITION_BYTES = 256 << 10;
const FETCH_BYTES = 2 << 20;
const WATCH_MS = 10_000;
const REOPEN_AFTER_MS = 30_000;
/** kafkajs' disconnect waits for a coordinator that may be gone; positions are ours, so we need not. */
const DISCONNECT_TIMEOUT_MS = 5000;

export interface ConsumerDeps {
  kafka: Kafka;
  logger: Logger;
  /** The log's current end of each topic, waited out like every other call. */
  endOffsets: (topics: readonly string[]) => Promise<Map<string, bigint>>;
  /** Who leads each topic, for messages. */
  leaders: (topics: readonly string[]) => Promise<string>;
  /** The last error kafkajs reported, for messages. */
  lastClientError: () => string | undefined;
  /** What to throw when the consumer cannot be set up (or crashed for good). */
  unreachable: (cause: unknown) => Error;
  windowMs: number;
}

export function disconnectSoon(c: { disconnect(): Promise<void> }): Promise<void> {
  return Promise.race([c.disconnect().catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS).unref())]);
}

export async function consumeKafka(deps: ConsumerDeps, options: ConsumeOptions): Promise<Consumption> {
  const { logger } = deps;
  const next = new Map(options.from);
  let consumer: Consumer | undefined;
  let failure: unknown;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  let lastProgress = Date.now();
  let inBatch = false;
  let watchdog: NodeJS.Timeout | undefined;
  let reopening: Promise<void> | undefined;
  /** Topics whose batches are not handed over until resumed (see Consumption.pause). */
  const paused = new Set<string>();

  /** The batch being handed to onBatch, if any (settles, never rejects). */
  let applying: Promise<void> = Promise.resolve();

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(watchdog);
      await reopening?.catch(() => undefined);
      if (consumer) await disconnectSoon(consumer);
      // Done means no onBatch is running: the caller may close what it writes to.
      await applying;
      if (failure === undefined) settle.resolve();
      else settle.reject(failure);
    })();
    return stopping;
  };

  /**
   * kafkajs fetches the next batch only once eachBatch returns. So eachBatch hands its batch over
   * and returns at once, and onBatch applies it while the next fetch is on the wire: the Kafka
   * bootstrap spent ~19% of its main thread idle, waiting for each fetch after applying the last
   * (docs/benchmarks.md, issue 14). One batch at most is applied and one held: the next eachBatch
   * waits for the batch before it, then yields a turn of the event loop, so that a caller told by
   * that batch to stop (a replay at its end, a sink that must re-read definitions) has stopped
   * before another batch is handed over — as when the next one needed a fetch first.
   */
  const eachBatch = async (batch: Batch, owner: Consumer): Promise<void> => {
    await applying;
    await new Promise<void>((resolve) => setImmediate(resolve));
    // A replaced consumer may still deliver a fetch it had under way: only the current one counts.
    if (stopping || failure !== undefined || owner !== consumer) return;
    // A batch fetched before its topic was paused: dropped, and fetched again after resume() seeks
    // back to the position we hold (kafkajs counts it as consumed).
    if (paused.has(batch.topic)) return;
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
    inBatch = true;
    applying = (async () => {
      try {
        await options.onBatch(logBatch);
        next.set(batch.topic, upTo);
        lastProgress = Date.now();
      } catch (e) {
        failure = e;
        void stop();
      } finally {
        inBatch = false;
      }
    })();
  };

  const open = async (): Promise<Consumer> => {
    const c = deps.kafka.consumer({ groupId: `cdc-reader-${randomUUID()}`, allowAutoTopicCreation: false, maxBytesPerPartition: FETCH_PARTITION_BYTES, maxBytes: FETCH_BYTES });
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
      if (event.payload.restart || c !== consumer || stopping) return;
      // kafkajs gave up on this consumer: a new one, at our positions, unless the window is spent.
      logger.warn('Kafka consumer crashed; opening a new one', { error: messageOf(event.payload.error) });
      void reopen();
    });
    try {
      await c.connect();
      await c.subscribe({ topics: [...next.keys()], fromBeginning: true });
      await c.run({ autoCommit: false, eachBatch: ({ batch }) => eachBatch(batch, c) });
      seekAll();
      if (paused.size > 0) c.pause([...paused].map((topic) => ({ topic })));
      return c;
    } catch (e) {
      await disconnectSoon(c);
      throw deps.unreachable(e);
    }
  };

  const openWithRetries = (): Promise<Consumer> =>
    retry(open, {
      windowMs: deps.windowMs,
      baseMs: 500,
      maxMs: 8000,
      onRetry: (e) => logger.warn('Kafka consumer not ready; retrying', { error: messageOf(e) }),
    });

  const reopen = (): Promise<void> => {
    reopening ??= (async () => {
      const old = consumer;
      consumer = undefined;
      if (old) await disconnectSoon(old);
      try {
        if (stopping) return;
        consumer = await openWithRetries();
        lastProgress = Date.now();
      } catch (e) {
        failure ??= e;
        void stop();
      }
    })().finally(() => (reopening = undefined));
    return reopening;
  };

  /** Every WATCH_MS: is there anything to read that we are not getting? */
  const watch = async (): Promise<void> => {
    if (stopping || reopening || inBatch) return;
    const stalledMs = Date.now() - lastProgress;
    if (stalledMs < WATCH_MS) return;
    const topics = [...next.keys()];
    let ends: Map<string, bigint>;
    try {
      ends = await deps.endOffsets(topics);
    } catch (e) {
      logger.warn('no progress reading the log, and its end offsets cannot be read', { error: messageOf(e), last_client_error: deps.lastClientError(), stalled_s: Math.round(stalledMs / 1000) });
      return;
    }
    // A paused topic is not read on purpose: not a stall.
    const behind = topics.filter((t) => !paused.has(t) && (ends.get(t) ?? 0n) > (next.get(t) ?? 0n));
    if (behind.length === 0) {
      lastProgress = Date.now(); // idle, not stuck: nothing to read
      return;
    }
    const leaders = await deps.leaders(behind).catch((e: unknown) => `unknown (${messageOf(e)})`);
    logger.warn('no progress reading the log although it holds unread records', {
      topics: behind.map((t) => `${t}@${next.get(t) ?? 0n}/${ends.get(t) ?? 0n}`).join(' '),
      leaders,
      last_client_error: deps.lastClientError(),
      stalled_s: Math.round(stalledMs / 1000),
      action: stalledMs >= REOPEN_AFTER_MS ? 'opening a new consumer' : 'waiting',
    });
    if (stalledMs >= REOPEN_AFTER_MS && !stopping) await reopen();
  };

  const pause = (topic: string): void => {
    if (paused.has(topic)) return;
    paused.add(topic);
    consumer?.pause([{ topic }]);
  };
  const resume = (topic: string): void => {
    if (!paused.delete(topic)) return;
    lastProgress = Date.now();
    const c = consumer;
    if (!c) return; // a consumer being opened seeks to our positions and pauses only what is paused then
    c.resume([{ topic }]);
    try {
      c.seek({ topic, partition: 0, offset: (next.get(topic) ?? 0n).toString() });
    } catch {
      // Not joined yet: the GROUP_JOIN handler seeks every topic to our positions.
    }
  };

  try {
    consumer = await openWithRetries();
  } catch (e) {
    failure = e;
    await stop();
    return { stop, done, pause, resume };
  }
  let watching = false;
  watchdog = setInterval(() => {
    if (watching) return;
    watching = true;
    void watch()
      .catch((e: unknown) => logger.debug('log watchdog failed', { error: messageOf(e) }))
      .finally(() => (watching = false));
  }, WATCH_MS);
  watchdog.unref();
  return { stop, done, pause, resume };
}
