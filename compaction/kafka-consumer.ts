/**
 * Reading topics from Kafka at positions we own (they live in the replica, not in a consumer
 * group), with @platformatic/kafka's Fetch requests: no group, no commits, one request per leader
 * at the offsets we hold. It replaced a kafkajs consumer in a throwaway group (issue 14): read to
 * its end, the bench's 1M-record topic took 3.8–4.3 s of CPU through kafkajs and 1.6 s through
 * Fetch requests (bench/spike/kafka-read.ts, docs/benchmarks.md), kafkajs' per-record decoding
 * being most of the Kafka bootstrap's main thread. The responses' records are read by our own
 * reader (kafka-fetch.ts, kafka-records.ts), gzip inflated off the main thread.
 *
 * A failed fetch that Kafka calls retriable (a leader moved, a broker restarting or gone) is
 * retried with fresh metadata and backoff, for as long as it lasts; anything else ends the
 * consumption. And since a cluster in motion can leave a client stuck without an error, a watchdog
 * looks every 10 s: while the log holds records we have not read and no batch arrived, it says so
 * (topic, position, log end, the partition's leader, the last error met), and after 30 s it
 * replaces the client, resuming at the same positions.
 *
 *   opening ─▶ fetching ─(failure Kafka calls retriable)─▶ backing off ─▶ fetching
 *                 │  └──(no progress 30 s with records waiting)─▶ reopening ─▶ fetching
 *                 └──────────────── stop() / onBatch failed / final failure ─────────▶ stopped
 */
import { randomUUID } from 'node:crypto';
import type { ClusterMetadata, Consumer } from '@platformatic/kafka';
import { backoffMs, CdcError, messageOf, retry, sleep, type Logger } from '../common/index.js';
import { closeSoon } from './kafka-close.js';
import { classifyKafkaError } from './kafka-errors.js';
import { rawFetch, type FetchTopic, type RawFetchResponse } from './kafka-fetch.js';
import { connectionOptions, loadKafkaLibrary, type KafkaProducerOptions } from './kafka-producer.js';
import { readRecordBatches, type Decompress } from './kafka-records.js';
import type { ConsumeOptions, Consumption, LogBatch } from './topic-log.js';

/**
 * Fetch sizes. They count bytes as the broker stores them, compressed: `cdc start` gzips its
 * requests, and 1 MiB of the bench's records was ~50,000 records once decoded — a fetch is decoded
 * whole — which made a bootstrap's peak RSS 300–560 MB at 300k records through kafkajs. 256 KiB
 * per partition (~12,000 such records) kept it at 204–241 MB there; through this client 256 KiB
 * made it 316–324 MB at 1M records, and 128 KiB 263–272 MB at the same rate (64 KiB: no lower,
 * a little slower; docs/benchmarks.md, issue 14). An uncompressed topic gets ~500 of those records per fetch.
 * With our own record reader (kafka-records.ts), 512 KiB was no faster and peaked at 249–253 MB
 * against 193–199 MB.
 */
const FETCH_PARTITION_BYTES = 128 << 10;
const FETCH_BYTES = 2 << 20;
/**
 * How long the broker holds a fetch that finds nothing new. Short: a topic resumed while a fetch
 * is on the wire is in the next one, and its records wait at most this long (kafkajs waited 5 s).
 */
const MAX_WAIT_MS = 500;
const WATCH_MS = 10_000;
const REOPEN_AFTER_MS = 30_000;
/** Fetch failures before a retry is worth a warning (the first ones are a leader moving), and how often after. */
const QUIET_FAILURES = 3;
const WARN_EVERY_MS = 5000;

export interface ConsumerDeps {
  /** Where and how to connect (the producer's settings: brokers, client id, TLS, SASL). */
  client: KafkaProducerOptions;
  logger: Logger;
  /** The log's current end of each topic, waited out like every other call. */
  endOffsets: (topics: readonly string[]) => Promise<Map<string, bigint>>;
  /** Who leads each topic, for messages. */
  leaders: (topics: readonly string[]) => Promise<string>;
  /** The last error the admin client reported, for messages when the reader met none. */
  lastClientError: () => string | undefined;
  /** What to throw when the client cannot be set up. */
  unreachable: (cause: unknown) => Error;
  windowMs: number;
}

