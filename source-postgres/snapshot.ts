/**
 * The initial rows. Each table is read with a cursor, a chunk at a time (memory stays bounded
 * whatever the table's size), inside one REPEATABLE READ transaction: for a new slot, the snapshot
 * it exported, so the rows are exactly those the stream starts after.
 *
 * A table whose snapshot did not finish (a crash) is read again on the next start, in a fresh
 * snapshot, while the slot still holds every change since its creation: those changes follow the
 * re-read rows in the topic, so each key ends at its latest value and deleted rows end as
 * tombstones. The same holds for a table read while the stream runs (a new table, or one whose
 * definition changed): the stream's later records follow the rows read here.
 *
 * Every key the topic held before that the read did not write again gets a tombstone after the
 * rows: rows of an earlier table of the same name, or keys of the old primary key after the key
 * changed. So the topic read from offset zero is exactly the table, whatever it held before.
 */
import type pg from 'pg';
import { formatLsn, type Logger } from '../common/index.js';
import { decodeKey, liveKeys, snapshotDoneRecord, snapshotUndoneRecord, tableRef, type RowValues, type SnapshotDone, type TopicLog } from '../compaction/index.js';
import { tableColumns, type CatalogTable } from './catalog.js';
import type { ChangeMapper } from './changes.js';
import { qualified, quoteIdent, quoteLiteral } from './connect.js';
import type { Delivery } from './delivery.js';

export interface SnapshotOptions {
  client: pg.Client;
  log: TopicLog;
  tables: readonly CatalogTable[];
  /** The exported snapshot of a new slot; a fresh snapshot when absent. */
  snapshotName?: string;
  /** Called once the snapshot is imported (the exporting connection may close then). */
  afterImport?: () => Promise<void>;
  /** The slot position the rows correspond to. */
  position: bigint;
  mapper: ChangeMapper;
  delivery: Delivery;
  prefix: string;
  slot: string;
  logger: Logger;
  chunkRows?: number;
  signal?: AbortSignal;
}

/** Reads the tables; returns those read in full, by `tableRef`, with the definition they were read with. */
function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

export async function snapshotTables(o: SnapshotOptions): Promise<Map<string, SnapshotDone>> {
  const read = new Map<string, SnapshotDone>();
  const chunk = o.chunkRows ?? 5000;
  const source = { lsn: formatLsn(o.position), txid: null, commitTime: null, snapshot: true };
  await o.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    if (o.snapshotName) await o.client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(o.snapshotName)}`);
    await o.afterImport?.();
    for (const table of o.tables) {
      if (o.signal?.aborted) break;
      const started = Date.now();
      const defined = await o.mapper.defineFromCatalog(table);
      // Lost its key (or vanished) since it was listed: reported by the mapper, read once it has one.
      if (!defined) continue;
      const { schema, record } = defined;
      // A marker left from an earlier read goes first: if this read stops half-way, it is redone.
      await o.delivery.appendNow([...(record ? [record] : []), snapshotUndoneRecord(o.prefix, o.slot, table.schema, table.table)]);
      const stale = new Map((await liveKeys(o.log, schema.topic)).map((k) => [k.toString('hex'), k]));
      // Keys of another primary key go before the rows: a sink deletes such a tombstone by the
      // columns it names, which after the rows would also hit rows just written under the new key.
      const otherKeys = [...stale].filter(([, k]) => !sameColumns(Object.keys(decodeKey(k)), schema.key));
      for (const [hex] of otherKeys) stale.delete(hex);
      if (otherKeys.length > 0) await o.delivery.appendNow(otherKeys.map(([, key]) => ({ topic: schema.topic, key, value: null })));
      const columns = (await tableColumns(o.client, table.oid)).map((c) => c.name);
      await o.client.query(`DECLARE cdc_snapshot NO SCROLL CURSOR FOR SELECT ${columns.map(quoteIdent).join(', ')} FROM ONLY ${qualified(table.schema, table.table)}`);
      let rows = 0;
      let lastReport = started;
      for (;;) {
        if (o.signal?.aborted) break;
        const res = await o.client.query({ text: `FETCH ${chunk} FROM cdc_snapshot`, rowMode: 'array' });
        if (res.rows.length === 0) break;
        const records = (res.rows as (string | null)[][]).map((values) => {
          const row: RowValues = Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null]));
          return o.mapper.snapshotRow(schema, row, source);
        });
        for (const r of records) stale.delete(r.key.toString('hex'));
        await o.delivery.add(records);
        rows += records.length;
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          o.logger.info('snapshot progress', { table: `${table.schema}.${table.table}`, rows, rows_per_s: Math.round(rows / ((lastReport - started) / 1000)) });
        }
      }
      await o.client.query('CLOSE cdc_snapshot');
      if (o.signal?.aborted) break;
      const tombstones = [...stale.values()].map((key) => ({ topic: schema.topic, key, value: null }));
      await o.delivery.appendNow([...tombstones, snapshotDoneRecord(o.prefix, o.slot, table.schema, table.table, formatLsn(o.position), schema.id, table.oid)]);
      read.set(tableRef(table.schema, table.table), { schema: table.schema, table: table.table, schemaId: schema.id, oid: table.oid });
      const seconds = (Date.now() - started) / 1000;
      o.logger.info('snapshot done', { table: `${table.schema}.${table.table}`, rows, stale_keys: tombstones.length + otherKeys.length, seconds: Number(seconds.toFixed(2)), rows_per_s: seconds > 0 ? Math.round(rows / seconds) : rows });
    }
  } finally {
    await o.client.query('COMMIT').catch(() => undefined);
  }
  return read;
}
