/**
 * A sink: the log into a SQLite replica.
 *
 *   open ─▶ load definitions (schema topic to its end) ─▶ replay tables from their offsets
 *     ▲                                                          │
 *     └──── a new table or an unknown definition appears ◀──────┤
 *                                                                ├─▶ bootstrap: stop at the ends seen at start
 *                                                                └─▶ follow: until signalled
 *
 * Offsets are those committed in the replica itself, so `cdc sink` resumes exactly where the last
 * committed transaction left it.
 */
import { CdcError, messageOf, RetryWindow, type Logger } from '../common/index.js';
import { readToEnd, schemaTopic, type Consumption, type LogBatch, type TopicLog } from '../compaction/index.js';
import { Applier, UnknownSchemaError } from './apply.js';
import { BULK_CACHE_MB, enterBulkLoad } from './bulk-load.js';
import { checkTombstoneHorizon, markOffsetsSeen } from './hazards.js';
import { Progress } from './progress.js';
import { createReplica, openReplica, type ReplicaDb } from './replica.js';
import { WholeTransactions } from './whole-transactions.js';

export interface SinkConfig {
  name: string;
  replicaPath: string;
  prefix: string;
  /** `bootstrap`: a new replica, to the current end; `follow`: an existing replica, until stopped. */
  mode: 'bootstrap' | 'follow';
  /** With `bootstrap`: go on following after the initial replay. */
  follow?: boolean;
  /** What progress messages call this run (default: the mode). */
  what?: string;
  /** How long an unreachable log is waited out before the sink gives up (ms; default 5 minutes). */
  retryWindowMs?: number;
  /** SQLite's page cache while bootstrapping, MiB (default {@link BULK_CACHE_MB}). */
  bulkCacheMb?: number;
}

export interface SinkDeps {
  log: TopicLog;
  logger: Logger;
}

