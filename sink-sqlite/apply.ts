/**
 * Applies log records to the replica. One batch is one SQLite transaction holding both the rows
 * and the offsets they came from, so after a crash the replica and its offsets agree, and a record
 * applied again (the log may repeat records) leaves the replica unchanged: upserts and deletes by
 * key are idempotent.
 *
 * Table definitions come from the schema topic, which a sink reads ahead of the data (to its end
 * before a replay, and as it arrives while following). So a replica table always has the latest
 * definition, and a row record written under an older one is applied through it: columns the table
 * no longer has are left out, columns the record lacks keep what the row has. After any DDL the
 * source reads the table again (docs/topics.md), so every row ends written in the new definition.
 */
import type { Statement } from 'better-sqlite3';
import { CdcError, crashPoint, parseLsn } from '../common/index.js';
import { decodeChange, decodeKey, decodeSchema, decodeSchemaEvent, type ChangeValue, type ColumnDef, type LogBatch, type LogRecord, type SchemaRecord, type SourcePosition, type TableDrop } from '../compaction/index.js';
import { fastRow, sameSchemaId, schemaIdEnd, schemaIdOf, SourceReader, type FastRow } from './fast-row.js';
import { replicaTableName, sqlIdent, type ReplicaDb } from './replica.js';
import { rowParams, type RowParams } from './row-params.js';
import { dropReplicaTable, evolveTable } from './table-ddl.js';
import { UpsertRun } from './upsert-run.js';
import { columnValue, type SqliteValue } from './values.js';

/** A data record refers to a table definition the replica has not loaded yet. */
export class UnknownSchemaError extends CdcError {
  constructor(readonly schemaId: string, topic: string) {
    super('SCHEMA_UNKNOWN', `a record in ${topic} uses table definition ${schemaId}, which is not in the schema topic yet`, { retriable: true });
  }
}

interface TableStatements {
  /** Rows of this definition, written several to a statement; flushed before anything else touches the table. */
  readonly upsert: UpsertRun;
  /** The upsert's parameters from a record's row, mapped by the types it was written with. */
  readonly params: RowParams;
  /** The same parameters read from a record's bytes, when it is in encodeChange's exact form. */
  readonly fast: FastRow;
  /** How many parameters the upsert binds. */
  readonly width: number;
}

/** A tombstone's delete, with the table's definition of each key column it binds. */
interface DeleteStatement {
  readonly statement: Statement;
  readonly columns: readonly ColumnDef[];
}

