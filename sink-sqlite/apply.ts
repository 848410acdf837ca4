/**
 * Applies log records to the replica. One batch is one SQLite transaction holding both the rows
 * and the offsets they came from, so after a crash the replica and its offsets agree, and a record
 * applied again (the log may repeat records) leaves the replica unchanged: upserts and deletes by
 * key are idempotent.
 */
import type { Statement } from 'better-sqlite3';
import { CdcError, crashPoint } from '../common/index.js';
import { decodeChange, decodeKey, decodeSchema, type LogBatch, type SchemaRecord } from '../compaction/index.js';
import { replicaTableName, sqlIdent, type ReplicaDb } from './replica.js';
import { columnValue, sqliteType } from './values.js';

/** A data record refers to a table definition the replica has not loaded yet. */
export class UnknownSchemaError extends CdcError {
  constructor(readonly schemaId: string, topic: string) {
    super('SCHEMA_UNKNOWN', `a record in ${topic} uses table definition ${schemaId}, which is not in the schema topic yet`, { retriable: true });
  }
}

interface TableStatements {
  readonly upsert: Statement;
  readonly order: readonly string[];
}

export interface ApplyResult {
  /** Topics of tables the replica did not have before this batch. */
  readonly newTopics: string[];
}

export class Applier {
  private readonly schemas = new Map<string, SchemaRecord>();
  /** topic → the definition the replica table currently has. */
  private readonly tables = new Map<string, SchemaRecord>();
  private readonly upserts = new Map<string, TableStatements>();
  private readonly deletes = new Map<string, Statement>();
  private readonly saveOffset: Statement;
  /** Records applied since the applier was made. */
  applied = 0;

  constructor(private readonly db: ReplicaDb) {
    for (const row of db.prepare('SELECT definition FROM _cdc_schemas').all() as { definition: string }[]) {
      const s = decodeSchema(Buffer.from(row.definition));
      this.schemas.set(s.id, s);
    }
    for (const row of db.prepare('SELECT topic, schema_id FROM _cdc_tables').all() as { topic: string; schema_id: string }[]) {
      const s = this.schemas.get(row.schema_id);
      if (!s) throw new CdcError('REPLICA_CORRUPT', `_cdc_tables names definition ${row.schema_id}, which _cdc_schemas lacks`, { hint: 'run cdc rebuild to replace this replica' });
      this.tables.set(row.topic, s);
    }
    this.saveOffset = db.prepare(
      `INSERT INTO _cdc_offsets (topic, next_offset, lsn, commit_time, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (topic) DO UPDATE SET next_offset = excluded.next_offset, lsn = coalesce(excluded.lsn, lsn),
         commit_time = coalesce(excluded.commit_time, commit_time), updated_at = excluded.updated_at`,
    );
  }

  /** Topic → next offset to read, as committed in the replica. */
  offsets(): Map<string, bigint> {
    const rows = this.db.prepare('SELECT topic, next_offset FROM _cdc_offsets').all() as { topic: string; next_offset: bigint }[];
    return new Map(rows.map((r) => [r.topic, BigInt(r.next_offset)]));
  }

  /** The data topics the replica has tables for. */
  topics(): string[] {
    return [...this.tables.keys()];
  }

  /** Applies a batch of the schema topic: new definitions, new or widened tables. */
  applySchemas(batch: LogBatch): ApplyResult {
    const newTopics: string[] = [];
    const insert = this.db.prepare('INSERT OR IGNORE INTO _cdc_schemas (id, topic, definition) VALUES (?, ?, ?)');
    const setTable = this.db.prepare('INSERT INTO _cdc_tables (topic, replica_table, schema_id) VALUES (?, ?, ?) ON CONFLICT (topic) DO UPDATE SET schema_id = excluded.schema_id');
    this.db.transaction(() => {
      for (const r of batch.records) {
        if (r.value === null) continue;
        const s = decodeSchema(r.value);
        insert.run(s.id, s.topic, r.value.toString('utf8'));
        this.schemas.set(s.id, s);
        const current = this.tables.get(s.topic);
        if (current?.id === s.id) continue;
        if (!current) newTopics.push(s.topic);
        this.defineTable(s, current);
        setTable.run(s.topic, replicaTableName(s.schema, s.table), s.id);
        this.tables.set(s.topic, s);
      }
      this.saveOffset.run(batch.topic, batch.nextOffset, null, null, new Date().toISOString());
    })();
    return { newTopics };
  }