export async function runSink(config: SinkConfig, { log, logger }: SinkDeps, signal: AbortSignal): Promise<void> {
  await log.connect();
  if (!(await log.listTopics(config.prefix)).includes(schemaTopic(config.prefix))) {
    throw new CdcError('TOPICS_MISSING', `${log.description} has no cdc topics with prefix ${config.prefix} (no ${schemaTopic(config.prefix)})`, {
      exitCode: 2,
      hint: `run cdc start --log ${log.description} first, or pass the --topic-prefix that cdc start used`,
    });
  }
  const db: ReplicaDb =
    config.mode === 'bootstrap' ? createReplica(config.replicaPath, config.name, config.prefix, log.description) : openReplica(config.replicaPath, config.name, config.prefix);
  // Bootstrap: bulk-load pragmas until the first catch-up, then the durable ones (bulk-load.ts).
  let endBulkLoad = config.mode === 'bootstrap' ? enterBulkLoad(db, config.bulkCacheMb ?? BULK_CACHE_MB) : undefined;
  let clean = false;
  try {
    if (config.mode === 'follow') {
      await checkTombstoneHorizon(db, log, config.replicaPath, config.name);
      logger.info('sink following the log', { replica: config.replicaPath, prefix: config.prefix });
    }
    let applier = new Applier(db);
    const schemas = schemaTopic(config.prefix);
    let follow = config.mode === 'follow';
    let targets: Map<string, bigint> | undefined;
    // A commit waits for whole units once following, or once a bootstrap has caught up.
    let strict = follow;
    const wholeTransactions = (): WholeTransactions => new WholeTransactions(db, applier, { strict: () => strict, followed: (t) => applier.followed(t) });
    let whole = wholeTransactions();
    const started = Date.now();
    const progress = new Progress({ logger, tty: process.stderr, what: config.what ?? (config.mode === 'follow' ? 'sink' : 'bootstrap') });

    const loadSchemas = async (): Promise<void> => {
      const from = applier.offsets().get(schemas) ?? 0n;
      await readToEnd(log, new Map([[schemas, from]]), (batch) => void applier.applySchemas(batch));
    };

    // The log went away (a broker restart, an outage): waited out for the window, then given up.
    const waitOut = new RetryWindow({
      windowMs: config.retryWindowMs ?? 5 * 60_000,
      giveUp: { code: 'SINK_GAVE_UP', what: 'the sink', hint: 'check the log; the replica keeps its offsets, so cdc sink resumes where it stopped' },
      signal,
    });
    for (;;) {
      if (signal.aborted) break;
      try {
        await loadSchemas();
        const offsets = applier.offsets();
        const topics = applier.topics();
        const from = new Map(topics.map((t) => [t, offsets.get(t) ?? 0n]));
        if (!follow) {
          targets ??= await log.endOffsets(topics);
          for (const t of topics) if (!targets.has(t)) targets.set(t, (await log.endOffsets([t])).get(t) ?? 0n);
          const remaining = new Map([...from].filter(([t, o]) => o < (targets?.get(t) ?? 0n)));
          if (remaining.size > 0 || !whole.committed) {
            // Every topic, also those at their end: a unit may wait for a mark beyond it (and once
            // caught up with a unit still open, the sink reads on until its end is in the log).
            await replay(from);
            waitOut.succeeded();
            continue;
          }
          progress.finish();
          endBulkLoad?.();
          endBulkLoad = undefined;
          if (config.follow !== true) break;
          logger.info('bootstrap caught up; following', { replica: config.replicaPath, records: applier.applied });
          follow = true;
          strict = true;
        } else {
          from.set(schemas, offsets.get(schemas) ?? 0n);
          if (!(await replay(from))) break;
          waitOut.succeeded();
        }
      } catch (e) {
        // The log went away (a broker restart, an outage): resume from the replica's own offsets,
        // dropping what was applied of units not yet whole.
        whole.rollback();
        applier = new Applier(db);
        whole = wholeTransactions();
        await waitOut.failed(e, (delay) => logger.warn('log unreachable; retrying', { error: messageOf(e), retry_in_ms: delay }));
      }
    }
    // Stopped with a unit applied in part: it is read again next time.
    whole.rollback();
    progress.finish();
    clean = true;
    logger.info(follow ? 'sink stopped' : `${config.what ?? 'bootstrap'} complete`, { replica: config.replicaPath, records: applier.applied, seconds: Number(((Date.now() - started) / 1000).toFixed(2)) });

    /** Replays until caught up (bootstrap), stopped, or a new definition needs a resubscribe (true). */
    async function replay(from: Map<string, bigint>): Promise<boolean> {
      let resubscribe = false;
      let finished!: () => void;
      const allDone = new Promise<void>((resolve) => (finished = resolve));
      const position = new Map(from);
      const caughtUp = (): boolean => targets !== undefined && [...position].every(([t, o]) => o >= (targets?.get(t) ?? 0n));
      // Topics held at a unit's mark until the unit is whole elsewhere are not read meanwhile:
      // the log keeps what follows, not this process (whole-transactions.ts).
      let consumption: Consumption | undefined;
      let pausedTopics = new Set<string>();
      const syncPauses = (): void => {
        if (!consumption) return;
        const blocked = new Set(whole.blocked());
        for (const t of blocked) if (!pausedTopics.has(t)) consumption.pause(t);
        for (const t of pausedTopics) if (!blocked.has(t)) consumption.resume(t);
        pausedTopics = blocked;
      };
      const onBatch = async (batch: LogBatch): Promise<void> => {
        if (resubscribe) return;
        if (batch.topic === schemas) {
          if (applier.applySchemas(batch).newTopics.length > 0) resubscribe = true;
        } else {
          try {
            whole.take(batch);
          } catch (e) {
            if (!(e instanceof UnknownSchemaError)) throw e;
            resubscribe = true;
          }
        }
        position.set(batch.topic, batch.nextOffset);
        if (!follow && caughtUp()) strict = true;
        // The bootstrap's targets say nothing once following: the log has grown past them since.
        progress.update(batch.topic, batch.records.length, batch.nextOffset, follow ? undefined : targets?.get(batch.topic));
        const settled = whole.settle();
        syncPauses();
        if (resubscribe || (!follow && caughtUp() && settled)) finished();
      };
      consumption = await log.consume({ from, onBatch });
      syncPauses();
      const onAbort = (): void => finished();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await Promise.race([allDone, consumption.done]);
      } finally {
        signal.removeEventListener('abort', onAbort);
        await consumption.stop();
      }
      await consumption.done;
      // Held records are read again from where what was applied ends.
      whole.dropHeld();
      return resubscribe;
    }
  } finally {
    if (clean && db.open) {
      // A bootstrap stopped early: durable settings back, and what it applied made durable.
      endBulkLoad?.();
      markOffsetsSeen(db);
    }
    db.close();
  }
}
