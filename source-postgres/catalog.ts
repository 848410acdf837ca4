/**
 * Which tables are captured, and their keys. A table is captured when PostgreSQL can identify its
 * rows for UPDATE and DELETE in the WAL: a non-deferrable primary key or a replica-identity index,
 * and replica identity not NOTHING. Publishing any other table would make PostgreSQL reject the
 * application's own UPDATE and DELETE on it ("does not have a replica identity and publishes
 * updates"), and a compacted topic could not be keyed anyway. Unlogged and temporary tables write
 * nothing to the WAL, so nothing can stream them. Every table left out is reported by name, with
 * the reason and the fix, and the pipeline goes on without it.
 *
 * A partitioned table is captured as one table (the publication has publish_via_partition_root):
 * its partitions are not listed on their own.
 */
import type pg from 'pg';
import { ConfigError } from '../common/index.js';

export interface CatalogTable {
  readonly oid: number;
  readonly schema: string;
  readonly table: string;
  /** Key columns in key order; empty for a table that cannot be captured. */
  readonly key: readonly string[];
  /** Why the table cannot be captured (see {@link uncapturedReason}); null when it can. */
  readonly reason: string | null;
  /** A partitioned table: read without ONLY, its rows live in its partitions. */
  readonly partitioned: boolean;
  /**
   * The partitions a partitioned table has now ('' for any other table). ATTACH and DETACH change
   * its rows without a change record, so a change here makes the table be read again.
   */
  readonly partitions: string;
}

export interface TableSelection {
  readonly captured: CatalogTable[];
  readonly keyless: CatalogTable[];
}

/**
 * The key columns of table `c` as a JSON array: the replica-identity index if one is set, else the
 * primary key; null when PostgreSQL cannot identify the table's rows in the WAL (no such index,
 * a deferrable one, which PostgreSQL never uses as replica identity, identity NOTHING, or a table
 * that is not WAL-logged).
 */
const KEY_SQL = `(SELECT json_agg(a.attname ORDER BY k.ord)::text
     FROM pg_index i
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indrelid = c.oid AND i.indimmediate AND c.relreplident <> 'n' AND c.relpersistence = 'p'
      AND ((c.relreplident = 'i' AND i.indisreplident) OR (c.relreplident <> 'i' AND i.indisprimary)))`;

/** Why table `c` cannot be captured, as a code the report turns into words; null when it has a key. */
const REASON_SQL = `CASE
    WHEN c.relpersistence = 't' THEN 'temporary'
    WHEN c.relpersistence = 'u' THEN 'unlogged'
    WHEN c.relreplident = 'n' THEN 'identity-nothing'
    WHEN c.relreplident <> 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND NOT i.indimmediate) THEN 'deferrable'
    ELSE 'keyless' END`;

/** The partitions of a partitioned table, every level, as one comparable text. */
const PARTITIONS_SQL = `CASE WHEN c.relkind = 'p' THEN
    (SELECT coalesce(string_agg(p.relid::oid::text, ',' ORDER BY p.relid::oid), '') FROM pg_partition_tree(c.oid) p WHERE p.relid::oid <> c.oid)
    ELSE '' END`;

// Temporary tables live in pg_temp_N schemas: listed (to be reported), never captured.
const TABLES_SQL = `
SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS table, ${KEY_SQL} AS key, ${REASON_SQL} AS reason,
       c.relkind = 'p' AS partitioned, ${PARTITIONS_SQL} AS partitions
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (n.nspname NOT LIKE 'pg\\_%' OR c.relpersistence = 't')
ORDER BY n.nspname, c.relname`;

/** The reason codes of {@link REASON_SQL}. */
export type UncapturedReason = 'temporary' | 'unlogged' | 'identity-nothing' | 'deferrable' | 'keyless';

/** Why a table is not captured, in words, and the fix. */
export function uncapturedReason(reason: string | null): { why: string; fix: string } {
  switch (reason as UncapturedReason | null) {
    case 'temporary':
      return { why: 'it is a temporary table (PostgreSQL writes no change of it to the WAL)', fix: 'use an ordinary table if its rows must be replicated' };
    case 'unlogged':
      return { why: 'it is unlogged (PostgreSQL writes no change of it to the WAL)', fix: 'ALTER TABLE ... SET LOGGED if its rows must be replicated' };
    case 'identity-nothing':
      return {
        why: 'its replica identity is NOTHING (PostgreSQL would reject UPDATE and DELETE on it if it were published)',
        fix: 'ALTER TABLE ... REPLICA IDENTITY DEFAULT (uses the primary key) or REPLICA IDENTITY USING INDEX <unique index>',
      };
    case 'deferrable':
      return {
        why: 'its primary key is deferrable, and PostgreSQL does not use a deferrable key as replica identity (it would reject UPDATE and DELETE on it if it were published)',
        fix: 'make the key NOT DEFERRABLE, or ALTER TABLE ... REPLICA IDENTITY USING INDEX <unique, non-deferrable index>',
      };
    default:
      return {
        why: 'it has no primary key or replica-identity index',
        fix: 'ALTER TABLE ... ADD PRIMARY KEY (...); or ALTER TABLE ... REPLICA IDENTITY USING INDEX <unique index>',
      };
  }
}

/** Every user table of the database with its key (partitioned tables whole, partitions not listed). */
export async function listTables(client: pg.Client): Promise<CatalogTable[]> {
  const res = await client.query<{ oid: string; schema: string; table: string; key: string | null; reason: string; partitioned: boolean | string; partitions: string | null }>(TABLES_SQL);
  return res.rows.map((r) => {
    const key = r.key ? (JSON.parse(r.key) as string[]) : [];
    // No type parsers run (connect.ts): a boolean arrives as PostgreSQL's text 't' / 'f'.
    const partitioned = r.partitioned === true || r.partitioned === 't';
    return { oid: Number(r.oid), schema: r.schema, table: r.table, key, reason: key.length > 0 ? null : r.reason, partitioned, partitions: r.partitions ?? '' };
  });
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

/** A stored generated column: pgoutput before PostgreSQL 18 does not send its values. */
export interface GeneratedColumn extends CatalogColumn {
  /** Its expression as PostgreSQL prints it (pg_get_expr), over the table's other columns. */
  readonly expr: string;
}

/** Every column of a table by name with its position, and the stored generated ones. */
export async function generatedColumns(client: pg.Client, oid: number): Promise<{ order: Map<string, number>; generated: GeneratedColumn[] }> {
  const res = await client.query<{ name: string; num: string; oid: string; mod: string; expr: string | null }>(
    `SELECT a.attname AS name, a.attnum::text AS num, a.atttypid::text AS oid, a.atttypmod::text AS mod,
            CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END AS expr
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const order = new Map(res.rows.map((r) => [r.name, Number(r.num)]));
  const generated = res.rows.filter((r) => r.expr !== null).map((r) => ({ name: r.name, typeOid: Number(r.oid), typeMod: Number(r.mod), expr: r.expr as string }));
  return { order, generated };
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
export async function tableName(client: pg.Client, oid: number): Promise<{ schema: string; table: string; partitioned: boolean; partition: boolean } | null> {
  const res = await client.query<{ schema: string; table: string; kind: string; partition: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, c.relkind::text AS kind, c.relispartition::text AS partition
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
    [oid],
  );
  const r = res.rows[0];
  return r ? { schema: r.schema, table: r.table, partitioned: r.kind === 'p', partition: r.partition === 'true' } : null;
}
