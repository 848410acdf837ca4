/**
 * When a table is snapshotted for a new slot but its topic already holds records (the old slot was
 * lost or dropped, or the slot was renamed), rows deleted at the source while no slot watched them
 * would live on in the topic forever. So before the new snapshot's rows, every key the topic holds
 * is looked up in that same snapshot, a batch at a time (memory stays bounded), and each key the
 * source no longer has gets a tombstone. Every replica then converges to the source.
 */
import type pg from 'pg';
import type { Logger } from '../common/index.js';
import { decodeKey, readToEnd, type RowValues, type SchemaRecord, type TopicLog } from '../compaction/index.js';
import { qualified, quoteIdent } from './connect.js';
import type { Delivery } from './delivery.js';

const BATCH = 500;

export async function tombstoneVanishedKeys(client: pg.Client, log: TopicLog, schema: SchemaRecord, delivery: Delivery, logger: Logger): Promise<number> {
  const end = (await log.endOffsets([schema.topic])).get(schema.topic) ?? 0n;
  if (end === 0n) return 0;
  const types = new Map(schema.columns.map((c) => [c.name, c.type]));
  const keyCols = schema.key.map(quoteIdent).join(', ');
  let written = 0;
  const check = async (keys: Map<string, RowValues>): Promise<void> => {
    if (keys.size === 0) return;
    const rows = [...keys.values()];
    const values: (string | null)[] = [];
    const tuples = rows.map((row) => `(${schema.key.map((k) => (values.push(row[k] ?? null), `$${values.length}::${types.get(k) ?? 'text'}`)).join(', ')})`);
    const res = await client.query({
      text: `SELECT ${keyCols} FROM ONLY ${qualified(schema.schema, schema.table)} WHERE (${keyCols}) IN (${tuples.join(', ')})`,
      values,
      rowMode: 'array',
    });
    const present = new Set((res.rows as (string | null)[][]).map((r) => JSON.stringify(r)));
    const gone = rows.filter((row) => !present.has(JSON.stringify(schema.key.map((k) => row[k] ?? null))));
    await delivery.add(gone.map((row) => ({ topic: schema.topic, key: Buffer.from(JSON.stringify(Object.fromEntries(schema.key.map((k) => [k, row[k] ?? null])))), value: null })));
    written += gone.length;
  };
  let pending = new Map<string, RowValues>();
  await readToEnd(log, new Map([[schema.topic, 0n]]), async (batch) => {
    for (const r of batch.records) {
      if (r.offset >= end || r.value === null) continue;
      pending.set(r.key.toString('latin1'), decodeKey(r.key));
      if (pending.size >= BATCH) {
        await check(pending);
        pending = new Map();
      }
    }
  });
  await check(pending);
  if (written > 0) logger.warn('wrote tombstones for rows deleted while no slot captured this table', { table: `${schema.schema}.${schema.table}`, tombstones: written });
  return written;
}
