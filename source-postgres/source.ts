/**
 * `cdc start`: PostgreSQL into the log.
 *
 *   connecting ─▶ preflight ─▶ topics, publication ─┬─▶ no slot ─▶ create (exported snapshot) ─▶ snapshot ─┐
 *                                                    └─▶ slot ─▶ snapshot of unfinished tables ───────────┤
 *                                                                                                streaming ◀┘
 *        ▲                                                                                         │ connection lost,
 *        └───────────────────── backoff (up to 5 minutes of failures) ◀────────────────────────────┘ log unreachable
 *                                                                                     signal ─▶ stopping: flush, confirm, close
 *
 * A commit's end LSN is confirmed to the slot only after the log has acked every record up to it
 * (delivery.ts). Until changes have streamed once, every failure ends the process at once (a wrong
 * URL should not be retried for minutes; an interrupted snapshot resumes on the next start); after
 * that, transient failures are waited out.
 *
 * A slot that disappeared or lost WAL while the log holds its snapshot means changes may be
 * missing: `cdc start` refuses to go on unless `--resnapshot` asks it to start over with a new slot
 * (which also tombstones the keys the source no longer has; see tombstones.ts).
 */

import { CdcError, formatLsn, messageOf, type Logger } from '../common/index.js';
import {
  auditTopics,
  defaultTopicSettings,
  readSnapshotProgress,
  schemaTopic,
  snapshotResetRecord,
  stateTopic,
  tableTopic,
  type TopicLog,
  type TopicSettings,
} from '../compaction/index.js';
import { listTables, selectTables, type CatalogTable } from './catalog.js';
import { ChangeMapper } from './changes.js';
import { connectPg, qualified } from './connect.js';
import { Delivery } from './delivery.js';
import { preflight } from './preflight.js';
import { ensurePublication } from './publication.js';
import { snapshotTables } from './snapshot.js';
import { checkSlot, createSlot, findSlot, validateSlotName } from './slot.js';
import { streamSession, type SessionLink } from './streaming.js';
import { isTransient } from './transient.js';

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
  /** Replace a lost slot with a new one and snapshot again. */
  resnapshot?: boolean;
  /** How long transient failures are waited out before giving up (ms). */
  retryWindowMs?: number;
}

export interface SourceDeps {
  log: TopicLog;
  logger: Logger;
  /** Called each time the snapshot is done and changes stream (for `cdc demo` and embedding). */
  onStreaming?: () => void;
}

export interface Source {
  /** Runs until `signal` aborts (then stops cleanly) or a failure (then rejects). */
  run(signal: AbortSignal): Promise<void>;
}

export function createSource(config: SourceConfig, deps: SourceDeps): Source {
  return { run: (signal) => runSource(config, deps, signal) };
}

async function runSource(config: SourceConfig, deps: SourceDeps, signal: AbortSignal): Promise<void> {
  validateSlotName(config.slot);
  const window = config.retryWindowMs ?? 5 * 60_000;
  let established = false;
  let failingSince: number | null = null;
  const emitted = new Set<string>();
  for (let attempt = 0; ; attempt++) {
    try {
      await runOnce(config, deps, signal, emitted, () => {
        established = true;
        failingSince = null;
      });
      return;
    } catch (e) {
      if (signal.aborted || !established || !isTransient(e)) throw e instanceof CdcError ? e : new CdcError('SOURCE_FAILED', `cdc start failed: ${messageOf(e)}`, { cause: e });
      failingSince ??= Date.now();
      if (Date.now() - failingSince > window) {
        throw new CdcError('SOURCE_GAVE_UP', `cdc start gave up after ${Math.round(window / 1000)} s of failures: ${messageOf(e)}`, {
          hint: 'check PostgreSQL and the log; nothing unconfirmed is lost: the next cdc start resends it',
          cause: e,
        });
      }
      const delay = Math.round(Math.random() * Math.min(15_000, 500 * 2 ** Math.min(attempt, 5)));
      deps.logger.warn('connection lost; retrying', { error: messageOf(e), code: e instanceof CdcError ? e.code : undefined, retry_in_ms: delay });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (signal.aborted) return;
    }
  }
}

function reportKeyless(tables: readonly CatalogTable[], logger: Logger): void {
  for (const t of tables) {
    logger.warn(`table ${t.schema}.${t.table} is not captured: it has no primary key or replica-identity index`, {
      code: 'TABLE_KEYLESS',
      fix: `ALTER TABLE ${qualified(t.schema, t.table)} ADD PRIMARY KEY (...); or ALTER TABLE ... REPLICA IDENTITY USING INDEX <unique index>`,
    });
  }
}

