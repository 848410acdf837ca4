/**
 * The record format, readable with any Kafka client (kcat prints it as JSON): see docs/topics.md.
 *
 * Row values are PostgreSQL's own text output (DateStyle ISO, TimeZone UTC, bytea hex), so every
 * type keeps full fidelity in the log — a 40-digit numeric or an int8 is never a float on the way —
 * and the sink maps text to SQLite values with the column types from the schema record.
 */
import { createHash } from 'node:crypto';
import { CdcError } from '../common/index.js';

/** A column of a captured table. */
export interface ColumnDef {
  readonly name: string;
  /** The type as PostgreSQL writes it (`numeric(10,2)`, `text[]`, `mood`). */
  readonly type: string;
  /** The internal name of the base type after resolving domains (`int8`, `_text`, `mood`). */
  readonly base: string;
  /** For arrays, the internal name of the element's base type (`text`); otherwise null. */
  readonly elem: string | null;
}

/** What a sink needs to create and fill a table, with no connection to PostgreSQL. */
export interface TableSchema {
  readonly schema: string;
  readonly table: string;
  readonly topic: string;
  readonly columns: readonly ColumnDef[];
  /** The key columns, in key order (the primary key, or the replica-identity index). */
  readonly key: readonly string[];
}

/** A table definition as stored in the schema topic, identified by its fingerprint. */
export interface SchemaRecord extends TableSchema {
  readonly id: string;
}

/** A row as PostgreSQL prints it: column name → text output, null for SQL NULL. */
export type RowValues = Readonly<Record<string, string | null>>;

/** Where in the source a change comes from. */
export interface SourcePosition {
  /** The commit LSN of the transaction (for snapshot rows: the slot's consistent point). */
  readonly lsn: string;
  readonly txid: string | null;
  /** Commit time in UTC, microseconds (`2026-11-22T10:00:00.123456Z`); null for snapshot rows. */
  readonly commitTime: string | null;
  readonly snapshot: boolean;
}

export type ChangeOp = 'r' | 'c' | 'u';

/** The value of a row record (an insert, update or snapshot read; a delete is a tombstone). */
export interface ChangeValue {
  readonly op: ChangeOp;
  readonly schemaId: string;
  readonly after: RowValues;
  readonly source: SourcePosition;
}

function malformed(what: string): CdcError {
  return new CdcError('RECORD_MALFORMED', `a record in the log is not in the cdc format: ${what}`, {
    hint: 'check that the topics were written by `cdc start` and that --topic-prefix matches',
  });
}

