/**
 * Turns PostgreSQL's row changes into log records: an insert or update becomes the full new row
 * keyed by its primary key, a delete a tombstone, an update that changes the key a tombstone for
 * the old key and a record for the new one. A table definition becomes a schema record the first
 * time it is seen, so a sink built from offset zero needs no connection to PostgreSQL.
 *
 * A relation's topic follows its name in the catalog now, not the name a Relation message carried
 * (the stream lags: its changes must never land in a topic already dropped). A relation without a
 * key, or no longer in the catalog, has its changes left out, reported once, instead of stopping
 * the stream.
 */
import type pg from 'pg';
import { CdcError, errorCode } from '../common/index.js';
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
import { CaptureRules } from './capture-rules.js';
import { generatedColumns, tableColumns, tableKey, tableName, type CatalogColumn, type CatalogTable } from './catalog.js';
import { quoteIdent, rowsOf } from './connect.js';
import type { PgoutputMessage, Tuple } from './pgoutput.js';
import { RowEncoder } from './row-encoder.js';
import { TypeResolver } from './types.js';

type Relation = Extract<PgoutputMessage, { tag: 'relation' }>;
/** A message that changes a row. */
export type RowChange = Extract<PgoutputMessage, { tag: 'insert' | 'update' | 'delete' }>;

interface TableState {
  readonly oid: number;
  readonly schema: SchemaRecord;
  /** The columns pgoutput sends, in tuple order. */
  readonly columns: readonly CatalogColumn[];
  /** The stored generated columns (in the schema, never in a tuple), and how to compute them. */
  readonly generated: { readonly names: readonly string[]; readonly sql: string; readonly inputs: readonly string[] } | null;
  /** Keys and values of this definition's rows, written straight from tuples (row-encoder.ts). */
  readonly encoder: RowEncoder;
}

/** Why the changes of a relation are left out of the log. */
export type SkipReason = 'keyless' | 'gone' | 'partition';

/** Maps pgoutput messages and snapshot rows of the captured tables to log records. */
export class ChangeMapper {
  private readonly types: TypeResolver;
  private readonly byOid = new Map<number, TableState>();
  /** Relations whose changes are left out (no key, or no longer in the catalog), until redefined. */
  private readonly skipped = new Set<number>();
  /** Relations whose name must be looked up again before their next change (their topic was dropped). */
  private readonly stale = new Set<number>();
  /** Relations that are partitioned tables (their rows are read without ONLY). */
  private readonly partitioned = new Set<number>();
  /** Topic → the id of the definition written to the log last for it. */
  private readonly latest = new Map<string, string>();

  constructor(
    private readonly client: pg.Client,
    private readonly prefix: string,
    /** Told once each time a relation starts being skipped. */
    private readonly onSkip: (reason: SkipReason, oid: number, name: { schema: string; table: string } | null) => void = () => undefined,
    /** Columns excluded and masked, rows filtered: applied to every definition and row written. */
    readonly rules: CaptureRules = CaptureRules.none(),
  ) {
    this.types = new TypeResolver(client);
  }

