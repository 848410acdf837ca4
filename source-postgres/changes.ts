/**
 * Turns PostgreSQL's row changes into log records: an insert or update becomes the full new row
 * keyed by its primary key, a delete a tombstone, an update that changes the key a tombstone for
 * the old key and a record for the new one. A table definition becomes a schema record the first
 * time it is seen, so a sink built from offset zero needs no connection to PostgreSQL.
 */
import type pg from 'pg';
import { CdcError } from '../common/index.js';
import {
  encodeChange,
  encodeKey,
  encodeSchema,
  encodeSchemaKey,
  schemaId,
  schemaTopic,
  tableTopic,
  type AppendRecord,
  type ChangeOp,
  type RowValues,
  type SchemaRecord,
  type SourcePosition,
} from '../compaction/index.js';
import { tableColumns, tableKey, type CatalogTable } from './catalog.js';
import { qualified, quoteIdent } from './connect.js';
import type { PgoutputMessage, Tuple } from './pgoutput.js';
import { TypeResolver } from './types.js';

type Relation = Extract<PgoutputMessage, { tag: 'relation' }>;

interface TableState {
  readonly oid: number;
  readonly schema: SchemaRecord;
  readonly columnNames: readonly string[];
}

export class ChangeMapper {
  private readonly types: TypeResolver;
  private readonly byOid = new Map<number, TableState>();
  private readonly emitted = new Set<string>();

  constructor(
    private readonly client: pg.Client,
    private readonly prefix: string,
  ) {
    this.types = new TypeResolver(client);
  }

  /** The schema ids written (or known to be in the log) so far. */
  emittedIds(): string[] {
    return [...this.emitted];
  }

  /** Marks schema ids already in the log, so they are not written again. */
  markEmitted(ids: Iterable<string>): void {
    for (const id of ids) this.emitted.add(id);
  }

  private async define(oid: number, schema: string, table: string, columns: { name: string; typeOid: number; typeMod: number }[]): Promise<{ state: TableState; record: AppendRecord | null }> {
    const key = await tableKey(this.client, oid);
    if (key.length === 0) {
      throw new CdcError('TABLE_KEYLESS', `table ${schema}.${table} has no primary key or replica-identity index`, {
        hint: `add one: ALTER TABLE ${qualified(schema, table)} ADD PRIMARY KEY (…), or ALTER TABLE … REPLICA IDENTITY USING INDEX <unique index>`,
      });
    }
    const defs = [];
    for (const c of columns) defs.push(await this.types.column(c.name, c.typeOid, c.typeMod));
    const base = { schema, table, topic: tableTopic(this.prefix, schema, table), columns: defs, key };
    const record: SchemaRecord = { ...base, id: schemaId(base) };
    const state: TableState = { oid, schema: record, columnNames: columns.map((c) => c.name) };
    this.byOid.set(oid, state);
    if (this.emitted.has(record.id)) return { state, record: null };
    this.emitted.add(record.id);
    return { state, record: { topic: schemaTopic(this.prefix), key: encodeSchemaKey(record), value: encodeSchema(record) } };
  }

  /** The definition of a table as the catalog has it now (for the snapshot). */
  async defineFromCatalog(table: CatalogTable): Promise<{ schema: SchemaRecord; record: AppendRecord | null }> {
    const { state, record } = await this.define(table.oid, table.schema, table.table, await tableColumns(this.client, table.oid));
    return { schema: state.schema, record };
  }

  /** Learns a table definition from a Relation message (sent before its first change and after DDL). */
  async relation(msg: Relation): Promise<AppendRecord | null> {
    this.types.clear();
    return (await this.define(msg.relationOid, msg.schema, msg.table, [...msg.columns])).record;
  }

  /** The record of a row read by the snapshot. */
  snapshotRow(schema: SchemaRecord, row: RowValues, source: SourcePosition): AppendRecord {
    return this.rowRecord(schema, 'r', row, source);
  }

