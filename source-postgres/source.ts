/**
 * `cdc start`: PostgreSQL into the log.
 *
 * Until changes have streamed once, every failure ends the process at once (a wrong URL should not
 * be retried for minutes; an interrupted read resumes on the next start); after that, transient
 * failures (a PostgreSQL restart, a cut connection, the log unreachable) are waited out with
 * backoff, up to `retryWindowMs` of consecutive failures, starting again from the slot.
 *
 * A slot that disappeared or lost WAL while the log holds its snapshot means changes may be
 * missing: `cdc start` refuses to go on unless `--resnapshot` asks it to start over with a new slot
 * (whose reads tombstone the keys the source no longer has; see tombstones.ts).
 *
 *   connecting ─▶ preflight ─▶ publication ─┬─▶ new slot ─▶ snapshot (exported) ──────────┐
 *                                           └─▶ slot exists ─▶ load what the log has read ─┤
 *                                                                                  streaming ◀┘
 *          table poll (at once, then every tablePollMs) ─▶ barrier in the WAL ···▶ read ─┤
 *                                                                                      │ signal
 *                                                                                  stopping: flush, confirm, close
 *
 * While streaming, every `tablePollMs` the catalog is compared with the log (tables.ts): new tables
 * are read and published, changed ones read again, dropped ones removed. That work and the stream's
 * messages run one at a time, in one queue, so each sees the log as the other left it.
 *
 * Positions: a commit's end LSN is confirmed to the slot only after the log has acked every record
 * up to it (see delivery.ts). While nothing is pending, keepalives advance the slot too, so WAL
 * written to uncaptured tables does not pile up behind it.
 */
import { CdcError, crashPoint, formatLsn, isRetriable, messageOf, RetryWindow, type Logger } from '../common/index.js';
import {
  auditTopics,
  defaultTopicSettings,
  schemaTopic,
  stateTopic,
  tableTopic,
  type TopicLog,
} from '../compaction/index.js';
import { listTables, selectTables } from './catalog.js';
import { checkCaptureRules } from './capture-check.js';
import { ChangeMapper } from './changes.js';
import { connectPg } from './connect.js';
import { Delivery } from './delivery.js';
import { announceLogFormat } from './log-format.js';
import { pgTimeToIso } from './pgoutput.js';
import { preflight } from './preflight.js';
import { openSlot } from './open-slot.js';
import type { SourceConfig } from './source-config.js';
import { ensurePublication } from './publication.js';
import { CapturedTables } from './tables.js';
import { validateSlotName } from './slot.js';
import { ReplicationStream, type StreamEvent } from './stream.js';


export interface SourceDeps {
  log: TopicLog;
  logger: Logger;
  /** Called each time changes start to stream (for `cdc demo` and embedding). */
  onStreaming?: () => void;
}

export interface Source {
  /** Runs until `signal` aborts (then stops cleanly) or a failure (then rejects). */
  run(signal: AbortSignal): Promise<void>;
}

const STATUS_INTERVAL_MS = 10_000;
export const DEFAULT_TABLE_POLL_MS = 10_000;

export function createSource(config: SourceConfig, deps: SourceDeps): Source {
  return { run: (signal) => runSource(config, deps, signal) };
}

async function runSource(config: SourceConfig, deps: SourceDeps, signal: AbortSignal): Promise<void> {
  validateSlotName(config.slot);
  let established = false;
  const failures = new RetryWindow({
    windowMs: config.retryWindowMs ?? 5 * 60_000,
    giveUp: { code: 'SOURCE_GAVE_UP', what: 'cdc start', hint: 'check PostgreSQL and the log; nothing unconfirmed is lost: the next cdc start resends it' },
    signal,
  });
  for (;;) {
    try {
      await runOnce(config, deps, signal, () => {
        established = true;
        failures.succeeded();
      });
      return;
    } catch (e) {
      // Before the first start has streamed, a failure is the setup's (bad URL, no slot…): said at once.
      if (signal.aborted || !established || !isRetriable(e)) throw e instanceof CdcError ? e : new CdcError('SOURCE_FAILED', `cdc start failed: ${messageOf(e)}`, { cause: e });
      await failures.failed(e, (delay) => deps.logger.warn('connection lost; retrying', { error: messageOf(e), code: e instanceof CdcError ? e.code : undefined, retry_in_ms: delay }));
      if (signal.aborted) return;
    }
  }
}