  /** The definition a table would have with these columns, under its current catalog name and key. */
  private async schemaOf(oid: number, sent: readonly CatalogColumn[]): Promise<{ schema: SchemaRecord; generated: TableState['generated'] } | SkipReason> {
    // The catalog's current name, not the one a Relation message carried: a message may predate a
    // rename, and its changes must go to the topic the table has now, never to one already dropped.
    const name = await tableName(this.client, oid);
    if (!name) return 'gone';
    // PostgreSQL before 16 sends a partition's Relation message beside its root's, although the
    // changes name the root (publish_via_partition_root): the partition is no table of the log.
    if (name.partition) return 'partition';
    if (name.partitioned) this.partitioned.add(oid);
    else this.partitioned.delete(oid);
    const key = await tableKey(this.client, oid);
    if (key.length === 0 || key.some((k) => !sent.some((c) => c.name === k))) return 'keyless';
    // Stored generated columns join the definition in table order: the replica has them too, with
    // values computed from each row (see computeGenerated). Columns the catalog no longer has
    // (the stream lags DDL) keep their place at the end.
    const { order, generated } = await generatedColumns(this.client, oid);
    const at = (c: CatalogColumn): number => order.get(c.name) ?? Number.MAX_SAFE_INTEGER;
    const columns = [...sent, ...generated.filter((g) => !sent.some((c) => c.name === g.name))].map((c, i) => ({ c, i })).sort((a, b) => at(a.c) - at(b.c) || a.i - b.i).map(({ c }) => c);
    const defs = [];
    for (const c of columns) defs.push(await this.types.column(c.name, c.typeOid, c.typeMod));
    this.rules.checkKey(name.schema, name.table, key);
    // Excluded columns leave the definition here, so no schema record, snapshot query or row has them.
    const base = { schema: name.schema, table: name.table, topic: tableTopic(this.prefix, name.schema, name.table), columns: this.rules.columns(name.schema, name.table, defs), key };
    const schema = { ...base, id: this.rules.definitionId(name.schema, name.table, schemaId(base)) };
    const computed = generated.filter((g) => !sent.some((c) => c.name === g.name));
    if (computed.length === 0) return { schema, generated: null };
    const typeOf = new Map(defs.map((d) => [d.name, d.type]));
    const inputs = sent.map((c) => c.name);
    // The expression runs over one row made of the change's own values, cast to their column types;
    // a generated expression may use only immutable functions of its row, so this is its stored value.
    const row = inputs.map((n, i) => `$${i + 1}::${typeOf.get(n) ?? 'text'} AS ${quoteIdent(n)}`).join(', ');
    const sql = `SELECT ${computed.map((g) => `(${g.expr})::${typeOf.get(g.name) ?? 'text'}`).join(', ')} FROM (SELECT ${row}) AS cdc_row`;
    return { schema, generated: { names: computed.map((g) => g.name), sql, inputs } };
  }

  private async define(oid: number, columns: readonly CatalogColumn[]): Promise<{ state: TableState | null; record: AppendRecord | null }> {
    const defined = await this.schemaOf(oid, columns);
    this.stale.delete(oid);
    if (typeof defined === 'string') {
      this.byOid.delete(oid);
      if (!this.skipped.has(oid)) {
        this.skipped.add(oid);
        this.onSkip(defined, oid, await tableName(this.client, oid));
      }
      return { state: null, record: null };
    }
    this.skipped.delete(oid);
    const { schema, generated } = defined;
    const rules = this.rules.columnTransforms(schema.schema, schema.table, columns.map((c) => c.name));
    const encoder = new RowEncoder({ id: schema.id, key: schema.key, columns, rules, computed: generated !== null });
    const state: TableState = { oid, schema, columns, generated, encoder };
    this.byOid.set(oid, state);
    // Written again whenever it is not the topic's latest definition in the log: a sink takes the
    // last definition of a topic as its table's (ADD COLUMN, UPDATE, DROP COLUMN between two polls
    // would otherwise end on the definition with the column).
    if (this.latest.get(schema.topic) === schema.id) return { state, record: null };
    this.latest.set(schema.topic, schema.id);
    return { state, record: { topic: schemaTopic(this.prefix), key: encodeSchemaKey(schema), value: encodeSchema(schema) } };
  }

  /** The definition of a table as the catalog has it now, without writing anything (to detect DDL). */
  async catalogSchema(table: CatalogTable): Promise<SchemaRecord | null> {
    const defined = await this.schemaOf(table.oid, await tableColumns(this.client, table.oid));
    return typeof defined === 'string' ? null : defined.schema;
  }

  /** The definition of a table as the catalog has it now (for the snapshot); null if it cannot be captured. */
  async defineFromCatalog(table: CatalogTable): Promise<{ schema: SchemaRecord; record: AppendRecord | null } | null> {
    const { state, record } = await this.define(table.oid, await tableColumns(this.client, table.oid));
    return state ? { schema: state.schema, record } : null;
  }

