/**
 * Snapshot progress, kept in the log itself (`<prefix>._state`, compacted): which tables a slot
 * has read in full, and with which table definition. Kept in the log rather than in PostgreSQL so
 * that `cdc` needs no write access to the source database, and so the marker is durable exactly
 * when the rows before it are. A table whose marker is missing, or names another definition than
 * the catalog's, is read again (see source-postgres/tables.ts).
 */
import { CdcError } from '../common/index.js';
import { readToEnd } from './read-to-end.js';
import type { AppendRecord, TopicLog } from './topic-log.js';

export function stateTopic(prefix: string): string {
  return `${prefix}._state`;
}

/** One identifier for `schema.table` that stays unambiguous when the names contain dots. */
export function tableRef(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}

/** A table that a slot has read in full. */
export interface SnapshotDone {
  readonly schema: string;
  readonly table: string;
  /** The definition the rows were read with (null in markers written before definitions were recorded). */
  readonly schemaId: string | null;
  /** The table's oid: a table dropped and created again under the same name is a new table. */
  readonly oid: number | null;
}

function markerKey(slot: string, schema: string, table: string): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'snapshot', slot, schema, table }));
}

/** The record that says `slot` has snapshotted `schema.table` completely, with definition `schemaId`. */
export function snapshotDoneRecord(prefix: string, slot: string, schema: string, table: string, lsn: string, schemaId: string, oid: number): AppendRecord {
  return { topic: stateTopic(prefix), key: markerKey(slot, schema, table), value: Buffer.from(JSON.stringify({ done: true, lsn, schema_id: schemaId, oid })) };
}

/** Removes the marker: the table is gone, or is being read again. */
export function snapshotUndoneRecord(prefix: string, slot: string, schema: string, table: string): AppendRecord {
  return { topic: stateTopic(prefix), key: markerKey(slot, schema, table), value: null };
}

/** The tables that `slot` has snapshotted completely, per the log, by `tableRef`. */
export async function snapshottedTables(log: TopicLog, prefix: string, slot: string): Promise<Map<string, SnapshotDone>> {
  const done = new Map<string, SnapshotDone>();
  await readToEnd(log, new Map([[stateTopic(prefix), 0n]]), (batch) => {
    for (const r of batch.records) {
      let key: unknown;
      let value: unknown = null;
      try {
        key = JSON.parse(r.key.toString('utf8'));
        if (r.value !== null) value = JSON.parse(r.value.toString('utf8'));
      } catch {
        throw new CdcError('STATE_MALFORMED', `a record in ${stateTopic(prefix)} is not cdc state`);
      }
      if (typeof key !== 'object' || key === null) continue;
      const k = key as Record<string, unknown>;
      if (k['kind'] !== 'snapshot' || k['slot'] !== slot) continue;
      const schema = String(k['schema']);
      const table = String(k['table']);
      if (value === null) done.delete(tableRef(schema, table));
      else {
        const v = value as Record<string, unknown>;
        const id = v['schema_id'];
        const oid = v['oid'];
        done.set(tableRef(schema, table), { schema, table, schemaId: typeof id === 'string' ? id : null, oid: typeof oid === 'number' ? oid : null });
      }
    }
  });
  return done;
}
