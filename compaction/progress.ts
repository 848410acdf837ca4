/**
 * Snapshot progress, kept in the log itself (`<prefix>._state`, compacted): per slot and table,
 * the key after which the snapshot has read every row, and whether it is done. Kept in the log
 * rather than in PostgreSQL so that `cdc` needs no write access to the source, and so a progress
 * record is durable only after the rows it covers (it is appended after them).
 */
import { CdcError } from '../common/index.js';
import type { RowValues } from './codec.js';
import { readToEnd } from './read-to-end.js';
import type { AppendRecord, TopicLog } from './topic-log.js';

export function stateTopic(prefix: string): string {
  return `${prefix}._state`;
}

export interface SnapshotProgress {
  /** Every row of the table has been written. */
  readonly done: boolean;
  /** The key of the last row written, in key order (null: none yet). */
  readonly after: RowValues | null;
  /** Rows written so far. */
  readonly rows: number;
  /** The slot position the snapshot started at. */
  readonly lsn: string;
}

function stateKey(slot: string, schema: string, table: string): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'snapshot', slot, schema, table }));
}

/** The record that stores the snapshot progress of `schema.table` for `slot`. */
export function snapshotProgressRecord(prefix: string, slot: string, schema: string, table: string, progress: SnapshotProgress): AppendRecord {
  return { topic: stateTopic(prefix), key: stateKey(slot, schema, table), value: Buffer.from(JSON.stringify(progress)) };
}

/** The record that forgets the progress of a table (before a new snapshot of it). */
export function snapshotResetRecord(prefix: string, slot: string, schema: string, table: string): AppendRecord {
  return { topic: stateTopic(prefix), key: stateKey(slot, schema, table), value: null };
}

/** `schema.table` → snapshot progress of `slot`, per the log. */
export async function readSnapshotProgress(log: TopicLog, prefix: string, slot: string): Promise<Map<string, SnapshotProgress>> {
  const progress = new Map<string, SnapshotProgress>();
  await readToEnd(log, new Map([[stateTopic(prefix), 0n]]), (batch) => {
    for (const r of batch.records) {
      let key: unknown;
      let value: unknown;
      try {
        key = JSON.parse(r.key.toString('utf8'));
        value = r.value === null ? null : JSON.parse(r.value.toString('utf8'));
      } catch {
        throw new CdcError('STATE_MALFORMED', `a record in ${stateTopic(prefix)} is not cdc state`);
      }
      if (typeof key !== 'object' || key === null) continue;
      const k = key as Record<string, unknown>;
      if (k['kind'] !== 'snapshot' || k['slot'] !== slot) continue;
      const name = `${String(k['schema'])}.${String(k['table'])}`;
      if (value === null || typeof value !== 'object') {
        progress.delete(name);
        continue;
      }
      const v = value as Record<string, unknown>;
      progress.set(name, {
        done: v['done'] === true,
        after: typeof v['after'] === 'object' && v['after'] !== null ? (v['after'] as RowValues) : null,
        rows: typeof v['rows'] === 'number' ? v['rows'] : 0,
        lsn: typeof v['lsn'] === 'string' ? v['lsn'] : '0/0',
      });
    }
  });
  return progress;
}
