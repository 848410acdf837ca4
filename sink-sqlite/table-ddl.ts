/**
 * The replica's tables follow the source's definitions (schema evolution): a table is created at
 * its first definition, columns added and dropped in place, and a table whose column types or key
 * changed is copied into a new one, as SQLite cannot change those in place. The Applier decides
 * when; this file only knows how.
 */
import type { SchemaRecord } from '../compaction/index.js';
import { replicaTableName, sqlIdent, type ReplicaDb } from './replica.js';
import { sqliteType } from './values.js';

/** Makes the replica table match definition `s` (create, or follow the change from `current`). */
export function evolveTable(db: ReplicaDb, s: SchemaRecord, current: SchemaRecord | undefined): void {
  const name = sqlIdent(replicaTableName(s.schema, s.table));
  const create = (table: string): void => {
    const cols = s.columns.map((c) => `${sqlIdent(c.name)} ${sqliteType(c)}`);
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (${cols.join(', ')}, PRIMARY KEY (${s.key.map(sqlIdent).join(', ')}))`);
  };
  if (!current) {
    create(name);
    return;
  }
  const before = new Map(current.columns.map((c) => [c.name, c]));
  const retyped = s.columns.some((c) => {
    const old = before.get(c.name);
    return old !== undefined && sqliteType(old) !== sqliteType(c);
  });
  const rekeyed = JSON.stringify(s.key) !== JSON.stringify(current.key);
  if (retyped || rekeyed) {
    // SQLite cannot change a column's type or a primary key in place: a new table takes the
    // values of the columns both definitions have (converted by the new affinity) until the
    // source's re-read of the table writes every row in the new definition.
    const common = s.columns.filter((c) => before.has(c.name)).map((c) => sqlIdent(c.name));
    const temp = sqlIdent('_cdc_rebuild');
    db.exec(`DROP TABLE IF EXISTS ${temp}`);
    create(temp);
    if (common.length > 0) db.exec(`INSERT OR REPLACE INTO ${temp} (${common.join(', ')}) SELECT ${common.join(', ')} FROM ${name}`);
    db.exec(`DROP TABLE ${name}`);
    db.exec(`ALTER TABLE ${temp} RENAME TO ${name}`);
    return;
  }
  const after = new Set(s.columns.map((c) => c.name));
  for (const c of current.columns) {
    if (!after.has(c.name)) db.exec(`ALTER TABLE ${name} DROP COLUMN ${sqlIdent(c.name)}`);
  }
  for (const c of s.columns) {
    if (!before.has(c.name)) db.exec(`ALTER TABLE ${name} ADD COLUMN ${sqlIdent(c.name)} ${sqliteType(c)}`);
  }
}

/** The source dropped the table (or renamed it away): so does the replica. */
export function dropReplicaTable(db: ReplicaDb, table: SchemaRecord): void {
  db.exec(`DROP TABLE IF EXISTS ${sqlIdent(replicaTableName(table.schema, table.table))}`);
}
