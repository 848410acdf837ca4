/**
 * The replication slot: PostgreSQL keeps WAL for it until `cdc` confirms a position, which is
 * what makes a crash lose nothing. A new slot is created with an exported snapshot, so the initial
 * rows are read at exactly the point where the stream begins: nothing missed, nothing doubled.
 */
import type pg from 'pg';
import { CdcError, parseLsn } from '../common/index.js';
import { quoteIdent } from './connect.js';

export interface SlotInfo {
  readonly plugin: string | null;
  readonly database: string | null;
  readonly confirmedFlush: bigint | null;
  readonly walStatus: string | null;
  readonly activePid: number | null;
}

export async function findSlot(client: pg.Client, name: string): Promise<SlotInfo | undefined> {
  const res = await client.query<{ plugin: string | null; database: string | null; confirmed: string | null; wal_status: string | null; active_pid: string | null }>(
    'SELECT plugin, database, confirmed_flush_lsn::text AS confirmed, wal_status, active_pid::text FROM pg_replication_slots WHERE slot_name = $1',
    [name],
  );
  const r = res.rows[0];
  if (!r) return undefined;
  return {
    plugin: r.plugin,
    database: r.database,
    confirmedFlush: r.confirmed ? parseLsn(r.confirmed) : null,
    walStatus: r.wal_status,
    activePid: r.active_pid ? Number(r.active_pid) : null,
  };
}

/** Checks that an existing slot can serve this `cdc start`. */
export function checkSlot(name: string, slot: SlotInfo, database: string): void {
  if (slot.plugin !== 'pgoutput' || slot.database !== database) {
    throw new CdcError('SLOT_MISMATCH', `replication slot ${name} exists but is ${slot.plugin ?? 'a physical slot'} on database ${slot.database ?? '-'}, not pgoutput on ${database}`, {
      exitCode: 2,
      hint: 'pass another --slot name, or drop that slot if it is unused',
    });
  }
  if (slot.activePid !== null) {
    throw new CdcError('SLOT_IN_USE', `replication slot ${name} is in use by another connection (pid ${slot.activePid})`, {
      hint: 'stop the other cdc start first (only one may read a slot), or pass another --slot',
      retriable: true,
    });
  }
  if (slot.walStatus === 'lost') {
    throw new CdcError('SLOT_LOST', `replication slot ${name} has lost WAL it needed (wal_status = lost): changes may be missing from the log`, {
      hint: 'drop the slot and start again with a new one; the replicas must be rebuilt afterwards',
    });
  }
}

export interface CreatedSlot {
  readonly consistentPoint: bigint;
  readonly snapshotName: string;
}

/**
 * Creates a pgoutput slot on a replication connection and exports its snapshot. The snapshot stays
 * importable only while that connection stays open and idle, so the caller closes it after
 * `SET TRANSACTION SNAPSHOT` has run on the snapshot connection.
 */
export async function createSlot(replication: pg.Client, name: string): Promise<CreatedSlot> {
  const res = await replication.query<{ consistent_point: string; snapshot_name: string }>(`CREATE_REPLICATION_SLOT ${quoteIdent(name)} LOGICAL pgoutput EXPORT_SNAPSHOT`);
  const row = res.rows[0];
  if (!row) throw new CdcError('SLOT_CREATE_FAILED', `PostgreSQL returned nothing for CREATE_REPLICATION_SLOT ${name}`);
  return { consistentPoint: parseLsn(row.consistent_point), snapshotName: row.snapshot_name };
}

/** Valid slot and publication names: PostgreSQL allows [a-z0-9_] for slots, up to 63 characters. */
export function validateSlotName(name: string): void {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) {
    throw new CdcError('SLOT_NAME_INVALID', `slot name ${JSON.stringify(name)} is not allowed`, {
      exitCode: 2,
      hint: 'use lower-case letters, digits and "_" (at most 63), for example --slot cdc',
    });
  }
}
