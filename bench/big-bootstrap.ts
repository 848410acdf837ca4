/**
 * `npm run bench -- --bootstrap-only N`: a bootstrap of N records (10M and more; not for CI) with
 * its rate and peak RSS, next to a raw upsert of the same N rows. The topic is written straight
 * into an embedded log in the format `cdc start` writes (schema topic, format record, one
 * transaction ending with its mark) — running N rows through PostgreSQL and `cdc start` would
 * take most of an hour and measure the source, which the full run measures already.
 */
import { join } from 'node:path';
import { silentLogger } from '../common/index.js';
import { openLog, parseLogLocation, encodeChange, encodeKey, encodeSchema, encodeSchemaKey, endMarkRecords, formatRecord, schemaId, schemaTopic, tableTopic, type AppendRecord, type TableSchema } from '../compaction/index.js';
import { benchBootstrap, rawUpsert, type BootstrapFigures } from './bootstrap.js';
import { rowValues } from './db.js';

/** The bench table (bench/db.ts) as `cdc start` describes it in the schema topic. */
function itemsSchema(prefix: string): TableSchema {
  return {
    schema: 'public',
    table: 'items',
    topic: tableTopic(prefix, 'public', 'items'),
    key: ['id'],
    columns: [
      { name: 'id', type: 'bigint', base: 'int8', elem: null },
      { name: 'name', type: 'text', base: 'text', elem: null },
      { name: 'price', type: 'numeric(12,2)', base: 'numeric', elem: null },
      { name: 'updated', type: 'timestamp with time zone', base: 'timestamptz', elem: null },
      { name: 'tags', type: 'text[]', base: '_text', elem: 'text' },
    ],
  };
}

/** Writes a topic of `rows` records of one transaction into the log at `location` (a directory or kafka://). */
export async function writeTopic(location: string, prefix: string, rows: number): Promise<void> {
  const log = openLog(parseLogLocation(location), silentLogger);
  await log.connect();
  const table = itemsSchema(prefix);
  const definition = { ...table, id: schemaId(table) };
  await log.ensureTopics([schemaTopic(prefix), table.topic]);
  await log.append([formatRecord(schemaTopic(prefix)), { topic: schemaTopic(prefix), key: encodeSchemaKey(definition), value: encodeSchema(definition) }]);
  const lsn = '0/16B3748';
  const source = { lsn, txid: '750', commitTime: '2026-01-01T00:00:00.000000Z', snapshot: false };
  let batch: AppendRecord[] = [];
  for (let id = 1; id <= rows; id++) {
    // The same values as the raw upsert's rows, as PostgreSQL prints them.
    const [, name, price, updated] = rowValues(id);
    const after = { id: String(id), name, price, updated: updated.replace(/Z$/, '+00'), tags: `{a,b${id}}` };
    batch.push({ topic: table.topic, key: encodeKey(table.key, after), value: encodeChange({ op: 'c', schemaId: definition.id, after, source }) });
    if (batch.length === 10_000) {
      await log.append(batch);
      batch = [];
    }
  }
  // The mark carries the end of the commit record, past the LSN its rows carry (as cdc start
  // writes it): a mark at the rows' own LSN is a transaction sent again, and the sink skipped the
  // records before it in the last batch read (~3,000 of every topic, found by issue 14's spike).
  await log.append([...batch, ...endMarkRecords({ lsn: '0/16B3780', txid: '750', topics: { [table.topic]: rows } })]);
  await log.close();
}

/**
 * The bootstrap of a `rows`-record topic, and the raw upsert of the same rows, in `dir`; the topic
 * in an embedded log there, or in Kafka at `kafka` (`host:port`; a topic prefix of its own per run).
 */
export async function benchBigBootstrap(dir: string, rows: number, progress: (line: string) => void, kafka?: string): Promise<BootstrapFigures & { sqlite_upsert_rows_per_s: number }> {
  const log = kafka ? `kafka://${kafka}` : join(dir, 'big-log');
  const prefix = kafka ? `big${Date.now()}` : 'big';
  progress(`writing ${rows} records into ${kafka ? 'Kafka' : 'an embedded log'}`);
  await writeTopic(log, prefix, rows);
  const upsert = rawUpsert(join(dir, 'raw-big.db'), rows);
  progress(`raw better-sqlite3 upsert, ${rows} rows: ${upsert} rows/s`);
  const figures = await benchBootstrap(log, prefix, rows, dir);
  progress(`bootstrap, ${rows} records: ${figures.bootstrap_rows_per_s} rows/s, peak RSS ${figures.peak_rss_mb} MB`);
  return { ...figures, sqlite_upsert_rows_per_s: upsert };
}
