/**
 * The initial rows. Each table is read with a cursor, a chunk at a time (memory stays bounded
 * whatever the table's size), inside one REPEATABLE READ transaction: for a new slot, the snapshot
 * it exported, so the rows are exactly those the stream starts after.
 *
 * A table whose snapshot did not finish (a crash) is read again on the next start, in a fresh
 * snapshot, while the slot still holds every change since its creation: those changes follow the
 * re-read rows in the topic, so each key ends at its latest value and deleted rows end as
 * tombstones.
 */
import type pg from 'pg';
import { formatLsn, type Logger } from '../common/index.js';
import { snapshotDoneRecord, type RowValues } from '../compaction/index.js';
import { tableColumns, type CatalogTable } from './catalog.js';
import type { ChangeMapper } from './changes.js';
import { qualified, quoteIdent, quoteLiteral } from './connect.js';
import type { Delivery } from './delivery.js';

export interface SnapshotOptions {
  client: pg.Client;
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

export async function snapshotTables(o: SnapshotOptions): Promise<void> {
  const chunk = o.chunkRows ?? 5000;
  const source = { lsn: formatLsn(o.position), txid: null, commitTime: null, snapshot: true };
  await o.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    if (o.snapshotName) await o.client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(o.snapshotName)}`);
    await o.afterImport?.();
    for (const table of o.tables) {
      if (o.signal?.aborted) break;
      const started = Date.now();
      const { schema, record } = await o.mapper.defineFromCatalog(table);
      if (record) await o.delivery.appendNow([record]);
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
        await o.delivery.add(records);
        rows += records.length;
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          o.logger.info('snapshot progress', { table: `${table.schema}.${table.table}`, rows, rows_per_s: Math.round(rows / ((lastReport - started) / 1000)) });
        }
      }
      await o.client.query('CLOSE cdc_snapshot');
      if (o.signal?.aborted) break;
      await o.delivery.appendNow([snapshotDoneRecord(o.prefix, o.slot, table.schema, table.table, formatLsn(o.position))]);
      const seconds = (Date.now() - started) / 1000;
      o.logger.info('snapshot done', { table: `${table.schema}.${table.table}`, rows, seconds: Number(seconds.toFixed(2)), rows_per_s: seconds > 0 ? Math.round(rows / seconds) : rows });
    }
  } finally {
    await o.client.query('COMMIT').catch(() => undefined);
  }
}