/** The end mark after a unit's records in one topic (compaction/tx-marks.ts). */
export interface UnitEnd {
  /** The end of the unit's commit record in the WAL (a transaction), or the position a unit outside one was written at. */
  readonly endLsn: bigint;
  /** A source transaction (the mark names its txid), not a snapshot chunk or tombstones of a dropped table. */
  readonly transaction: boolean;
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
  private readonly deletes = new Map<string, DeleteStatement>();
  private readonly saveOffset: Statement;
  /**
   * Topic → the newest source position the replica table reflects. A change committed before it
   * is one `cdc start` streams again after a restart (it resumes at the last position PostgreSQL
   * holds as confirmed): applied again it would take the row back in time until the newer record
   * that is already in the topic after it arrives, so it is skipped. Rows read by a snapshot set
   * it (they are the table at that position, and a new slot may start anywhere).
   */
  private readonly position = new Map<string, bigint>();
  /**
   * Topics whose last unit or row read was one sent again (older than `position`). A tombstone
   * carries no position of its own; one read before its unit's end mark (a unit larger than what
   * the sink holds back, or a bootstrap catching up) is taken as part of that run of old units, and
   * skipped with them.
   */
  private readonly resent = new Set<string>();
  /** Records applied since the applier was made. */
  applied = 0;
  /** The topics' format (compaction/tx-marks.ts): 2 once the schema topic announced end marks, else 1. */
  logFormat: number;

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
    const format = db.prepare("SELECT value FROM _cdc_meta WHERE key = 'log_format'").get() as { value: string } | undefined;
    this.logFormat = format ? Number(format.value) : 1;
    for (const row of db.prepare('SELECT topic, lsn FROM _cdc_offsets WHERE lsn IS NOT NULL').all() as { topic: string; lsn: string }[]) {
      const at = lsnOf(row.lsn);
      if (at !== null) this.position.set(row.topic, at);
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

  /** Whether the replica has a table for `topic`. */
  followed(topic: string): boolean {
    return this.tables.has(topic);
  }

  /** Applies a batch of the schema topic: new definitions, new or widened tables. */
  applySchemas(batch: LogBatch): ApplyResult {
    const newTopics: string[] = [];
    const insert = this.db.prepare('INSERT OR IGNORE INTO _cdc_schemas (id, topic, definition) VALUES (?, ?, ?)');
    const setTable = this.db.prepare('INSERT INTO _cdc_tables (topic, replica_table, schema_id) VALUES (?, ?, ?) ON CONFLICT (topic) DO UPDATE SET schema_id = excluded.schema_id');
    const unsetTable = this.db.prepare('DELETE FROM _cdc_tables WHERE topic = ?');
    const setFormat = this.db.prepare("INSERT OR REPLACE INTO _cdc_meta (key, value) VALUES ('log_format', ?)");
    this.db.transaction(() => {
      for (const r of batch.records) {
        if (r.value === null) continue;
        const event = decodeSchemaEvent(r.value);
        if (event.kind === 'format') {
          setFormat.run(String(event.version));
          this.logFormat = event.version;
          continue;
        }
        if (event.kind === 'drop') {
          this.dropTable(event.drop);
          unsetTable.run(event.drop.topic);
          continue;
        }
        const s = event.record;
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

  private forgetStatements(): void {
    this.upserts.clear();
    this.deletes.clear();
  }

  /** The source dropped the table (or renamed it away): so does the replica. */
  private dropTable(d: TableDrop): void {
    const current = this.tables.get(d.topic);
    if (!current) return;
    dropReplicaTable(this.db, current);
    this.tables.delete(d.topic);
    this.forgetStatements();
  }

  /** Makes the replica table match definition `s` (create, or follow the change from `current`). */
  private defineTable(s: SchemaRecord, current: SchemaRecord | undefined): void {
    this.forgetStatements();
    evolveTable(this.db, s, current);
  }

  /** The upsert of a record written under definition `s` into a table that has definition `table`. */
  private upsertFor(s: SchemaRecord, table: SchemaRecord): TableStatements {
    const id = `${s.id}/${table.id}`;
    let st = this.upserts.get(id);
    if (!st) {
      const name = sqlIdent(replicaTableName(table.schema, table.table));
      const has = new Set(table.columns.map((c) => c.name));
      const order = s.columns.map((c) => c.name).filter((c) => has.has(c));
      const keys = new Set(table.key);
      const sets = order.filter((c) => !keys.has(c)).map((c) => `${sqlIdent(c)} = excluded.${sqlIdent(c)}`);
      const conflict = sets.length > 0 ? `DO UPDATE SET ${sets.join(', ')}` : 'DO NOTHING';
      const into = `INSERT INTO ${name} (${order.map(sqlIdent).join(', ')}) VALUES`;
      const onConflict = `ON CONFLICT (${table.key.map(sqlIdent).join(', ')}) ${conflict}`;
      const upsert = new UpsertRun(this.db, (values) => `${into} ${values} ${onConflict}`, order.length);
      upsert.prepare();
      st = {
        upsert,
        // Each text is read by the type it was written with; the table's affinity does the rest.
        params: rowParams(order.map((c) => column(s, c))),
        fast: fastRow(s.columns, order),
        width: order.length,
      };
      this.upserts.set(id, st);
    }
    return st;
  }

  /**
   * The statement whose fast path reads records of definition `id` into `table`, or undefined when
   * the definition is unknown (decodeChange's path then decides between a malformed record and
   * UnknownSchemaError, as before) or its upsert cannot be prepared (the write phase throws that,
   * where it always did).
   */
  private fastStatement(id: string, table: SchemaRecord): TableStatements | undefined {
    const s = this.schemas.get(id);
    if (s === undefined) return undefined;
    try {
      return this.upsertFor(s, table);
    } catch {
      return undefined;
    }
  }

  /** The delete of a tombstone whose key has `columns` (the table's key, or an earlier one). */
  private deleteFor(table: SchemaRecord, columns: readonly string[]): DeleteStatement | null {
    const id = `${table.id}/${JSON.stringify(columns)}`;
    let st = this.deletes.get(id);
    if (!st) {
      if (columns.length === 0 || columns.some((k) => !table.columns.some((c) => c.name === k))) return null;
      const name = sqlIdent(replicaTableName(table.schema, table.table));
      st = {
        statement: this.db.prepare(`DELETE FROM ${name} WHERE ${columns.map((k) => `${sqlIdent(k)} IS ?`).join(' AND ')}`),
        columns: columns.map((k) => column(table, k)),
      };
      this.deletes.set(id, st);
    }
    return st;
  }

  /**
   * Applies a batch of a table topic, with its offset. `unit`: the end mark that follows these
   * records when they are one unit's records in this topic (whole-transactions.ts), absent for
   * records whose unit's mark is not read yet.
   */
  applyData(batch: LogBatch, unit?: UnitEnd): void {
    const table = this.tables.get(batch.topic);
    if (!table) {
      // The table was dropped at the source (a drop record came first). Its last records, the
      // tombstones of its rows, have nothing left to change. A row, though, belongs to a table of
      // that name made again, whose definition is in the schema topic but not read yet (another
      // topic, read at its own pace): skipping it would lose it for good, so the sink reads the
      // definitions again and comes back to it. Rows of the old table read then are harmless:
      // their tombstones follow them.
      const row = batch.records.find((r) => r.value !== null);
      if (row?.value) throw new UnknownSchemaError(decodeChange(row.value).schemaId, batch.topic);
      this.saveOffset.run(batch.topic, batch.nextOffset, null, null, new Date().toISOString());
      return;
    }
    let position = this.position.get(batch.topic);
    if (unit?.transaction && position !== undefined && unit.endLsn <= position) {
      // A source transaction sent again after a `cdc start` restart, which the replica already
      // reflects: its commit record ends at or before the commit of the newest change applied.
      // (A transaction's own rows carry its commit record's LSN, always below that record's end:
      // the rest of a transaction applied in part is never taken for one sent again.)
      // All of it is skipped — a delete in it too, which could otherwise undo a later insert of
      // the same key whose second copy is skipped as older (or show the row gone for a moment).
      this.resent.add(batch.topic);
      this.saveOffset.run(batch.topic, batch.nextOffset, null, null, new Date().toISOString());
      this.applied += batch.records.length;
      return;
    }
    if (unit) this.resent.delete(batch.topic);
    // Decode first: an unknown definition (or a malformed record) must surface before anything is
    // written. A record in encodeChange's form is read from its bytes into its parameters
    // (fast-row.ts); any other, and one the fast path declines, is decoded as it always was, and
    // mapped in the write phase, where a mapper's error was always thrown.
    const records = batch.records;
    const rows: (SqliteValue[] | ChangeValue | null)[] = new Array<SqliteValue[] | ChangeValue | null>(records.length);
    const ids: string[] = new Array<string>(records.length);
    const sources: SourcePosition[] = new Array<SourcePosition>(records.length);
    const sourceReader = new SourceReader();
    let known: string | undefined;
    // The last schema id read from bytes, and its statement (undefined: unknown, or no fast path).
    let idOf: Buffer | undefined;
    let idEndOf = -1;
    let fastId = '';
    let fastSt: TableStatements | undefined;
    for (let i = 0; i < records.length; i++) {
      const value = (records[i] as LogRecord).value;
      if (value === null) {
        rows[i] = null;
        continue;
      }
      const idEnd = schemaIdEnd(value);
      if (idEnd >= 0) {
        if (idOf === undefined || !sameSchemaId(value, idEnd, idOf, idEndOf)) {
          fastId = schemaIdOf(value, idEnd);
          fastSt = this.fastStatement(fastId, table);
          idOf = value;
          idEndOf = idEnd;
        }
        if (fastSt !== undefined) {
          const params = new Array<SqliteValue>(fastSt.width);
          const sourceAt = fastSt.fast(value, idEnd, params);
          const source = sourceAt < 0 ? null : sourceReader.read(value, sourceAt);
          if (source !== null) {
            rows[i] = params;
            ids[i] = fastId;
            sources[i] = source;
            continue;
          }
        }
      }
      const change = decodeChange(value);
      if (change.schemaId !== known) {
        if (!this.schemas.has(change.schemaId)) throw new UnknownSchemaError(change.schemaId, batch.topic);
        known = change.schemaId;
      }
      rows[i] = change;
      ids[i] = change.schemaId;
      sources[i] = change.source;
    }
    let lsn: string | null = null;
    let commitTime: string | null = null;
    let resent = unit === undefined && this.resent.has(batch.topic);
    // A transaction's records share one LSN: its text is parsed when it changes, not per record.
    let lsnText: string | undefined;
    let at: bigint | null = null;
    // And one definition, mostly: the statement is looked up when it changes.
    let statementOf: string | undefined;
    let st: TableStatements | undefined;
    this.db.transaction(() => {
      try {
        for (let i = 0; i < records.length; i++) {
          const row = rows[i] as SqliteValue[] | ChangeValue | null;
          if (row === null) {
            if (resent) continue;
            st?.upsert.flush();
            const key = decodeKey((records[i] as LogRecord).key);
            const names = Object.keys(key);
            const del = this.deleteFor(table, names);
            del?.statement.run(names.map((k, n) => keyValue(del.columns[n] as ColumnDef, key[k] ?? null)));
            continue;
          }
          const source = sources[i] as SourcePosition;
          if (source.lsn !== lsnText) {
            lsnText = source.lsn;
            at = lsnOf(lsnText);
          }
          if (at !== null && source.snapshot) position = at;
          else if (at !== null) {
            if (position !== undefined && at < position) {
              resent = true;
              continue;
            }
            position = at;
          }
          resent = false;
          const id = ids[i] as string;
          if (id !== statementOf || st === undefined) {
            st?.upsert.flush();
            st = this.upsertFor(this.schemas.get(id) as SchemaRecord, table);
            statementOf = id;
          }
          st.upsert.add(Array.isArray(row) ? row : st.params(row.after));
          lsn = source.lsn;
          commitTime = source.commitTime ?? commitTime;
        }
        st?.upsert.flush();
      } catch (e) {
        // The rows still queued are the failed transaction's: they must not reach the next one.
        st?.upsert.clear();
        throw e;
      }
      crashPoint('sink-mid-transaction');
      this.saveOffset.run(batch.topic, batch.nextOffset, lsn, commitTime, new Date().toISOString());
    })();
    if (position !== undefined) this.position.set(batch.topic, position);
    if (unit === undefined && resent) this.resent.add(batch.topic);
    else if (unit === undefined) this.resent.delete(batch.topic);
    this.applied += batch.records.length;
  }
}

/** A record's source position, or null when it is not an LSN. */
function lsnOf(text: string | null | undefined): bigint | null {
  if (!text) return null;
  try {
    return parseLsn(text);
  } catch {
    return null;
  }
}

/** A key value of a tombstone, read by the table's type; as text if written under another type. */
function keyValue(c: ColumnDef, text: string | null): SqliteValue {
  try {
    return columnValue(c, text);
  } catch {
    return text;
  }
}

function column(s: SchemaRecord, name: string): ColumnDef {
  const c = s.columns.find((x) => x.name === name);
  if (!c) throw new CdcError('SCHEMA_INVALID', `key column ${name} is not a column of ${s.schema}.${s.table}`);
  return c;
}
