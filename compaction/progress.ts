/**
 * Snapshot progress, kept in the log itself (`<prefix>._state`, compacted): which tables a slot
 * has read in full. Kept in the log rather than in PostgreSQL so that `cdc` needs no write access
 * to the source database, and so the marker is durable exactly when the rows before it are.
 */
import { CdcError } from '../common/index.js';
import { readToEnd } from './read-to-end.js';
import type { AppendRecord, TopicLog } from './topic-log.js';

export function stateTopic(prefix: string): string {
  return `${prefix}._state`;
}

/** The record that says `slot` has snapshotted `schema.table` completely. */
export function snapshotDoneRecord(prefix: string, slot: string, schema: string, table: string, lsn: string): AppendRecord {
  return {
    topic: stateTopic(prefix),
    key: Buffer.from(JSON.stringify({ kind: 'snapshot', slot, schema, table })),
    value: Buffer.from(JSON.stringify({ done: true, lsn })),
  };
}

/** The tables (`schema.table`) that `slot` has snapshotted completely, per the log. */
export async function snapshottedTables(log: TopicLog, prefix: string, slot: string): Promise<Set<string>> {
  const done = new Set<string>();
  await readToEnd(log, new Map([[stateTopic(prefix), 0n]]), (batch) => {
    for (const r of batch.records) {
      let key: unknown;
      try {
        key = JSON.parse(r.key.toString('utf8'));
      } catch {
        throw new CdcError('STATE_MALFORMED', `a record in ${stateTopic(prefix)} is not cdc state`);
      }
      if (typeof key !== 'object' || key === null) continue;
      const k = key as Record<string, unknown>;
      if (k['kind'] !== 'snapshot' || k['slot'] !== slot) continue;
      const name = `${String(k['schema'])}.${String(k['table'])}`;
      if (r.value === null) done.delete(name);
      else done.add(name);
    }
  });
  return done;
}