  /** Learns a table definition from a Relation message (sent before its first change and after DDL). */
  async relation(msg: Relation): Promise<AppendRecord | null> {
    this.types.clear();
    return (await this.define(msg.relationOid, msg.columns)).record;
  }

  /**
   * Forgets a dropped topic: its definitions are written again if a table of that name comes back,
   * and changes still in the stream for relations that wrote to it are sent to the topic their
   * table has now (a rename), or left out (a drop).
   */
  forgetTopic(topic: string): void {
    this.latest.delete(topic);
    for (const [oid, s] of this.byOid) if (s.schema.topic === topic) this.stale.add(oid);
  }

  /** The topic a relation's changes go to now, or null when they are left out. */
  async topicOf(oid: number): Promise<string | null> {
    return (await this.state(oid))?.schema.topic ?? null;
  }

  /** The record of a row read by the snapshot. */
  snapshotRow(schema: SchemaRecord, row: RowValues, source: SourcePosition): AppendRecord {
    return this.rowRecord(schema, 'r', row, source);
  }

  private rowRecord(schema: SchemaRecord, op: ChangeOp, row: RowValues, source: SourcePosition): AppendRecord {
    const after = this.rules.row(schema.schema, schema.table, row);
    return { topic: schema.topic, key: encodeKey(schema.key, row), value: encodeChange({ op, schemaId: schema.id, after, source }) };
  }

  private tombstone(schema: SchemaRecord, row: RowValues): AppendRecord {
    return { topic: schema.topic, key: encodeKey(schema.key, row), value: null };
  }

  /** The state of a relation, or null when its changes are left out. */
  private async state(oid: number): Promise<TableState | null> {
    if (this.skipped.has(oid)) return null;
    const s = this.byOid.get(oid);
    if (!s) throw new CdcError('RELATION_UNKNOWN', `a change for relation ${oid} arrived before its definition`);
    if (!this.stale.has(oid)) return s;
    return (await this.define(oid, s.columns)).state;
  }

  /** A tuple as a row; unchanged TOAST values are read back from the source (see docs/topics.md). */
  private async row(state: TableState, tuple: Tuple): Promise<RowValues> {
    const entries: [string, string | null][] = [];
    const unchanged: string[] = [];
    tuple.forEach((v, i) => {
      const name = state.columns[i]?.name as string;
      if (v.kind === 'unchanged') unchanged.push(name);
      else entries.push([name, v.kind === 'text' ? v.text : null]);
    });
    const row = Object.fromEntries(entries) as Record<string, string | null>;
    if (unchanged.length > 0) Object.assign(row, await this.readColumns(state, row, unchanged));
    if (state.generated) Object.assign(row, await this.computeGenerated(state.generated, row));
    return row;
  }

  /**
   * The values of stored generated columns, which pgoutput before PostgreSQL 18 leaves out: the
   * column's expression evaluated over the row's other values by PostgreSQL itself, so they are
   * exactly the values it stored. One query per change of such a table.
   */
  private async computeGenerated(g: NonNullable<TableState['generated']>, row: RowValues): Promise<RowValues> {
    const res = await this.client.query({ text: g.sql, values: g.inputs.map((n) => row[n] ?? null), rowMode: 'array' });
    const values = (res.rows[0] as (string | null)[] | undefined) ?? [];
    return Object.fromEntries(g.names.map((n, i) => [n, values[i] ?? null]));
  }

