/**
 * PostgreSQL text output → SQLite values, per DESIGN.md's mapping table (docs/replica.md). Pure
 * functions: the one place where a replica's values are decided.
 */
import type { ColumnDef } from '../compaction/index.js';
import { parsePgArray, type PgArray } from './pg-array.js';

export type SqliteValue = bigint | number | string | Buffer | null;

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8', 'oid']);
const FLOAT_TYPES = new Set(['float4', 'float8']);
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** The declared SQLite column type for a PostgreSQL column (which also sets its affinity). */
export function sqliteType(column: ColumnDef): 'INTEGER' | 'REAL' | 'BLOB' | 'TEXT' {
  if (column.elem === null && (INTEGER_TYPES.has(column.base) || column.base === 'bool')) return 'INTEGER';
  if (column.elem === null && FLOAT_TYPES.has(column.base)) return 'REAL';
  if (column.elem === null && column.base === 'bytea') return 'BLOB';
  return 'TEXT';
}

/** Maps one non-null PostgreSQL text to its SQLite value. */
export type ValueMapper = (text: string) => SqliteValue;

/** timestamptz as printed with TimeZone=UTC (`…+00`, `…+00 BC`), with `+00` written `Z`. */
function utcZ(text: string): string {
  // The common case without the regular expression: it ran once per value of every row.
  if (text.endsWith('+00')) return text.slice(0, -3) + 'Z';
  return text.replace(/\+00( BC)?$/, 'Z$1');
}

function float(text: string): number | string {
  if (text === 'NaN') return 'NaN';
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  return Number(text);
}

const integer: ValueMapper = (text) => BigInt(text);
const bool: ValueMapper = (text) => (text === 't' ? 1n : 0n);
const bytea: ValueMapper = (text) => Buffer.from(text.startsWith('\\x') ? text.slice(2) : text, 'hex');
const asText: ValueMapper = (text) => text;

/** The mapper of a scalar type: chosen once, so that a row's values cost no look-ups by type name. */
function scalarMapper(base: string): ValueMapper {
  if (INTEGER_TYPES.has(base)) return integer;
  if (base === 'bool') return bool;
  if (FLOAT_TYPES.has(base)) return float;
  if (base === 'bytea') return bytea;
  if (base === 'timestamptz') return utcZ;
  return asText;
}

/** One scalar value. */
export function scalarValue(base: string, text: string): SqliteValue {
  return scalarMapper(base)(text);
}

/** An array element as JSON text: numbers for integer and float elements, strings otherwise. */
function elementJson(elem: string, v: string | null | PgArray): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[' + v.map((x) => elementJson(elem, x)).join(',') + ']';
  // PostgreSQL prints integers and finite floats as valid JSON numbers: kept digit for digit.
  if ((INTEGER_TYPES.has(elem) || FLOAT_TYPES.has(elem)) && JSON_NUMBER.test(v)) return v;
  if (elem === 'timestamptz') return JSON.stringify(utcZ(v));
  return JSON.stringify(v);
}

/**
 * The mapper of a column's values, prepared once per column of a table definition (the sink
 * applies every row through these); {@link columnValue} is the same mapping for one value.
 */
export function valueMapper(column: ColumnDef): ValueMapper {
  const elem = column.elem;
  if (elem === null) return scalarMapper(column.base);
  // box[] is the one built-in array type whose elements are separated by ';'.
  const delimiter = elem === 'box' ? ';' : ',';
  return (text) => elementJson(elem, parsePgArray(text, delimiter));
}

/** The SQLite value of a column, from PostgreSQL's text output (null for SQL NULL). */
export function columnValue(column: ColumnDef, text: string | null): SqliteValue {
  if (text === null) return null;
  return valueMapper(column)(text);
}