/**
 * The library's failure as its innermost message says it (a refused password, an untrusted
 * certificate), the library's error as its cause: it wraps them in "Connection to … failed".
 */
function narrowed(e: unknown): Error {
  return new Error(classifyKafkaError(e).message, { cause: e });
}

/** A topic whose partition has no leader in the metadata yet: what Kafka would say, retriable. */
class LeaderNotAvailable extends Error {
  readonly type = 'LEADER_NOT_AVAILABLE';
  readonly retriable = true;
}

/**
 * The batches of one fetch response, one per topic, from the offsets requested: records before
 * them (a fetch returns whole record batches, from the first offset of the one holding ours) are
 * left out, and `nextOffset` is past the last batch, past any records compaction removed. The
 * topics' records are read at once, so that their gzip batches inflate side by side.
 */
export async function batchesOf(response: RawFetchResponse, topicOfId: ReadonlyMap<string, string>, from: ReadonlyMap<string, bigint>, decompress: Decompress): Promise<LogBatch[]> {
  const reads: Promise<LogBatch>[] = [];
  for (const t of response.responses) {
    const topic = topicOfId.get(t.topicId);
    if (topic === undefined) continue;
    const start = from.get(topic) ?? 0n;
    for (const p of t.partitions) {
      if (p.partitionIndex !== 0 || !p.records) continue;
      reads.push(readRecordBatches(p.records, topic, start, decompress).then(({ records, nextOffset }) => ({ topic, records, nextOffset })));
    }
  }
  return (await Promise.all(reads)).filter((b) => b.nextOffset > (from.get(b.topic) ?? 0n));
}

/** The library's decompression of a codec other than gzip (snappy, lz4, zstd), by its bit mask. */
function libraryDecompress(lib: typeof import('@platformatic/kafka')): Decompress {
  return (codec, data) => {
    const algorithm = lib.compressionsAlgorithmsByBitmask[codec];
    if (!algorithm?.available) throw new Error(`codec ${codec} is not one this client reads (gzip, snappy, lz4, and zstd on Node 22 and later)`);
    return algorithm.decompressSync(data) as Buffer;
  };
}