  private defineTable(s: SchemaRecord, current: SchemaRecord | undefined): void {
    const name = sqlIdent(replicaTableName(s.schema, s.table));
    if (!current) {
      const cols = s.columns.map((c) => `${sqlIdent(c.name)} ${sqliteType(c)}`);
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${name} (${cols.join(', ')}, PRIMARY KEY (${s.key.map(sqlIdent).join(', ')}))`);
      return;
    }
    // A later definition of a known table: add the columns it gained. Other changes are handled
    // by the schema-change support (docs/replica.md); until then a dropped column keeps its values.
    const have = new Set(current.columns.map((c) => c.name));
    for (const c of s.columns) {
      if (!have.has(c.name)) this.db.exec(`ALTER TABLE ${name} ADD COLUMN ${sqlIdent(c.name)} ${sqliteType(c)}`);
    }
    this.upserts.clear();
    this.deletes.clear();
  }

  private upsertFor(s: SchemaRecord): TableStatements {
    let st = this.upserts.get(s.id);
    if (!st) {
      const table = sqlIdent(replicaTableName(s.schema, s.table));
      const order = s.columns.map((c) => c.name);
      const keys = new Set(s.key);
      const sets = order.filter((c) => !keys.has(c)).map((c) => `${sqlIdent(c)} = excluded.${sqlIdent(c)}`);
      const conflict = sets.length > 0 ? `DO UPDATE SET ${sets.join(', ')}` : 'DO NOTHING';
      st = {
        upsert: this.db.prepare(`INSERT INTO ${table} (${order.map(sqlIdent).join(', ')}) VALUES (${order.map(() => '?').join(', ')}) ON CONFLICT (${s.key.map(sqlIdent).join(', ')}) ${conflict}`),
        order,
      };
      this.upserts.set(s.id, st);
    }
    return st;
  }

  private deleteFor(s: SchemaRecord): Statement {
    let st = this.deletes.get(s.topic);
    if (!st) {
      const table = sqlIdent(replicaTableName(s.schema, s.table));
      st = this.db.prepare(`DELETE FROM ${table} WHERE ${s.key.map((k) => `${sqlIdent(k)} = ?`).join(' AND ')}`);
      this.deletes.set(s.topic, st);
    }
    return st;
  }

  /** Applies a batch of a table topic, with its offset, in one transaction. */
  applyData(batch: LogBatch): void {
    const table = this.tables.get(batch.topic);
    if (!table) throw new CdcError('TOPIC_UNKNOWN', `records arrived for ${batch.topic}, which no table definition names`);
    // Decode first: an unknown definition must surface before anything is written.
    const changes = batch.records.map((r) => ({ r, change: r.value === null ? null : decodeChange(r.value) }));
    for (const { change } of changes) {
      if (change && !this.schemas.has(change.schemaId)) throw new UnknownSchemaError(change.schemaId, batch.topic);
    }
    let lsn: string | null = null;
    let commitTime: string | null = null;
    this.db.transaction(() => {
      for (const { r, change } of changes) {
        if (change === null) {
          const key = decodeKey(r.key);
          this.deleteFor(table).run(...table.key.map((k) => columnValue(column(table, k), key[k] ?? null)));
        } else {
          const s = this.schemas.get(change.schemaId) as SchemaRecord;
          const st = this.upsertFor(s);
          st.upsert.run(...s.columns.map((c) => columnValue(c, change.after[c.name] ?? null)));
          lsn = change.source.lsn;
          commitTime = change.source.commitTime ?? commitTime;
        }
      }
      crashPoint('sink-mid-transaction');
      this.saveOffset.run(batch.topic, batch.nextOffset, lsn, commitTime, new Date().toISOString());
    })();
    this.applied += batch.records.length;
  }
}

function column(s: SchemaRecord, name: string) {
  const c = s.columns.find((x) => x.name === name);
  if (!c) throw new CdcError('SCHEMA_INVALID', `key column ${name} is not a column of ${s.schema}.${s.table}`);
  return c;
}
