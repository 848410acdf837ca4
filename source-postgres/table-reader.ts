/**
 * Reads a source table in primary-key order, a chunk at a time, for `cdc verify`. One server-side
 * cursor in one REPEATABLE READ transaction: a consistent snapshot, one sort, and never more than
 * a chunk in this process's memory. Values arrive as PostgreSQL's text, with the same session
 * settings as the snapshot and the stream (connect.ts), so they map to replica values exactly.
 *
 * The order is the replica's order (SQLite compares INTEGER and REAL numerically, BLOB and TEXT
 * bytewise): key columns stored as TEXT in the replica are ordered by their text with
 * `COLLATE "C"` (bytewise, like SQLite), the others by their own value.
 */
import type pg from 'pg';
import { quoteIdent } from './connect.js';

/** A key column and whether the replica stores it as TEXT (then it is ordered as text). */
export interface KeyOrder {
  readonly column: string;
  readonly asText: boolean;
  /** A timestamptz, stored with `Z` for `+00`: ordered by that text, as SQLite orders it. */
  readonly utcZ?: boolean;
}

/** The text SQLite holds for a TEXT key, as an SQL expression over `text` (a text value). */
function replicaText(k: KeyOrder, text: string): string {
  return k.utcZ ? `regexp_replace(${text}, '\\+00( BC)?$', 'Z\\1')` : text;
}

function orderExpr(k: KeyOrder): string {
  return k.asText ? `(${replicaText(k, `${quoteIdent(k.column)}::text`)} COLLATE "C")` : quoteIdent(k.column);
}

function selectSql(schema: string, table: string, columns: readonly string[], key: readonly KeyOrder[], where: string): string {
  return `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(schema)}.${quoteIdent(table)}${where} ORDER BY ${key.map(orderExpr).join(', ')}`;
}

/**
 * Every row of `schema.table` (the given columns, as text), in replica key order, `chunkRows` at a
 * time; only rows where `filter` holds when one is given (the table's row filter).
 */
export async function* readTableChunks(
  client: pg.Client,
  schema: string,
  table: string,
  columns: readonly string[],
  key: readonly KeyOrder[],
  chunkRows: number,
  filter: string | null = null,
): AsyncGenerator<(string | null)[][]> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(`DECLARE cdc_verify NO SCROLL CURSOR FOR ${selectSql(schema, table, columns, key, filter ? ` WHERE (${filter})` : '')}`);
    for (;;) {
      const res = await client.query<(string | null)[]>({ text: `FETCH ${chunkRows} FROM cdc_verify`, rowMode: 'array' });
      if (res.rows.length === 0) break;
      yield res.rows;
      if (res.rows.length < chunkRows) break;
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/**
 * The rows of `schema.table` whose key lies after `after` (exclusive) and up to `upTo`
 * (inclusive), each bound absent for an open end; key values given as text. Within `filter` if given.
 */
export async function readKeyRange(
  client: pg.Client,
  schema: string,
  table: string,
  columns: readonly string[],
  key: readonly KeyOrder[],
  after: readonly (string | null)[] | undefined,
  upTo: readonly (string | null)[] | undefined,
  filter: string | null = null,
): Promise<(string | null)[][]> {
  const params: (string | null)[] = [];
  const row = `(${key.map(orderExpr).join(', ')})`;
  const bound = (values: readonly (string | null)[]): string => {
    const refs = key.map((k, i) => {
      params.push(values[i] ?? null);
      return k.asText ? `(${replicaText(k, `$${params.length}::text`)} COLLATE "C")` : `$${params.length}`;
    });
    return `(${refs.join(', ')})`;
  };
  const conditions: string[] = filter ? [`(${filter})`] : [];
  if (after) conditions.push(`${row} > ${bound(after)}`);
  if (upTo) conditions.push(`${row} <= ${bound(upTo)}`);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const res = await client.query<(string | null)[]>({ text: selectSql(schema, table, columns, key, where), values: params, rowMode: 'array' });
  return res.rows;
}
