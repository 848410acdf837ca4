/**
 * Which tables are captured, and their keys. A table is captured when it has a primary key or a
 * replica-identity index: without one, PostgreSQL cannot say which row an UPDATE or DELETE hit,
 * and a compacted topic cannot be keyed. Keyless tables are reported by name, with the fix, and the
 * pipeline goes on without them.
 */
import type pg from 'pg';
import { ConfigError } from '../common/index.js';

export interface CatalogTable {
  readonly oid: number;
  readonly schema: string;
  readonly table: string;
  /** Key columns in key order; empty for a keyless table. */
  readonly key: readonly string[];
}

export interface TableSelection {
  readonly captured: CatalogTable[];
  readonly keyless: CatalogTable[];
}

/** The key columns of table `c` as a JSON array: the replica-identity index if one is set, else the primary key. */
const KEY_SQL = `(SELECT json_agg(a.attname ORDER BY k.ord)::text
     FROM pg_index i
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indrelid = c.oid
      AND ((c.relreplident = 'i' AND i.indisreplident) OR (c.relreplident <> 'i' AND i.indisprimary)))`;

const TABLES_SQL = `
SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS table, ${KEY_SQL} AS key
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY n.nspname, c.relname`;

/** Every user table of the database with its key. */
export async function listTables(client: pg.Client): Promise<CatalogTable[]> {
  const res = await client.query<{ oid: string; schema: string; table: string; key: string | null }>(TABLES_SQL);
  return res.rows.map((r) => ({ oid: Number(r.oid), schema: r.schema, table: r.table, key: r.key ? (JSON.parse(r.key) as string[]) : [] }));
}

/** Parses `--tables s.t,t2` into schema-qualified names (an unqualified name means public). */
export function parseTableList(spec: string): { schema: string; table: string }[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const dot = s.indexOf('.');
      return dot < 0 ? { schema: 'public', table: s } : { schema: s.slice(0, dot), table: s.slice(dot + 1) };
    });
}

/** Chooses the captured tables: all keyed tables, or exactly those named with --tables. */
export function selectTables(all: readonly CatalogTable[], wanted: { schema: string; table: string }[] | undefined): TableSelection {
  if (!wanted) {
    return { captured: all.filter((t) => t.key.length > 0), keyless: all.filter((t) => t.key.length === 0) };
  }
  const byName = new Map(all.map((t) => [`${t.schema}.${t.table}`, t]));
  const unknown = wanted.filter((w) => !byName.has(`${w.schema}.${w.table}`)).map((w) => `${w.schema}.${w.table}`);
  if (unknown.length > 0) {
    throw new ConfigError('TABLE_UNKNOWN', `--tables names ${unknown.length === 1 ? 'a table' : 'tables'} that the database does not have: ${unknown.join(', ')}`, {
      hint: 'check the names (schema.table; an unqualified name means public.name) against \\dt in psql',
    });
  }
  const chosen = wanted.map((w) => byName.get(`${w.schema}.${w.table}`) as CatalogTable);
  return { captured: chosen.filter((t) => t.key.length > 0), keyless: chosen.filter((t) => t.key.length === 0) };
}

export interface CatalogColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly typeMod: number;
}

/** The columns pgoutput publishes for a table, in its order: not dropped, not generated. */
export async function tableColumns(client: pg.Client, oid: number): Promise<CatalogColumn[]> {
  const res = await client.query<{ name: string; oid: string; mod: string }>(
    `SELECT attname AS name, atttypid::text AS oid, atttypmod::text AS mod FROM pg_attribute
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [oid],
  );
  return res.rows.map((r) => ({ name: r.name, typeOid: Number(r.oid), typeMod: Number(r.mod) }));
}

/** The key of one table by oid (after a Relation message, when DDL may have changed it). */
export async function tableKey(client: pg.Client, oid: number): Promise<string[]> {
  const res = await client.query<{ key: string | null }>(
    `SELECT ${KEY_SQL} AS key
     FROM pg_class c WHERE c.oid = $1`,
    [oid],
  );
  const key = res.rows[0]?.key;
  return key ? (JSON.parse(key) as string[]) : [];
}

/** The current name of table `oid`, or null when it no longer exists (dropped). */
export async function tableName(client: pg.Client, oid: number): Promise<{ schema: string; table: string } | null> {
  const res = await client.query<{ schema: string; table: string }>(
    'SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1',
    [oid],
  );
  return res.rows[0] ?? null;
}
