/**
 * Snapshot progress, kept in the log itself (`<prefix>._state`, compacted): per slot and table,
 * either "read in full, with this table definition" or "read up to this key". Kept in the log
 * rather than in PostgreSQL so that `cdc` needs no write access to the source database, and so a
 * marker is durable only after the rows it covers (it is appended after them). A table whose
 * marker is missing, or names another definition than the catalog's, is read again (see
 * source-postgres/tables.ts); one read up to a key resumes after it (snapshot.ts).
 */
import { CdcError } from '../common/index.js';
import type { RowValues } from './codec.js';
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
  /** A partitioned table's partitions when read (absent or '' for any other table). */
  readonly partitions?: string;
}

/** A table that a slot has read part of, in key order. */
export interface SnapshotProgress {
  /** The key of the last row written (null: none yet). */
  readonly after: RowValues | null;
  /** Rows written so far. */
  readonly rows: number;
  /** The slot position the read started at. */
  readonly lsn: string;
  readonly schemaId: string;
  readonly oid: number;
}

function markerKey(slot: string, schema: string, table: string): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'snapshot', slot, schema, table }));
}

/** The record that says `slot` has snapshotted `schema.table` completely, with definition `schemaId`. */
export function snapshotDoneRecord(prefix: string, slot: string, schema: string, table: string, lsn: string, schemaId: string, oid: number, partitions = ''): AppendRecord {
  const value = { done: true, lsn, schema_id: schemaId, oid, ...(partitions !== '' ? { partitions } : {}) };
  return { topic: stateTopic(prefix), key: markerKey(slot, schema, table), value: Buffer.from(JSON.stringify(value)) };
}

/** The record that says `slot` has read `schema.table` up to a key (appended after those rows). */
export function snapshotProgressRecord(prefix: string, slot: string, schema: string, table: string, p: SnapshotProgress): AppendRecord {
  const value = { done: false, after: p.after, rows: p.rows, lsn: p.lsn, schema_id: p.schemaId, oid: p.oid };
  return { topic: stateTopic(prefix), key: markerKey(slot, schema, table), value: Buffer.from(JSON.stringify(value)) };
}

/** Whether an appended record says a table's snapshot is complete (for progress metrics). */
export function isSnapshotDoneRecord(prefix: string, r: AppendRecord): boolean {
  if (r.topic !== stateTopic(prefix) || r.value === null) return false;
  try {
    return (JSON.parse(r.value.toString('utf8')) as { done?: unknown }).done === true;
  } catch {
    return false;
  }
}

/** Removes the marker: the table is gone, or is being read again from the start. */
export function snapshotUndoneRecord(prefix: string, slot: string, schema: string, table: string): AppendRecord {
  return { topic: stateTopic(prefix), key: markerKey(slot, schema, table), value: null };
}

export interface SnapshotState {
  /** Tables read in full, by tableRef. */
  readonly done: Map<string, SnapshotDone>;
  /** Tables read in part, by tableRef. */
  readonly partial: Map<string, SnapshotProgress>;
}

/** What the log says `slot` has read. */
export async function readSnapshotState(log: TopicLog, prefix: string, slot: string): Promise<SnapshotState> {
  const done = new Map<string, SnapshotDone>();
  const partial = new Map<string, SnapshotProgress>();
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
      const ref = tableRef(schema, table);
      done.delete(ref);
      partial.delete(ref);
      if (typeof value !== 'object' || value === null) continue;
      const v = value as Record<string, unknown>;
      const id = typeof v['schema_id'] === 'string' ? v['schema_id'] : null;
      const oid = typeof v['oid'] === 'number' ? v['oid'] : null;
      if (v['done'] !== false) {
        done.set(ref, { schema, table, schemaId: id, oid, ...(typeof v['partitions'] === 'string' ? { partitions: v['partitions'] } : {}) });
      } else if (id !== null && oid !== null) {
        const after = typeof v['after'] === 'object' && v['after'] !== null ? (v['after'] as RowValues) : null;
        partial.set(ref, { after, rows: typeof v['rows'] === 'number' ? v['rows'] : 0, lsn: typeof v['lsn'] === 'string' ? v['lsn'] : '0/0', schemaId: id, oid });
      }
    }
  });
  return { done, partial };
}

/** The tables that `slot` has snapshotted completely, per the log, by `tableRef`. */
export async function snapshottedTables(log: TopicLog, prefix: string, slot: string): Promise<Map<string, SnapshotDone>> {
  return (await readSnapshotState(log, prefix, slot)).done;
}
