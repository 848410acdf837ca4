/**
 * Row filters on the publication (PostgreSQL 15: `FOR TABLE t WHERE (…)`). PostgreSQL checks an
 * expression's form when the publication is changed (simple expressions of the table's own
 * columns, immutable built-in functions), but its other rule only when the application runs an
 * UPDATE or DELETE: a filter of a table that publishes them may use only replica-identity columns,
 * or PostgreSQL rejects the statement. `cdc` must never make the application's statements fail, so
 * the publication is changed in a transaction, the columns each stored filter uses are read back
 * from the catalog, and the transaction commits only when all of them are in the replica identity
 * (the key, or every column under REPLICA IDENTITY FULL).
 *
 * With the rule kept, PostgreSQL turns an UPDATE that moves a row out of the filter into a DELETE
 * (a tombstone in the topic) and one that moves it in into an INSERT.
 */
import type pg from 'pg';
import { CdcError, messageOf } from '../common/index.js';
import type { CatalogTable } from './catalog.js';
import type { CaptureRules } from './capture-rules.js';
import { qualified } from './connect.js';

/** The FOR TABLE list, each table with its row filter. */
export function filteredTableList(tables: readonly CatalogTable[], rules: CaptureRules): string {
  return tables
    .map((t) => {
      const where = rules.filter(t.schema, t.table);
      return `${qualified(t.schema, t.table)}${where ? ` WHERE (${where})` : ''}`;
    })
    .join(', ');
}

/**
 * Runs publication DDL that carries row filters as one statement of the extended protocol, which
 * refuses a second statement: a filter's text can only ever be part of this one.
 */
export async function runFilterDdl(client: pg.Client, text: string): Promise<void> {
  // `queryMode` is read by pg but missing from its type declarations.
  const query = { text, queryMode: 'extended' };
  await client.query(query);
}

/** Whether the server has row filters (PostgreSQL 15 or later). */
export async function rowFiltersSupported(client: pg.Client): Promise<boolean> {
  const res = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Number(res.rows[0]?.v ?? 0) >= 150000;
}

/** Refuses filters on a server without them, naming the tables. */
export function filtersUnsupported(rules: CaptureRules): CdcError {
  return new CdcError('ROW_FILTER_UNSUPPORTED', `row filters need PostgreSQL 15 or later (--row-filter names ${rules.named().filter((t) => rules.filter(t.schema, t.table)).map((t) => `${t.schema}.${t.table}`).join(', ')})`, {
    exitCode: 2,
    hint: 'upgrade PostgreSQL to 15 or later, or drop --row-filter',
  });
}

/**
 * Wraps PostgreSQL's refusal of a filter, naming the table: found by running the same DDL (`ddl`
 * of a table list) for each filtered table alone, each time rolled back.
 */
export async function filterRefused(client: pg.Client, ddl: (tables: readonly CatalogTable[]) => string, tables: readonly CatalogTable[], rules: CaptureRules, e: unknown): Promise<CdcError> {
  for (const t of tables) {
    const where = rules.filter(t.schema, t.table);
    if (!where) continue;
    await client.query('BEGIN');
    try {
      await runFilterDdl(client, ddl([t]));
    } catch (one) {
      return rejected(t, where, messageOf(one), one);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
    }
  }
  return new CdcError('ROW_FILTER_REJECTED', `PostgreSQL refused the row filters: ${messageOf(e)}`, { exitCode: 2, hint: 'check each --row-filter against the table it names', cause: e });
}

function rejected(t: { schema: string; table: string }, where: string, why: string, cause?: unknown): CdcError {
  return new CdcError('ROW_FILTER_REJECTED', `row filter of ${t.schema}.${t.table} (${where}) is refused: ${why}`, {
    exitCode: 2,
    hint: 'a row filter is one boolean expression over the table\'s own columns, using only built-in immutable functions, no subqueries; fix or drop this --row-filter',
    cause,
  });
}

/**
 * Inside the transaction that changed the publication: every stored filter uses only columns of
 * its table's replica identity, or the error that names the table, the columns and the fix.
 */
export async function checkFilterColumns(client: pg.Client, publication: string, tables: readonly CatalogTable[], rules: CaptureRules): Promise<void> {
  const res = await client.query<{ oid: string; ident: string; qual: string }>(
    `SELECT c.oid::text AS oid, c.relreplident::text AS ident, pr.prqual::text AS qual
       FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid JOIN pg_class c ON c.oid = pr.prrelid
      WHERE p.pubname = $1 AND pr.prqual IS NOT NULL`,
    [publication],
  );
  for (const row of res.rows) {
    const table = tables.find((t) => String(t.oid) === row.oid);
    if (!table || row.ident === 'f') continue;
    // The stored filter is a node tree; each column it reads is a VAR node with its attribute number.
    const attnums = [...new Set([...row.qual.matchAll(/\{VAR :varno \d+ :varattno (\d+)/g)].map((m) => Number(m[1])))];
    if (attnums.length === 0) continue;
    const names = await client.query<{ attname: string }>('SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum = ANY($2::int2[]) ORDER BY attnum', [row.oid, attnums]);
    const outside = names.rows.map((r) => r.attname).filter((c) => !table.key.includes(c));
    if (outside.length === 0) continue;
    const name = qualified(table.schema, table.table);
    throw new CdcError(
      'ROW_FILTER_REJECTED',
      `row filter of ${table.schema}.${table.table} (${rules.filter(table.schema, table.table) ?? 'set outside cdc'}) uses ${outside.join(', ')}, which ${outside.length === 1 ? 'is' : 'are'} not in its replica identity (${table.key.join(', ')}): PostgreSQL would then reject every UPDATE and DELETE on the table`,
      {
        exitCode: 2,
        hint: `filter on the key columns only, or run ALTER TABLE ${name} REPLICA IDENTITY FULL (the WAL then carries whole old rows, so a row leaving the filter can be seen)`,
      },
    );
  }
}