  private rowRecord(schema: SchemaRecord, op: ChangeOp, row: RowValues, source: SourcePosition): AppendRecord {
    return { topic: schema.topic, key: encodeKey(schema.key, row), value: encodeChange({ op, schemaId: schema.id, after: row, source }) };
  }

  private tombstone(schema: SchemaRecord, row: RowValues): AppendRecord {
    return { topic: schema.topic, key: encodeKey(schema.key, row), value: null };
  }

  private state(oid: number): TableState {
    const s = this.byOid.get(oid);
    if (!s) throw new CdcError('RELATION_UNKNOWN', `a change for relation ${oid} arrived before its definition`);
    return s;
  }

  /** A tuple as a row; unchanged TOAST values are read back from the source (see docs/topics.md). */
  private async row(state: TableState, tuple: Tuple): Promise<RowValues> {
    const entries: [string, string | null][] = [];
    const unchanged: string[] = [];
    tuple.forEach((v, i) => {
      const name = state.columnNames[i] as string;
      if (v.kind === 'unchanged') unchanged.push(name);
      else entries.push([name, v.kind === 'text' ? v.text : null]);
    });
    const row = Object.fromEntries(entries) as Record<string, string | null>;
    if (unchanged.length > 0) Object.assign(row, await this.readColumns(state, row, unchanged));
    return row;
  }

  /**
   * The current values of columns that pgoutput left out because they are unchanged TOAST values.
   * The topic must hold the full row (compaction keeps only the latest record of a key), and the
   * value at the source now is the value at this change or a later one whose own record follows.
   */
  private async readColumns(state: TableState, row: RowValues, columns: string[]): Promise<RowValues> {
    const { schema } = state;
    const where = schema.key.map((k, i) => `${quoteIdent(k)} = $${i + 1}`).join(' AND ');
    const res = await this.client.query({
      text: `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${qualified(schema.schema, schema.table)} WHERE ${where}`,
      values: schema.key.map((k) => row[k]),
      rowMode: 'array',
    });
    const values = (res.rows[0] as (string | null)[] | undefined) ?? columns.map(() => null);
    return Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null]));
  }

  private keyRow(state: TableState, tuple: Tuple): RowValues {
    return Object.fromEntries(
      state.schema.key.map((k) => {
        const v = tuple[state.columnNames.indexOf(k)];
        return [k, v?.kind === 'text' ? v.text : null];
      }),
    );
  }

  async insert(msg: Extract<PgoutputMessage, { tag: 'insert' }>, source: SourcePosition): Promise<AppendRecord[]> {
    const state = this.state(msg.relationOid);
    return [this.rowRecord(state.schema, 'c', await this.row(state, msg.newTuple), source)];
  }

  async update(msg: Extract<PgoutputMessage, { tag: 'update' }>, source: SourcePosition): Promise<AppendRecord[]> {
    const state = this.state(msg.relationOid);
    const row = await this.row(state, msg.newTuple);
    const out: AppendRecord[] = [];
    const old = msg.keyTuple ?? msg.oldTuple;
    if (old) {
      const oldKey = this.keyRow(state, old);
      if (encodeKey(state.schema.key, oldKey).compare(encodeKey(state.schema.key, row)) !== 0) out.push(this.tombstone(state.schema, oldKey));
    }
    out.push(this.rowRecord(state.schema, 'u', row, source));
    return out;
  }

  delete(msg: Extract<PgoutputMessage, { tag: 'delete' }>): AppendRecord[] {
    const state = this.state(msg.relationOid);
    const old = msg.keyTuple ?? msg.oldTuple;
    if (!old) return [];
    return [this.tombstone(state.schema, this.keyRow(state, old))];
  }

  /** The qualified name of a relation, for messages. */
  nameOf(oid: number): string {
    const s = this.byOid.get(oid);
    return s ? `${s.schema.schema}.${s.schema.table}` : `relation ${oid}`;
  }
}