export async function consumeKafka(deps: ConsumerDeps, options: ConsumeOptions): Promise<Consumption> {
  const { logger } = deps;
  const lib = await loadKafkaLibrary();
  const { Consumer } = lib;
  const fetchRaw = rawFetch(lib);
  const decompress = libraryDecompress(lib);
  /** Topic → the offset after the last batch handed over: where the next fetch starts. */
  const next = new Map(options.from);
  let client: Consumer | undefined;
  let failure: unknown;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  /** Ends the fetch loop's waits (a backoff, all topics paused) when stopping. */
  const halt = new AbortController();
  let lastProgress = Date.now();
  let lastError: string | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let reopening: Promise<void> | undefined;
  /** Topics whose batches are not handed over until resumed (see Consumption.pause). */
  const paused = new Set<string>();
  /** Wakes the fetch loop waiting with every topic paused. */
  let wake: (() => void) | undefined;
  /** The batch being handed to onBatch, if any (settles, never rejects). */
  let applying: Promise<void> = Promise.resolve();
  let inBatch = false;
  let fetching: Promise<void> = Promise.resolve();

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(watchdog);
      halt.abort();
      wake?.();
      await reopening?.catch(() => undefined);
      if (client) await closeSoon(client);
      await fetching;
      // Done means no onBatch is running: the caller may close what it writes to.
      await applying;
      if (failure === undefined) settle.resolve();
      else settle.reject(failure);
    })();
    return stopping;
  };

  const fail = (e: unknown): void => {
    failure ??= e;
    void stop();
  };

  const open = async (): Promise<Consumer> => {
    // The group id is never joined (fetches need none); the library asks for one.
    const c = new Consumer({
      ...connectionOptions(deps.client),
      groupId: `cdc-reader-${randomUUID()}`,
      // Failures come back at once: a retry here would go to the same broker, which may no
      // longer lead; ours refreshes the metadata first.
      retries: 0,
      requestTimeout: 30_000,
      maxWaitTime: MAX_WAIT_MS,
      minBytes: 1,
      maxBytes: FETCH_BYTES,
    });
    try {
      await c.metadata({ topics: [...next.keys()] });
      return c;
    } catch (e) {
      await closeSoon(c);
      throw deps.unreachable(narrowed(e));
    }
  };

  const openWithRetries = (): Promise<Consumer> =>
    retry(open, {
      windowMs: deps.windowMs,
      baseMs: 500,
      maxMs: 8000,
      onRetry: (e) => logger.warn('Kafka consumer not ready; retrying', { error: messageOf(e) }),
    });

  /** One fetch per leader of the unpaused topics, at our positions; their batches in topic order. */
  const fetchOnce = async (c: Consumer, topics: readonly string[], fresh: boolean): Promise<LogBatch[]> => {
    const metadata: ClusterMetadata = await c.metadata({ topics: [...topics], forceUpdate: fresh });
    const byLeader = new Map<number, FetchTopic[]>();
    const topicOfId = new Map<string, string>();
    const from = new Map<string, bigint>();
    for (const topic of topics) {
      const t = metadata.topics.get(topic);
      const leader = t?.partitions[0]?.leader ?? -1;
      if (!t || leader < 0) throw new LeaderNotAvailable(`no leader for ${topic} in the metadata`);
      const offset = next.get(topic) ?? 0n;
      topicOfId.set(t.id, topic);
      from.set(topic, offset);
      // Leader epochs unset (-1), as kafkajs sent them: a broker that no longer leads says
      // NOT_LEADER_OR_FOLLOWER, and the next attempt asks fresh metadata.
      const request: FetchTopic = { topicId: t.id, partitions: [{ partition: 0, fetchOffset: offset, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: FETCH_PARTITION_BYTES }] };
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), request]);
    }
    const responses = await Promise.all(
      [...byLeader].map(([node, requests]) => {
        const broker = metadata.brokers.get(node);
        if (broker === undefined) throw new LeaderNotAvailable(`the leader of ${requests.length} topics, node ${node}, is not in the metadata`);
        return fetchRaw(c, broker, requests, { maxWaitMs: MAX_WAIT_MS, maxBytes: FETCH_BYTES });
      }),
    );
    return (await Promise.all(responses.map((r) => batchesOf(r, topicOfId, from, decompress)))).flat();
  };

  /** For topics whose position is below the log's start, an empty batch that moves it there. */
  const logStarts = async (c: Consumer, topics: readonly string[]): Promise<LogBatch[]> => {
    const starts = await c.listOffsets({ topics: [...topics], timestamp: -2n });
    const out: LogBatch[] = [];
    for (const topic of topics) {
      const start = starts.get(topic)?.[0] ?? 0n;
      if (start > (next.get(topic) ?? 0n)) {
        logger.warn('the log no longer holds the records at our position; reading on from its start', { topic, position: String(next.get(topic) ?? 0n), log_start: String(start) });
        out.push({ topic, records: [], nextOffset: start });
      }
    }
    return out;
  };

  /**
   * The fetch loop. A fetch's batches are handed over one at a time, each once the one before it
   * has been applied; the next fetch goes out as soon as the last is handed over, so it is on the
   * wire while that batch is applied (the Kafka bootstrap spent ~19% of its main thread idle
   * waiting for fetches when they alternated, docs/benchmarks.md, issue 14). At most one batch is
   * applied and one fetch held. Before each hand-over the loop yields a turn of the event loop, so
   * that a caller told by the batch before to stop or pause (a replay at its end, a sink that must
   * re-read definitions) has done so before another batch is handed over.
   */
  const run = async (): Promise<void> => {
    let failures = 0;
    let lastWarned = 0;
    while (!stopping && failure === undefined) {
      const c = client;
      const topics = [...next.keys()].filter((t) => !paused.has(t));
      if (!c || topics.length === 0) {
        // Every topic paused (or a client being opened): nothing to fetch until resume() or reopen.
        await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, MAX_WAIT_MS).unref()));
        wake = undefined;
        continue;
      }
      let batches: LogBatch[] | undefined;
      try {
        batches = await fetchOnce(c, topics, failures > 0);
      } catch (e) {
        if (stopping || c !== client) continue; // closed by stop() or replaced by the watchdog
        const f = classifyKafkaError(e);
        lastError = `${f.message}${f.broker ? ` (broker ${f.broker})` : ''}`;
        // Below the log's start (records deleted): on from its start, as kafkajs went on; beyond
        // its end (a new leader not caught up yet): waited out like a leader moving.
        if (f.type === 'OFFSET_OUT_OF_RANGE') batches = await logStarts(c, topics).catch(() => undefined);
        // An unknown topic in the metadata: its metadata not on every broker yet.
        else if (!f.retriable && !/unknown topic/i.test(f.message)) {
          fail(
            /authentication|SASL|certificate|self.signed/i.test(f.message)
              ? deps.unreachable(narrowed(e))
              : new CdcError('LOG_UNAVAILABLE', `Kafka fetch failed on ${f.broker ?? deps.client.brokers.join(',')}: ${f.message}`, {
                  hint: 'check the brokers and the topics (each with a leader, readable by this user)',
                  cause: e,
                }),
          );
          return;
        }
        if (batches === undefined || batches.length === 0) {
          failures++;
          const fields = { error: f.message, kafka_error: f.type, broker: f.broker, attempt: failures };
          if (failures > QUIET_FAILURES && Date.now() - lastWarned >= WARN_EVERY_MS) {
            lastWarned = Date.now();
            logger.warn('Kafka fetch failed; retrying', fields);
          } else logger.debug('Kafka fetch failed; retrying', fields);
          c.clearMetadata();
          await sleep(backoffMs(failures, 250, 5000), halt.signal);
          continue;
        }
      }
      failures = 0;
      for (const batch of batches) {
        await applying;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stopping || failure !== undefined || c !== client) break;
        // Fetched before its topic was paused: dropped, and fetched again after resume() from
        // the position we hold.
        if (paused.has(batch.topic) || batch.nextOffset <= (next.get(batch.topic) ?? 0n)) continue;
        next.set(batch.topic, batch.nextOffset);
        inBatch = true;
        applying = (async () => {
          try {
            await options.onBatch(batch);
            lastProgress = Date.now();
          } catch (e) {
            fail(e);
          } finally {
            inBatch = false;
          }
        })();
      }
    }
  };

  const reopen = (): Promise<void> => {
    reopening ??= (async () => {
      const old = client;
      client = undefined;
      if (old) await closeSoon(old);
      try {
        if (stopping) return;
        client = await openWithRetries();
        lastProgress = Date.now();
        wake?.();
      } catch (e) {
        fail(e);
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
    const lastClientError = lastError ?? deps.lastClientError();
    let ends: Map<string, bigint>;
    try {
      ends = await deps.endOffsets(topics);
    } catch (e) {
      logger.warn('no progress reading the log, and its end offsets cannot be read', { error: messageOf(e), last_client_error: lastClientError, stalled_s: Math.round(stalledMs / 1000) });
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
      last_client_error: lastClientError,
      stalled_s: Math.round(stalledMs / 1000),
      action: stalledMs >= REOPEN_AFTER_MS ? 'opening a new consumer' : 'waiting',
    });
    if (stalledMs >= REOPEN_AFTER_MS && !stopping) await reopen();
  };

  const pause = (topic: string): void => void paused.add(topic);
  const resume = (topic: string): void => {
    if (!paused.delete(topic)) return;
    lastProgress = Date.now();
    wake?.();
  };

  try {
    client = await openWithRetries();
  } catch (e) {
    failure = e;
    await stop();
    return { stop, done, pause, resume };
  }
  fetching = run().catch((e: unknown) => fail(e));
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