  /**
   * The current values of columns that pgoutput left out because they are unchanged TOAST values.
   * The topic must hold the full row (compaction keeps only the latest record of a key), and the
   * value at the source now is the value at this change or a later one whose own record follows.
   * When the row or the column is gone by now (a later delete, DROP COLUMN, rename) the value is
   * null: the delete's tombstone, or the re-read of the table that follows any DDL, comes after.
   */
  private async readColumns(state: TableState, row: RowValues, columns: string[]): Promise<RowValues> {
    const { schema } = state;
    const where = schema.key.map((k, i) => `${quoteIdent(k)} = $${i + 1}`).join(' AND ');
    let values: (string | null)[] = columns.map(() => null);
    try {
      const res = await this.client.query({
        text: `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${rowsOf(schema.schema, schema.table, this.partitioned.has(state.oid))} WHERE ${where}`,
        values: schema.key.map((k) => row[k]),
        rowMode: 'array',
      });
      values = (res.rows[0] as (string | null)[] | undefined) ?? values;
    } catch (e) {
      // 42703 undefined column, 42P01 undefined table: DDL since this change, handled as above.
      const code = errorCode(e);
      if (code !== '42703' && code !== '42P01') throw e;
    }
    return Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null]));
  }

  private keyRow(state: TableState, tuple: Tuple): RowValues {
    return Object.fromEntries(
      state.schema.key.map((k) => {
        const v = tuple[state.columns.findIndex((c) => c.name === k)];
        return [k, v?.kind === 'text' ? v.text : null];
      }),
    );
  }

  /**
   * The records of a change, when they need nothing from PostgreSQL: its definition known and
   * current, no unchanged TOAST value, no generated column. Synchronous, so the stream's common
   * case costs no promise here; undefined sends the caller to {@link insert} / {@link update} /
   * {@link delete}, which do everything.
   */
  changeNow(msg: RowChange, source: SourcePosition): AppendRecord[] | undefined {
    if (this.skipped.has(msg.relationOid)) return [];
    const state = this.byOid.get(msg.relationOid);
    if (!state || this.stale.has(msg.relationOid)) return undefined;
    return this.encoded(state, msg, source);
  }

  /** {@link changeNow} for a known state; undefined when the row needs values read from PostgreSQL. */
  private encoded(state: TableState, msg: RowChange, source: SourcePosition): AppendRecord[] | undefined {
    const { encoder } = state;
    const { topic } = state.schema;
    if (msg.tag === 'delete') return this.deleted(state, msg);
    const value = encoder.value(msg.tag === 'insert' ? 'c' : 'u', msg.newTuple, source);
    if (value === null) return undefined;
    const key = encoder.key(msg.newTuple);
    const record: AppendRecord = { topic, key: Buffer.from(key), value: Buffer.from(value) };
    if (msg.tag === 'insert') return [record];
    // An update that changes the key: a tombstone for the old key first.
    const old = msg.keyTuple ?? msg.oldTuple;
    const oldKey = old ? encoder.key(old) : key;
    return oldKey === key ? [record] : [{ topic, key: Buffer.from(oldKey), value: null }, record];
  }

  async insert(msg: Extract<PgoutputMessage, { tag: 'insert' }>, source: SourcePosition): Promise<AppendRecord[]> {
    const state = await this.state(msg.relationOid);
    if (!state) return [];
    return this.encoded(state, msg, source) ?? [this.rowRecord(state.schema, 'c', await this.row(state, msg.newTuple), source)];
  }

  async update(msg: Extract<PgoutputMessage, { tag: 'update' }>, source: SourcePosition): Promise<AppendRecord[]> {
    const state = await this.state(msg.relationOid);
    if (!state) return [];
    const encoded = this.encoded(state, msg, source);
    if (encoded) return encoded;
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

  async delete(msg: Extract<PgoutputMessage, { tag: 'delete' }>): Promise<AppendRecord[]> {
    const state = await this.state(msg.relationOid);
    if (!state) return [];
    return this.deleted(state, msg);
  }

  /** A delete's tombstone: it needs only the key, which every old tuple has. */
  private deleted(state: TableState, msg: Extract<PgoutputMessage, { tag: 'delete' }>): AppendRecord[] {
    const old = msg.keyTuple ?? msg.oldTuple;
    return old ? [{ topic: state.schema.topic, key: Buffer.from(state.encoder.key(old)), value: null }] : [];
  }
}
