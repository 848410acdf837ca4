/**
 * The publication lists the captured tables by name, never FOR ALL TABLES: a FOR ALL TABLES
 * publication makes PostgreSQL reject UPDATE and DELETE on every keyless table of the application.
 * It publishes through the partition root: a partitioned table's changes arrive as changes of the
 * partitioned table, whichever partition holds the row (partitions attached later included).
 *
 * With row filters (or when the publication still has some, to remove them) the table list is set
 * whole with each table's filter, in a transaction that commits only when every filter keeps
 * PostgreSQL's replica-identity rule (row-filter.ts).
 */
import type pg from 'pg';
import { CdcError, messageOf } from '../common/index.js';
import type { CatalogTable } from './catalog.js';
import { CaptureRules } from './capture-rules.js';
import { qualified, quoteIdent } from './connect.js';
import { checkFilterColumns, filteredTableList, filterRefused, filtersUnsupported, rowFiltersSupported, runFilterDdl } from './row-filter.js';

const OPTIONS = "WITH (publish = 'insert, update, delete, truncate', publish_via_partition_root = true)";

/** Whether the publication is to be set with row filters: some are wanted, or it has some to remove. */
async function withFilters(client: pg.Client, name: string, rules: CaptureRules): Promise<boolean> {
  const supported = await rowFiltersSupported(client);
  if (rules.filtering) {
    if (!supported) throw filtersUnsupported(rules);
    return true;
  }
  if (!supported) return false;
  const res = await client.query<{ has: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = $1 AND pr.prqual IS NOT NULL) AS has',
    [name],
  );
  return res.rows[0]?.has === true;
}

