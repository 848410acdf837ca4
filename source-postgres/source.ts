/**
 * `cdc start`: PostgreSQL into the log.
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
import { CdcError, formatLsn, type Logger } from '../common/index.js';
import { schemaTopic, snapshottedTables, stateTopic, tableTopic, type TopicLog, type TopicSettings, defaultTopicSettings } from '../compaction/index.js';
import { listTables, selectTables } from './catalog.js';
import { ChangeMapper } from './changes.js';
import { connectPg } from './connect.js';
import { Delivery } from './delivery.js';
import { pgTimeToIso } from './pgoutput.js';
import { preflight } from './preflight.js';
import { ensurePublication } from './publication.js';
import { CapturedTables } from './tables.js';
import { checkSlot, createSlot, findSlot, validateSlotName } from './slot.js';
import { ReplicationStream, type StreamEvent } from './stream.js';

export interface SourceConfig {
  pgUrl: string;
  prefix: string;
  slot: string;
  publication: string;
  /** Tables to capture; all tables with a key when absent. */
  tables?: { schema: string; table: string }[];
  topicSettings?: TopicSettings;
  /** Records per log append. */
  batchRecords?: number;
  /** How often the catalog is checked for new, changed and dropped tables (ms). */
  tablePollMs?: number;
}

export interface SourceDeps {
  log: TopicLog;
  logger: Logger;
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

async function runSource(config: SourceConfig, { log, logger }: SourceDeps, signal: AbortSignal): Promise<void> {
  validateSlotName(config.slot);
  const client = await connectPg(config.pgUrl);
  let stream: ReplicationStream | undefined;
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
    await ensurePublication(client, config.publication, selection.captured);

    let confirmed = 0n;
    let tables: CapturedTables | undefined;
    const mapper = new ChangeMapper(client, config.prefix, (reason, oid, name) => {
      if (reason === 'keyless' && name) tables?.reportKeyless(name);
      else logger.debug('changes of a relation left out', { oid, reason });
    });
    const delivery = new Delivery({
      log,
      logger,
      batchRecords: config.batchRecords,
      onDurable: (lsn) => {
        if (lsn > confirmed) {
          confirmed = lsn;
          stream?.sendStatus(lsn);
        }
      },
    });

    tables = new CapturedTables({
      client, log, mapper, delivery, logger, prefix: config.prefix, slot: config.slot, publication: config.publication,
      wanted: config.tables, topicSettings: config.topicSettings ?? defaultTopicSettings, signal,
    });
    for (const t of selection.keyless) tables.reportKeyless(t);
    const existing = await findSlot(client, config.slot);
    if (!existing) {
      const replication = await connectPg(config.pgUrl, { replication: true });
      let created;
      try {
        created = await createSlot(replication, config.slot);
      } catch (e) {
        await replication.end().catch(() => undefined);
        throw e;
      }
      logger.info('created replication slot', { slot: config.slot, consistent_point: formatLsn(created.consistentPoint) });
      confirmed = created.consistentPoint;
      await tables.initial(created.consistentPoint, { name: created.snapshotName, afterImport: () => replication.end() });
    } else {
      checkSlot(config.slot, existing, database);
      confirmed = existing.confirmedFlush ?? 0n;
      // Tables not read in full, read with another definition, or gone since are handled when the
      // stream reaches the barrier of the first poll (tables.ts): after the changes before it.
      tables.load(await snapshottedTables(log, config.prefix, config.slot));
    }
    await delivery.flush();
    if (signal.aborted) return;

    const replication = await connectPg(config.pgUrl, { replication: true });
    let tx: { lsn: string; txid: string; commitTime: string } | null = null;
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
          tx = { lsn: formatLsn(m.finalLsn), txid: String(m.xid), commitTime: pgTimeToIso(m.commitTime) };
          return;
        case 'commit':
          tx = null;
          delivery.commit(m.endLsn);
          return;
        case 'relation': {
          const record = await mapper.relation(m);
          if (record) await delivery.appendNow([record]);
          return;
        }
        case 'insert':
        case 'update': {
          const source = { ...(tx ?? { lsn: formatLsn(event.lsn), txid: null, commitTime: null }), snapshot: false };
          await delivery.add(m.tag === 'insert' ? await mapper.insert(m, source) : await mapper.update(m, source));
          return;
        }
        case 'delete':
          await delivery.add(await mapper.delete(m));
          return;
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
  } catch (e) {
    if (e instanceof CdcError) throw e;
    throw new CdcError('SOURCE_FAILED', `cdc start failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    await stream?.stop();
    await client.end().catch(() => undefined);
  }
}
