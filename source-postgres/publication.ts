/**
 * The publication lists the captured tables by name, never FOR ALL TABLES: a FOR ALL TABLES
 * publication makes PostgreSQL reject UPDATE and DELETE on every keyless table of the application.
 * It publishes through the partition root: a partitioned table's changes arrive as changes of the
 * partitioned table, whichever partition holds the row (partitions attached later included).
 */
import type pg from 'pg';
import { CdcError, messageOf } from '../common/index.js';
import type { CatalogTable } from './catalog.js';
import { qualified, quoteIdent } from './connect.js';

/** Creates the publication, or brings an existing one to exactly `tables`. */
export async function ensurePublication(client: pg.Client, name: string, tables: readonly CatalogTable[]): Promise<void> {
  const list = tables.map((t) => qualified(t.schema, t.table)).join(', ');
  const found = await client.query<{ all: string; viaroot: string }>('SELECT puballtables::text AS all, pubviaroot::text AS viaroot FROM pg_publication WHERE pubname = $1', [name]);
  const existing = found.rows[0];
  if (!existing) {
    await client.query(`CREATE PUBLICATION ${quoteIdent(name)}${list ? ` FOR TABLE ${list}` : ''} WITH (publish = 'insert, update, delete, truncate', publish_via_partition_root = true)`);
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
  const current = await client.query<{ schemaname: string; tablename: string }>('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [name]);
  const have = new Set(current.rows.map((r) => `${r.schemaname}.${r.tablename}`));
  const want = new Set(tables.map((t) => `${t.schema}.${t.table}`));
  const missing = tables.filter((t) => !have.has(`${t.schema}.${t.table}`)).map((t) => qualified(t.schema, t.table));
  const extra = current.rows.filter((r) => !want.has(`${r.schemaname}.${r.tablename}`)).map((r) => qualified(r.schemaname, r.tablename));
  if (missing.length > 0) await client.query(`ALTER PUBLICATION ${quoteIdent(name)} ADD TABLE ${missing.join(', ')}`);
  if (extra.length > 0) await client.query(`ALTER PUBLICATION ${quoteIdent(name)} DROP TABLE ${extra.join(', ')}`);
}