async function runOnce(config: SourceConfig, { log, logger, onStreaming }: SourceDeps, signal: AbortSignal, established: () => void): Promise<void> {
  const client = await connectPg(config.pgUrl);
  let stream: ReplicationStream | undefined;
  let fence: Delivery | undefined;
  try {
    await preflight(client);
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
    const selection = selectTables(await listTables(client), config.tables);
    if (selection.captured.length === 0) logger.warn('no table to capture yet: cdc start will stream changes of tables added to the publication later');

    await log.connect();
    await log.ensureTopics(
      [schemaTopic(config.prefix), stateTopic(config.prefix), ...selection.captured.map((t) => tableTopic(config.prefix, t.schema, t.table))],
      config.topicSettings ?? defaultTopicSettings,
    );
    await auditTopics(log, [schemaTopic(config.prefix), stateTopic(config.prefix), ...selection.captured.map((t) => tableTopic(config.prefix, t.schema, t.table))], logger);
    if (config.capture) await checkCaptureRules(client, config.capture, selection.captured, logger);
    await ensurePublication(client, config.publication, selection.captured, config.capture);

    let confirmed = 0n;
    let tables: CapturedTables | undefined;
    const mapper = new ChangeMapper(client, config.prefix, (reason, oid, name) => {
      if (reason === 'keyless' && name) tables?.reportKeyless(name);
      else logger.debug('changes of a relation left out', { oid, reason });
    }, config.capture);
    // Asked for every record: the names are made once.
    const tablePrefix = `${config.prefix}.`;
    const schemas = schemaTopic(config.prefix);
    const states = stateTopic(config.prefix);
    const delivery = new Delivery({
      log,
      logger,
      batchRecords: config.batchRecords,
      isTableTopic: (topic) => topic.startsWith(tablePrefix) && topic !== schemas && topic !== states,
      onDurable: (lsn) => {
        if (lsn > confirmed) {
          confirmed = lsn;
          stream?.sendStatus(lsn);
        }
      },
    });
    fence = delivery;
    await announceLogFormat(log, config.prefix, delivery);

    tables = new CapturedTables({
      client, log, mapper, delivery, logger, prefix: config.prefix, slot: config.slot, publication: config.publication,
      wanted: config.tables, topicSettings: config.topicSettings ?? defaultTopicSettings, signal,
    });
    for (const t of selection.keyless) tables.reportKeyless(t);
    await openSlot({ config, client, log, logger, delivery, tables, database, onPosition: (lsn) => (confirmed = lsn) });
    await delivery.flush();
    if (signal.aborted) return;

    const replication = await connectPg(config.pgUrl, { replication: true });
    // The source position of the transaction under way, built once at its Begin: every row shares it.
    let tx: { lsn: string; txid: string; commitTime: string; snapshot: false } | null = null;
    let stopping = false;
    // Stream messages and table polls run one at a time, in arrival order.
    let queue: Promise<void> = Promise.resolve();
    const serial = (work: () => Promise<void>): Promise<void> => {
      const next = queue.then(work);
      queue = next.catch(() => undefined);
      return next;
    };
    const handle = async (event: StreamEvent): Promise<void> => {
      if (stopping) return;
      if (event.kind === 'keepalive') {
        if (tx === null && delivery.idle && event.walEnd > confirmed) {
          confirmed = event.walEnd;
          stream?.sendStatus(confirmed);
        } else if (event.replyRequested) {
          stream?.sendStatus(confirmed);
        }
        return;
      }
      const m = event.message;
      switch (m.tag) {
        case 'begin':
          tx = { lsn: formatLsn(m.finalLsn), txid: String(m.xid), commitTime: pgTimeToIso(m.commitTime), snapshot: false };
          delivery.begin();
          return;
        case 'commit':
          delivery.commit(m.endLsn, tx?.txid ?? null);
          tx = null;
          return;
        case 'relation': {
          const record = await mapper.relation(m);
          if (record) await delivery.appendNow([record]);
          return;
        }
        case 'insert':
        case 'update':
        case 'delete': {
          const source = tx ?? { lsn: formatLsn(event.lsn), txid: null, commitTime: null, snapshot: false };
          // The common case synchronously; a new or stale definition, or a TOAST read, awaits.
          const records = mapper.changeNow(m, source) ?? (m.tag === 'insert' ? await mapper.insert(m, source) : m.tag === 'update' ? await mapper.update(m, source) : await mapper.delete(m));
          await delivery.add(records);
          crashPoint('mid-transaction');
          return;
        }
        case 'truncate':
          await tables?.truncate(m.relationOids);
          return;
        case 'message':
          await tables?.message(m.prefix, m.content, confirmed);
          return;
        default:
          return;
      }
    };
    stream = new ReplicationStream(replication, (event) => serial(() => handle(event)));
    stream.start(config.slot, config.publication, 0n);
    logger.info('streaming changes', { slot: config.slot, from: formatLsn(confirmed), log: log.description });
    established();
    onStreaming?.();
    const timer = setInterval(() => stream?.sendStatus(confirmed), STATUS_INTERVAL_MS);
    let pollFailed!: (e: unknown) => void;
    const pollFailure = new Promise<never>((_, reject) => (pollFailed = reject));
    pollFailure.catch(() => undefined);
    let polling = false;
    const poller = setInterval(() => {
      if (polling || stopping) return;
      polling = true;
      serial(async () => {
        if (!stopping) await tables?.poll();
      })
        .catch(pollFailed)
        .finally(() => (polling = false));
    }, config.tablePollMs ?? DEFAULT_TABLE_POLL_MS);
    // The first poll at once: tables left unread or changed while cdc start was down.
    serial(() => tables?.poll() ?? Promise.resolve()).catch(pollFailed);
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
        stream?.done.then(resolve, reject);
        pollFailure.catch(reject);
        delivery.failed.catch(reject);
      });
    } finally {
      clearInterval(timer);
      clearInterval(poller);
      stopping = true;
    }
    await queue;
    // Stopping: what was received goes to the log, the durable position to PostgreSQL.
    await delivery.flush();
    stream.sendStatus(confirmed);
    logger.info('stopped', { confirmed: formatLsn(confirmed), records: delivery.delivered });
  } finally {
    await stream?.stop();
    // The fence: the next run starts only when nothing of this one can reach the log any more.
    await fence?.close();
    await client.end().catch(() => undefined);
  }
}
