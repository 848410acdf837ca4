/**
 * Reading tables. Each table is read in chunks by primary key (keyset pagination: `WHERE key >
 * last ORDER BY key LIMIT n`), so memory stays bounded whatever the table's size, and after every
 * chunk the key it ended at goes to `<prefix>._state` (appended after the chunk's rows): a read
 * interrupted by a crash resumes after the last chunk the log holds, not at zero.
 *
 * For a new slot every table is read in the snapshot the slot exported, so the rows are exactly
 * those the stream starts after. A resumed table, or one read while the stream runs (a new table,
 * or one whose definition changed), is read in a fresh snapshot while the slot still holds every
 * change since: those changes follow the rows in the topic, so each key ends at its latest value.
 *
 * Before the rows of a table whose topic already holds records (an earlier table of the same
 * name, a key that changed, a slot that was lost), every key the topic holds is looked up in the
 * same snapshot, a batch at a time; each key the table no longer has gets a tombstone (tombstones.ts).
 * So the topic read from offset zero is exactly the table, whatever it held before.
 */
import type pg from 'pg';
import { crashPoint, formatLsn, type Logger } from '../common/index.js';
import {
  snapshotDoneRecord,
  snapshotProgressRecord,
  snapshotUndoneRecord,
  tableRef,
  type RowValues,
  type SchemaRecord,
  type SnapshotDone,
  type SnapshotProgress,
  type TopicLog,
} from '../compaction/index.js';
import type { CatalogTable } from './catalog.js';
import type { ChangeMapper } from './changes.js';
import { quoteIdent, quoteLiteral, rowsOf } from './connect.js';
import type { Delivery } from './delivery.js';
import { tombstoneVanishedKeys } from './tombstones.js';

export interface SnapshotOptions {
  client: pg.Client;
  log: TopicLog;
  tables: readonly CatalogTable[];
  /** Reads interrupted earlier, by tableRef: resumed when the definition is still the same. */
  partial?: ReadonlyMap<string, SnapshotProgress>;
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
export async function snapshotTables(o: SnapshotOptions): Promise<Map<string, SnapshotDone>> {
  const read = new Map<string, SnapshotDone>();
  await o.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    if (o.snapshotName) await o.client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(o.snapshotName)}`);
    await o.afterImport?.();
    for (const table of o.tables) {
      if (o.signal?.aborted) break;
      const done = await snapshotTable(o, table);
      if (done) read.set(tableRef(table.schema, table.table), done);
    }
  } finally {
    await o.client.query('COMMIT').catch(() => undefined);
  }
  return read;
}

/** The estimated row count (planner statistics; no full scan). */
async function estimate(client: pg.Client, table: CatalogTable): Promise<number | null> {
  const res = await client.query<{ n: string }>('SELECT reltuples::bigint::text AS n FROM pg_class WHERE oid = $1', [table.oid]);
  const n = Number(res.rows[0]?.n ?? -1);
  return n >= 0 ? n : null;
}

async function snapshotTable(o: SnapshotOptions, table: CatalogTable): Promise<SnapshotDone | undefined> {
  const name = `${table.schema}.${table.table}`;
  const defined = await o.mapper.defineFromCatalog(table);
  // Lost its key (or vanished) since it was listed: reported by the mapper, read once it has one.
  if (!defined) return undefined;
  const { schema, record } = defined;
  // The publication's row filter applies to streamed changes only: the read applies it itself.
  const filter = o.mapper.rules.filter(table.schema, table.table);
  const earlier = o.partial?.get(tableRef(table.schema, table.table));
  const resume = earlier && earlier.schemaId === schema.id && earlier.oid === table.oid ? earlier : undefined;
  const lsn = resume?.lsn ?? formatLsn(o.position);
  const source = { lsn, txid: null, commitTime: null, snapshot: true };
  if (resume) {
    if (record) await o.delivery.appendNow([record]);
    o.logger.info('snapshot resumes', { table: name, after_rows: resume.rows });
  } else {
    // A marker left from an earlier read goes first: if this read stops half-way, it is redone.
    await o.delivery.appendNow([...(record ? [record] : []), snapshotUndoneRecord(o.prefix, o.slot, table.schema, table.table)]);
    await tombstoneVanishedKeys(o.client, o.log, schema, table.partitioned, o.delivery, o.logger, filter);
  }
  const chunk = o.chunkRows ?? 10_000;
  const select = keysetQuery(table, schema, chunk, filter);
  const total = await estimate(o.client, table);
  const started = Date.now();
  let lastReport = started;
  let rows = resume?.rows ?? 0;
  let after = resume?.after ?? null;
  const fromRows = rows;
  for (;;) {
    if (o.signal?.aborted) return undefined;
    const res = await o.client.query({ text: after ? select.next : select.first, values: after ? schema.key.map((k) => after?.[k] ?? null) : [], rowMode: 'array' });
    const batch = res.rows as (string | null)[][];
    if (batch.length === 0) break;
    await o.delivery.add(batch.map((values) => o.mapper.snapshotRow(schema, Object.fromEntries(select.columns.map((c, i) => [c, values[i] ?? null])), source)));
    crashPoint('snapshot-chunk');
    const last = batch[batch.length - 1] as (string | null)[];
    after = Object.fromEntries(schema.key.map((k) => [k, last[select.columns.indexOf(k)] ?? null])) as RowValues;
    rows += batch.length;
    await o.delivery.appendNow([snapshotProgressRecord(o.prefix, o.slot, table.schema, table.table, { after, rows, lsn, schemaId: schema.id, oid: table.oid })]);
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      const rate = (rows - fromRows) / ((lastReport - started) / 1000);
      const eta = total !== null && total > rows && rate > 0 ? Math.round((total - rows) / rate) : undefined;
      o.logger.info('snapshot progress', { table: name, rows, of_about: total ?? undefined, rows_per_s: Math.round(rate), eta_s: eta });
    }
    if (batch.length < chunk) break;
  }
  await o.delivery.appendNow([snapshotDoneRecord(o.prefix, o.slot, table.schema, table.table, lsn, schema.id, table.oid, table.partitions)]);
  const seconds = (Date.now() - started) / 1000;
  o.logger.info('snapshot done', { table: name, rows, seconds: Number(seconds.toFixed(2)), rows_per_s: seconds > 0 ? Math.round((rows - fromRows) / seconds) : rows - fromRows });
  return { schema: table.schema, table: table.table, schemaId: schema.id, oid: table.oid, partitions: table.partitions };
}

/** The chunk queries of a table: the first chunk, and the chunk after a key (row comparison on the key), within the row filter if any. */
function keysetQuery(table: CatalogTable, schema: SchemaRecord, chunk: number, filter: string | null): { first: string; next: string; columns: string[] } {
  const columns = schema.columns.map((c) => c.name);
  const types = new Map(schema.columns.map((c) => [c.name, c.type]));
  const key = schema.key.map(quoteIdent).join(', ');
  const params = schema.key.map((k, i) => `$${i + 1}::${types.get(k) ?? 'text'}`).join(', ');
  const base = `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${rowsOf(table.schema, table.table, table.partitioned)}`;
  return {
    first: `${base}${filter ? ` WHERE (${filter})` : ''} ORDER BY ${key} LIMIT ${chunk}`,
    next: `${base} WHERE ${filter ? `(${filter}) AND ` : ''}(${key}) > (${params}) ORDER BY ${key} LIMIT ${chunk}`,
    columns,
  };
}