function slotLost(slot: string, why: string): CdcError {
  return new CdcError('SLOT_LOST', `replication slot ${slot} ${why}: changes made since its last confirmed position may be missing from the log`, {
    hint: `run cdc start --resnapshot (same flags) to start over with a new slot: it reads every table again and writes tombstones for rows deleted meanwhile, so replicas converge`,
  });
}

async function runOnce(config: SourceConfig, { log, logger, onStreaming }: SourceDeps, signal: AbortSignal, emitted: Set<string>, established: () => void): Promise<void> {
  const client = await connectPg(config.pgUrl);
  const link: SessionLink = { confirmed: 0n, stream: undefined };
  try {
    await preflight(client);
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
    const selection = selectTables(await listTables(client), config.tables);
    reportKeyless(selection.keyless, logger);
    if (selection.captured.length === 0) logger.warn('no table to capture yet');
    await log.connect();
    await log.ensureTopics(
      [schemaTopic(config.prefix), stateTopic(config.prefix), ...selection.captured.map((t) => tableTopic(config.prefix, t.schema, t.table))],
      config.topicSettings ?? defaultTopicSettings,
    );
    await auditTopics(log, [schemaTopic(config.prefix), stateTopic(config.prefix), ...selection.captured.map((t) => tableTopic(config.prefix, t.schema, t.table))], logger);
    await ensurePublication(client, config.publication, selection.captured);

    const mapper = new ChangeMapper(client, config.prefix);
    mapper.markEmitted(emitted);
    const delivery = new Delivery({
      log,
      logger,
      batchRecords: config.batchRecords,
      onDurable: (lsn) => {
        if (lsn > link.confirmed) {
          link.confirmed = lsn;
          link.stream?.sendStatus(lsn);
        }
      },
    });

    const progress = await readSnapshotProgress(log, config.prefix, config.slot);
    let slot = await findSlot(client, config.slot);
    if (slot && slot.walStatus === 'lost' && !config.resnapshot) throw slotLost(config.slot, 'has lost WAL it needed (wal_status = lost)');
    if (!slot && progress.size > 0 && !config.resnapshot) throw slotLost(config.slot, 'no longer exists, but the log holds its snapshot');
    if (slot && config.resnapshot) {
      checkSlot(config.slot, { ...slot, walStatus: null }, database);
      await client.query('SELECT pg_drop_replication_slot($1)', [config.slot]);
      logger.warn('dropped the replication slot to start over (--resnapshot)', { slot: config.slot });
      slot = undefined;
    }

    if (!slot) {
      // Progress of an earlier slot of this name says nothing about the new one.
      if (progress.size > 0) await delivery.appendNow(selection.captured.map((t) => snapshotResetRecord(config.prefix, config.slot, t.schema, t.table)));
      const replication = await connectPg(config.pgUrl, { replication: true });
      let created;
      try {
        created = await createSlot(replication, config.slot);
      } catch (e) {
        await replication.end().catch(() => undefined);
        throw e;
      }
      logger.info('created replication slot', { slot: config.slot, consistent_point: formatLsn(created.consistentPoint) });
      link.confirmed = created.consistentPoint;
      await snapshotTables({
        client, tables: selection.captured, snapshotName: created.snapshotName, position: created.consistentPoint,
        afterImport: () => replication.end(), mapper, delivery, prefix: config.prefix, slot: config.slot, logger, signal, reconcileWith: log,
      });
    } else {
      checkSlot(config.slot, slot, database);
      link.confirmed = slot.confirmedFlush ?? 0n;
      const unfinished = selection.captured.filter((t) => progress.get(`${t.schema}.${t.table}`)?.done !== true);
      if (unfinished.length > 0) {
        logger.info('snapshot of tables not yet read in full', { tables: unfinished.map((t) => `${t.schema}.${t.table}`).join(',') });
        await snapshotTables({ client, tables: unfinished, progress, position: link.confirmed, mapper, delivery, prefix: config.prefix, slot: config.slot, logger, signal });
      }
    }
    await delivery.flush();
    for (const id of mapper.emittedIds()) emitted.add(id);
    if (signal.aborted) return;
    const confirmed = (await findSlot(client, config.slot))?.confirmedFlush ?? link.confirmed;
    const streaming = (): void => {
      established();
      onStreaming?.();
    };
    await streamSession({ pgUrl: config.pgUrl, slot: config.slot, publication: config.publication, mapper, delivery, logger, confirmed, signal, onStreaming: streaming }, link);
    for (const id of mapper.emittedIds()) emitted.add(id);
    logger.info('stopped', { confirmed: formatLsn(link.confirmed), records: delivery.delivered });
  } finally {
    await client.end().catch(() => undefined);
  }
}

