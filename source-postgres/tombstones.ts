/**
 * Before a table is read into a topic that already holds records — an earlier table of the same
 * name, rows under a key that has changed, or a slot that was lost or replaced, so rows deleted
 * while no slot watched would live on — every key the topic holds is looked up in the read's own
 * snapshot, a batch at a time (memory stays bounded), and each key the table no longer has gets a
 * tombstone. Keys of another key (other columns) get one at once: the table has no such rows.
 * Written before the rows, so a sink never deletes a row the read wrote.
 */
import type pg from 'pg';
import type { Logger } from '../common/index.js';
import { decodeKey, isEndMark, readToEnd, type AppendRecord, type RowValues, type SchemaRecord, type TopicLog } from '../compaction/index.js';
import { quoteIdent, rowsOf } from './connect.js';
import type { Delivery } from './delivery.js';

const BATCH = 500;

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/** `filter`: the table's row filter; a key whose row is outside it is gone from the topic's point of view. */
export async function tombstoneVanishedKeys(client: pg.Client, log: TopicLog, schema: SchemaRecord, partitioned: boolean, delivery: Delivery, logger: Logger, filter: string | null = null): Promise<number> {
  const end = (await log.endOffsets([schema.topic])).get(schema.topic) ?? 0n;
  if (end === 0n) return 0;
  const types = new Map(schema.columns.map((c) => [c.name, c.type]));
  const keyCols = schema.key.map(quoteIdent).join(', ');
  let written = 0;
  const tombstones = async (records: AppendRecord[]): Promise<void> => {
    await delivery.add(records);
    written += records.length;
  };
  const check = async (keys: Map<string, { raw: Buffer; row: RowValues }>): Promise<void> => {
    if (keys.size === 0) return;
    const entries = [...keys.values()];
    const values: (string | null)[] = [];
    const tuples = entries.map(({ row }) => `(${schema.key.map((k) => (values.push(row[k] ?? null), `$${values.length}::${types.get(k) ?? 'text'}`)).join(', ')})`);
    const res = await client.query({
      text: `SELECT ${keyCols} FROM ${rowsOf(schema.schema, schema.table, partitioned)} WHERE (${keyCols}) IN (${tuples.join(', ')})${filter ? ` AND (${filter})` : ''}`,
      values,
      rowMode: 'array',
    });
    const present = new Set((res.rows as (string | null)[][]).map((r) => JSON.stringify(r)));
    const gone = entries.filter(({ row }) => !present.has(JSON.stringify(schema.key.map((k) => row[k] ?? null))));
    await tombstones(gone.map(({ raw }) => ({ topic: schema.topic, key: raw, value: null })));
  };
  let pending = new Map<string, { raw: Buffer; row: RowValues }>();
  await readToEnd(log, new Map([[schema.topic, 0n]]), async (batch) => {
    const otherKey: AppendRecord[] = [];
    for (const r of batch.records) {
      if (r.offset >= end || r.value === null || isEndMark(r.key)) continue;
      const row = decodeKey(r.key);
      if (!sameColumns(Object.keys(row), schema.key)) {
        otherKey.push({ topic: schema.topic, key: r.key, value: null });
        continue;
      }
      pending.set(r.key.toString('latin1'), { raw: r.key, row });
      if (pending.size >= BATCH) {
        await check(pending);
        pending = new Map();
      }
    }
    if (otherKey.length > 0) await tombstones(otherKey);
  });
  await check(pending);
  await delivery.flush();
  if (written > 0) logger.info('tombstones for keys the table no longer has', { table: `${schema.schema}.${schema.table}`, tombstones: written });
  return written;
}