/** Creates the publication, or brings an existing one to exactly `tables`, each with its row filter. */
export async function ensurePublication(client: pg.Client, name: string, tables: readonly CatalogTable[], rules: CaptureRules = CaptureRules.none()): Promise<void> {
  const filtered = await withFilters(client, name, rules);
  const list = tables.map((t) => qualified(t.schema, t.table)).join(', ');
  const found = await client.query<{ all: string; viaroot: string }>('SELECT puballtables::text AS all, pubviaroot::text AS viaroot FROM pg_publication WHERE pubname = $1', [name]);
  const existing = found.rows[0];
  if (!existing && filtered) {
    await setFiltered(client, name, tables, rules, (ts) => `CREATE PUBLICATION ${quoteIdent(name)}${ts.length > 0 ? ` FOR TABLE ${filteredTableList(ts, rules)}` : ''} ${OPTIONS}`);
    return;
  }
  if (!existing) {
    await client.query(`CREATE PUBLICATION ${quoteIdent(name)}${list ? ` FOR TABLE ${list}` : ''} ${OPTIONS}`);
    return;
  }
  if (existing.all === 'true') {
    throw new CdcError('PUBLICATION_ALL_TABLES', `publication ${name} is FOR ALL TABLES; cdc needs one that lists its tables`, {
      exitCode: 2,
      hint: `drop it (DROP PUBLICATION "${name}") or pass another --publication name; FOR ALL TABLES makes PostgreSQL reject UPDATE/DELETE on keyless tables`,
    });
  }
  // A publication made by an earlier version or by hand: without this a partitioned table
  // publishes nothing of its own. Only then, since it takes the publication's owner.
  if (existing.viaroot !== 'true' && tables.some((t) => t.partitioned)) {
    await client.query(`ALTER PUBLICATION ${quoteIdent(name)} SET (publish_via_partition_root = true)`).catch((e: unknown) => {
      throw new CdcError('PUBLICATION_NOT_VIA_ROOT', `publication ${name} does not publish through partition roots, which the partitioned tables among the captured ones need, and cdc cannot change it: ${messageOf(e)}`, {
        hint: `as the publication's owner run ALTER PUBLICATION "${name}" SET (publish_via_partition_root = true), then start again`,
        exitCode: 2,
        cause: e,
      });
    });
  }
  if (filtered && tables.length > 0) {
    await setFilteredTables(client, name, tables, rules);
    return;
  }
  const current = await client.query<{ schemaname: string; tablename: string }>('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [name]);
  const have = new Set(current.rows.map((r) => `${r.schemaname}.${r.tablename}`));
  const want = new Set(tables.map((t) => `${t.schema}.${t.table}`));
  const missing = tables.filter((t) => !have.has(`${t.schema}.${t.table}`)).map((t) => qualified(t.schema, t.table));
  const extra = current.rows.filter((r) => !want.has(`${r.schemaname}.${r.tablename}`)).map((r) => qualified(r.schemaname, r.tablename));
  if (missing.length > 0) await client.query(`ALTER PUBLICATION ${quoteIdent(name)} ADD TABLE ${missing.join(', ')}`);
  if (extra.length > 0) await client.query(`ALTER PUBLICATION ${quoteIdent(name)} DROP TABLE ${extra.join(', ')}`);
}

/** Per connection and publication: the table list last set with filters, and the catalog's rows right after. */
const applied = new WeakMap<pg.Client, Map<string, { wanted: string; rows: string }>>();

/** The publication's tables and their filters, as the catalog has them (PostgreSQL 15). */
async function publishedRows(client: pg.Client, name: string): Promise<{ schemaname: string; tablename: string; rowfilter: string | null }[]> {
  const res = await client.query<{ schemaname: string; tablename: string; rowfilter: string | null }>(
    'SELECT schemaname, tablename, rowfilter FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2',
    [name],
  );
  return res.rows;
}

/**
 * Sets the table list with filters, unless it is as this connection last set it (every poll
 * would otherwise run DDL). A role that does not own the publication cannot set it: a
 * publication its owner made with the same tables, each filtered exactly where --row-filter
 * filters, is used as it is (its filters checked like cdc's own); any other is refused with the
 * statement its owner should run.
 */
async function setFilteredTables(client: pg.Client, name: string, tables: readonly CatalogTable[], rules: CaptureRules): Promise<void> {
  const wanted = filteredTableList(tables, rules);
  const memo = applied.get(client) ?? new Map<string, { wanted: string; rows: string }>();
  applied.set(client, memo);
  const before = await publishedRows(client, name);
  if (memo.get(name)?.wanted === wanted && memo.get(name)?.rows === JSON.stringify(before)) return;
  const ddl = `ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${wanted}`;
  try {
    await setFiltered(client, name, tables, rules, (ts) => `ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${filteredTableList(ts, rules)}`);
  } catch (e) {
    if (!(e instanceof NotOwner)) throw e;
    const same =
      before.length === tables.length &&
      tables.every((t) => before.some((r) => r.schemaname === t.schema && r.tablename === t.table && (r.rowfilter !== null) === (rules.filter(t.schema, t.table) !== null)));
    if (!same) {
      throw new CdcError('ROW_FILTER_REJECTED', `publication ${name} is not this role's to change, and its tables or row filters are not those of --tables / --row-filter`, {
        exitCode: 2,
        hint: `as the publication's owner run: ${ddl}`,
        cause: e.cause,
      });
    }
    await checkFilterColumns(client, name, tables, rules);
  }
  memo.set(name, { wanted, rows: JSON.stringify(await publishedRows(client, name)) });
}

/** The role may not change the publication (SQLSTATE 42501: it is not the owner). */
class NotOwner extends Error {}

function sqlState(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

/** Runs publication DDL with row filters; commits only if every filter keeps the replica-identity rule. */
async function setFiltered(client: pg.Client, name: string, tables: readonly CatalogTable[], rules: CaptureRules, ddl: (tables: readonly CatalogTable[]) => string): Promise<void> {
  await client.query('BEGIN');
  try {
    await runFilterDdl(client, ddl(tables));
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (sqlState(e) === '42501') throw new NotOwner(messageOf(e), { cause: e });
    throw await filterRefused(client, ddl, tables, rules, e);
  }
  try {
    await checkFilterColumns(client, name, tables, rules);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
