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
    await setFiltered(client, name, tables, rules, (ts) => `ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${filteredTableList(ts, rules)}`);
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

/** Runs publication DDL with row filters; commits only if every filter keeps the replica-identity rule. */
async function setFiltered(client: pg.Client, name: string, tables: readonly CatalogTable[], rules: CaptureRules, ddl: (tables: readonly CatalogTable[]) => string): Promise<void> {
  await client.query('BEGIN');
  try {
    await runFilterDdl(client, ddl(tables));
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
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