/** The fingerprint of a table definition: equal definitions, equal ids. */
export function schemaId(schema: TableSchema): string {
  const canonical = JSON.stringify([schema.schema, schema.table, schema.topic, schema.columns.map((c) => [c.name, c.type, c.base, c.elem]), schema.key]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The key of a row: its key columns in key order, as a JSON object of text values. */
export function encodeKey(key: readonly string[], row: RowValues): Buffer {
  const entries: [string, string | null][] = [];
  for (const k of key) {
    const v = row[k];
    if (v === undefined) throw new CdcError('KEY_COLUMN_MISSING', `key column ${JSON.stringify(k)} is missing from a row`);
    entries.push([k, v]);
  }
  // fromEntries defines properties: an assignment of a column named __proto__ would set the prototype.
  return Buffer.from(JSON.stringify(Object.fromEntries(entries)));
}

function parseJson(buf: Buffer, what: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw malformed(`${what} is not JSON`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rowValues(v: unknown, what: string): RowValues {
  if (!isRecord(v)) throw malformed(`${what} is not an object`);
  // for…in rather than Object.entries: no array per column of every row a sink decodes.
  for (const k in v) {
    const x = v[k];
    if (x !== null && typeof x !== 'string') throw malformed(`${what}.${k} is not a string or null`);
  }
  return v as RowValues;
}

/** Decodes a record key. */
export function decodeKey(buf: Buffer): RowValues {
  return rowValues(parseJson(buf, 'key'), 'key');
}

export function encodeChange(value: ChangeValue): Buffer {
  return Buffer.from(
    JSON.stringify({
      op: value.op,
      schema_id: value.schemaId,
      after: value.after,
      source: { lsn: value.source.lsn, txid: value.source.txid, commit_time: value.source.commitTime, snapshot: value.source.snapshot },
    }),
  );
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw malformed(`${what} is not a string`);
  return v;
}

function strOrNull(v: unknown, what: string): string | null {
  return v === null || v === undefined ? null : str(v, what);
}

export function decodeChange(buf: Buffer): ChangeValue {
  const v = parseJson(buf, 'value');
  if (!isRecord(v)) throw malformed('value is not an object');
  const op = v['op'];
  if (op !== 'r' && op !== 'c' && op !== 'u') throw malformed(`unknown op ${JSON.stringify(op)}`);
  // Read before the rest, as it always was: a record bad in several ways names its source first.
  const source = sourcePosition(v['source']);
  return {
    op,
    schemaId: str(v['schema_id'], 'value.schema_id'),
    after: rowValues(v['after'], 'value.after'),
    source,
  };
}

/**
 * A record's `source` object, already parsed, as decodeChange reads it: the sink's byte-level
 * reader (sink-sqlite/fast-row.ts) parses only that part of a record, and must decide the same.
 */
export function sourcePosition(source: unknown): SourcePosition {
  if (!isRecord(source)) throw malformed('value.source is not an object');
  return {
    lsn: str(source['lsn'], 'source.lsn'),
    txid: strOrNull(source['txid'], 'source.txid'),
    commitTime: strOrNull(source['commit_time'], 'source.commit_time'),
    snapshot: source['snapshot'] === true,
  };
}

/** The key of a schema record: one per table definition, so compaction keeps every version. */
export function encodeSchemaKey(record: SchemaRecord): Buffer {
  return Buffer.from(JSON.stringify({ schema: record.schema, table: record.table, id: record.id }));
}

export function encodeSchema(record: SchemaRecord): Buffer {
  return Buffer.from(JSON.stringify({ id: record.id, schema: record.schema, table: record.table, topic: record.topic, key: record.key, columns: record.columns }));
}

/** A table that stopped existing at the source (dropped, or renamed away): its replica table goes too. */
export interface TableDrop {
  readonly schema: string;
  readonly table: string;
  readonly topic: string;
}

/**
 * The key of a drop record: one per table name, so after compaction the latest drop and the latest
 * definitions of that name survive in their original order, and a sink replaying them ends with
 * the table gone, or recreated, exactly as the source left it.
 */
export function encodeDropKey(drop: TableDrop): Buffer {
  return Buffer.from(JSON.stringify({ schema: drop.schema, table: drop.table, drop: true }));
}

export function encodeDrop(drop: TableDrop): Buffer {
  return Buffer.from(JSON.stringify({ drop: true, schema: drop.schema, table: drop.table, topic: drop.topic }));
}

/** What a record of the schema topic says: a table definition, or that a table was dropped. */
export type SchemaEvent =
  | { readonly kind: 'define'; readonly record: SchemaRecord }
  | { readonly kind: 'drop'; readonly drop: TableDrop }
  /** The topics' format (tx-marks.ts): 2 when units end with end marks. */
  | { readonly kind: 'format'; readonly version: number };

export function decodeSchemaEvent(buf: Buffer): SchemaEvent {
  const v = parseJson(buf, 'schema record');
  if (isRecord(v) && typeof v['format'] === 'number') return { kind: 'format', version: v['format'] };
  if (isRecord(v) && v['drop'] === true) {
    return { kind: 'drop', drop: { schema: str(v['schema'], 'drop.schema'), table: str(v['table'], 'drop.table'), topic: str(v['topic'], 'drop.topic') } };
  }
  return { kind: 'define', record: decodeSchema(buf) };
}

export function decodeSchema(buf: Buffer): SchemaRecord {
  const v = parseJson(buf, 'schema record');
  if (!isRecord(v)) throw malformed('schema record is not an object');
  const columns = v['columns'];
  const key = v['key'];
  if (!Array.isArray(columns) || !Array.isArray(key)) throw malformed('schema record lacks columns or key');
  return {
    id: str(v['id'], 'schema.id'),
    schema: str(v['schema'], 'schema.schema'),
    table: str(v['table'], 'schema.table'),
    topic: str(v['topic'], 'schema.topic'),
    key: key.map((k, i) => str(k, `schema.key[${i}]`)),
    columns: columns.map((c: unknown, i) => {
      if (!isRecord(c)) throw malformed(`schema.columns[${i}] is not an object`);
      return { name: str(c['name'], 'column.name'), type: str(c['type'], 'column.type'), base: str(c['base'], 'column.base'), elem: strOrNull(c['elem'], 'column.elem') };
    }),
  };
}
