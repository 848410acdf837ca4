/**
 * Where a run of `cdc start` begins: the slot decisions. A slot that lost WAL, or that is gone while
 * the log holds its snapshot, means changes may be missing: refused unless `--resnapshot` asks to
 * start over with a new slot. A new slot is read in full from its exported snapshot; an existing
 * one resumes at its confirmed position, with the tables the log says were read.
 */
import type pg from 'pg';
import { CdcError, formatLsn, type Logger } from '../common/index.js';
import { readSnapshotState, snapshotUndoneRecord, type TopicLog } from '../compaction/index.js';
import { reportCaptureChanges } from './capture-settings.js';
import { connectPg } from './connect.js';
import type { Delivery } from './delivery.js';
import { checkSlot, createSlot, findSlot } from './slot.js';
import type { SourceConfig } from './source-config.js';
import type { CapturedTables } from './tables.js';

export interface OpenSlotContext {
  config: SourceConfig;
  client: pg.Client;
  log: TopicLog;
  logger: Logger;
  delivery: Delivery;
  tables: CapturedTables;
  /** The database the client is connected to (a slot of another database is refused). */
  database: string;
  /** The position the stream starts from, as soon as it is known (before a new slot's read). */
  onPosition: (lsn: bigint) => void;
}

export async function openSlot({ config, client, log, logger, delivery, tables, database, onPosition }: OpenSlotContext): Promise<void> {
  const state = await readSnapshotState(log, config.prefix, config.slot);
  let existing = await findSlot(client, config.slot);
  const logHasSlot = state.done.size > 0 || state.partial.size > 0;
  if (config.capture) await reportCaptureChanges({ log, prefix: config.prefix, slot: config.slot, rules: config.capture, logger, ranBefore: logHasSlot }, (r) => delivery.appendNow(r));
  if (existing?.walStatus === 'lost' && !config.resnapshot) throw slotLost(config.slot, 'has lost WAL it needed (wal_status = lost)');
  if (!existing && logHasSlot && !config.resnapshot) throw slotLost(config.slot, 'no longer exists, but the log holds its snapshot');
  if (existing && config.resnapshot) {
    checkSlot(config.slot, { ...existing, walStatus: null }, database);
    await client.query('SELECT pg_drop_replication_slot($1)', [config.slot]);
    logger.warn('dropped the replication slot to start over (--resnapshot)', { slot: config.slot });
    existing = undefined;
  }
  if (!existing) {
    // What the log says an earlier slot of this name read says nothing about the new one.
    const refs = [...state.done.values(), ...[...state.partial.keys()].map((ref) => JSON.parse(ref) as [string, string]).map(([schema, table]) => ({ schema, table }))];
    if (refs.length > 0) await delivery.appendNow(refs.map((t) => snapshotUndoneRecord(config.prefix, config.slot, t.schema, t.table)));
    const replication = await connectPg(config.pgUrl, { replication: true });
    let created;
    try {
      created = await createSlot(replication, config.slot);
    } catch (e) {
      await replication.end().catch(() => undefined);
      throw e;
    }
    logger.info('created replication slot', { slot: config.slot, consistent_point: formatLsn(created.consistentPoint) });
    onPosition(created.consistentPoint);
    await tables.initial(created.consistentPoint, { name: created.snapshotName, afterImport: () => replication.end() });
  } else {
    checkSlot(config.slot, existing, database);
    onPosition(existing.confirmedFlush ?? 0n);
    // Tables not read in full, read with another definition, or gone since are handled when the
    // stream reaches the barrier of the first poll (tables.ts): after the changes before it.
    tables.load(state.done, state.partial);
  }
}

function slotLost(slot: string, why: string): CdcError {
  return new CdcError('SLOT_LOST', `replication slot ${slot} ${why}: changes made since its last confirmed position may be missing from the log`, {
    hint: 'run cdc start --resnapshot (same flags) to start over with a new slot: it reads every table again and writes tombstones for rows deleted meanwhile, so replicas converge',
  });
}
