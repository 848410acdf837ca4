/**
 * The initial rows. Each table is read in chunks by primary key (keyset pagination: `WHERE key >
 * last ORDER BY key LIMIT n`), so memory stays bounded whatever the table's size and a crash
 * resumes after the last chunk the log holds, not at zero. After every chunk the key it ended at
 * goes to `<prefix>._state`, appended after the chunk's rows.
 *
 * For a new slot all chunks are read in the snapshot the slot exported, so the rows are exactly
 * those the stream starts after. A resumed (or later-added) table is read in a fresh snapshot while
 * the slot still holds every change since its starting point: those changes follow the rows in the
 * topic, so each key ends at its latest value and deleted rows end as tombstones.
 */
import type pg from 'pg';
import { crashPoint, formatLsn, type Logger } from '../common/index.js';
import { snapshotProgressRecord, type RowValues, type SchemaRecord, type SnapshotProgress, type TopicLog } from '../compaction/index.js';
import type { CatalogTable } from './catalog.js';
import type { ChangeMapper } from './changes.js';
import { qualified, quoteIdent, quoteLiteral } from './connect.js';
import type { Delivery } from './delivery.js';
import { tombstoneVanishedKeys } from './tombstones.js';

export interface SnapshotOptions {
  client: pg.Client;
  tables: readonly CatalogTable[];
  /** Progress of earlier runs, by `schema.table`. */
  progress?: ReadonlyMap<string, SnapshotProgress>;
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
  /** For a new slot: the log, whose keys that the source no longer has get tombstones first. */
  reconcileWith?: TopicLog;
}

export async function snapshotTables(o: SnapshotOptions): Promise<void> {
  await o.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    if (o.snapshotName) await o.client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(o.snapshotName)}`);
    await o.afterImport?.();
    for (const table of o.tables) {
      if (o.signal?.aborted) break;
      await snapshotTable(o, table, o.progress?.get(`${table.schema}.${table.table}`));
    }
  } finally {
    await o.client.query('COMMIT').catch(() => undefined);
  }
}

/** The estimated row count (planner statistics; no full scan). */
async function estimate(client: pg.Client, table: CatalogTable): Promise<number | null> {
  const res = await client.query<{ n: string }>('SELECT reltuples::bigint::text AS n FROM pg_class WHERE oid = $1', [table.oid]);
  const n = Number(res.rows[0]?.n ?? -1);
  return n >= 0 ? n : null;
}

async function snapshotTable(o: SnapshotOptions, table: CatalogTable, resume: SnapshotProgress | undefined): Promise<void> {
  const name = `${table.schema}.${table.table}`;
  const chunk = o.chunkRows ?? 10_000;
  const lsn = resume?.lsn ?? formatLsn(o.position);
  const source = { lsn, txid: null, commitTime: null, snapshot: true };
  const { schema, record } = await o.mapper.defineFromCatalog(table);
  if (record) await o.delivery.appendNow([record]);
  if (o.reconcileWith && !resume) await tombstoneVanishedKeys(o.client, o.reconcileWith, schema, o.delivery, o.logger);
  const select = keysetQuery(table, schema, chunk);
  const total = await estimate(o.client, table);
  const started = Date.now();
  let lastReport = started;
  let rows = resume?.rows ?? 0;
  let after = resume?.after ?? null;
  const fromRows = rows;
  if (resume) o.logger.info('snapshot resumes', { table: name, after_rows: rows });
  for (;;) {
    if (o.signal?.aborted) return;
    const res = await o.client.query({ text: after ? select.next : select.first, values: after ? schema.key.map((k) => after?.[k]) : [], rowMode: 'array' });
    const batch = res.rows as (string | null)[][];
    if (batch.length === 0) break;
    const records = batch.map((values) => o.mapper.snapshotRow(schema, Object.fromEntries(select.columns.map((c, i) => [c, values[i] ?? null])), source));
    await o.delivery.add(records);
    crashPoint('snapshot-chunk');
    const last = batch[batch.length - 1] as (string | null)[];
    after = Object.fromEntries(schema.key.map((k) => [k, last[select.columns.indexOf(k)] ?? null])) as RowValues;
    rows += batch.length;
    await o.delivery.appendNow([snapshotProgressRecord(o.prefix, o.slot, table.schema, table.table, { done: false, after, rows, lsn })]);
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      const rate = (rows - fromRows) / ((lastReport - started) / 1000);
      const eta = total !== null && total > rows && rate > 0 ? Math.round((total - rows) / rate) : undefined;
      o.logger.info('snapshot progress', { table: name, rows, of_about: total ?? undefined, rows_per_s: Math.round(rate), eta_s: eta });
    }
    if (batch.length < chunk) break;
  }
  await o.delivery.appendNow([snapshotProgressRecord(o.prefix, o.slot, table.schema, table.table, { done: true, after, rows, lsn })]);
  const seconds = (Date.now() - started) / 1000;
  o.logger.info('snapshot done', { table: name, rows, seconds: Number(seconds.toFixed(2)), rows_per_s: seconds > 0 ? Math.round((rows - fromRows) / seconds) : rows - fromRows });
}

/** The chunk queries of a table: the first chunk, and the chunk after a key (row comparison on the key). */
function keysetQuery(table: CatalogTable, schema: SchemaRecord, chunk: number): { first: string; next: string; columns: string[] } {
  const columns = schema.columns.map((c) => c.name);
  const types = new Map(schema.columns.map((c) => [c.name, c.type]));
  const key = schema.key.map(quoteIdent).join(', ');
  const params = schema.key.map((k, i) => `$${i + 1}::${types.get(k) ?? 'text'}`).join(', ');
  const base = `SELECT ${columns.map(quoteIdent).join(', ')} FROM ONLY ${qualified(table.schema, table.table)}`;
  return {
    first: `${base} ORDER BY ${key} LIMIT ${chunk}`,
    next: `${base} WHERE (${key}) > (${params}) ORDER BY ${key} LIMIT ${chunk}`,
    columns,
  };
}
