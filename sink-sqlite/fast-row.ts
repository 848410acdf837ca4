/**
 * A row record's upsert parameters read straight from its bytes (issue 14). Decoding every record
 * with JSON.parse built an object per record and one per `after`, which rowParams then read again
 * by name: most of a bootstrap's main thread. A record in the exact form encodeChange writes —
 * `{"op":…,"schema_id":…,"after":{…},"source":{…}}`, no whitespace, the columns in the order of
 * the definition it was written with — is read here in one pass, its values mapped by the same
 * mappers straight into the statement's parameter array.
 *
 * Anything else is declined (another order, a key that is not a column, a number where text is
 * expected, a value a mapper refuses, …), and the caller decodes that record with decodeChange and
 * maps it with rowParams as before, which decide and throw exactly as they always did. So a record
 * read here is one decodeChange accepts, and its parameters are rowParams's, value for value
 * (test/unit/fast-row.test.ts compares the two on random records and definitions).
 */
import { sourcePosition, type ColumnDef, type SourcePosition } from '../compaction/index.js';
import { valueMapper, type SqliteValue, type ValueMapper } from './values.js';

/**
 * Fills `out` (the statement's parameters) from a record whose schema id ends at `idEnd`
 * ({@link schemaIdEnd}); returns where its source object starts, or -1 when it declines.
 */
export type FastRow = (b: Buffer, idEnd: number, out: SqliteValue[]) => number;

/** Node's own slicers: toString's argument checks cost more than a short value's decoding. */
interface Slicers {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const HEAD = Buffer.from('{"op":"');
const SCHEMA = Buffer.from('","schema_id":"');
/** Where a record's schema id starts: after the head and its one-letter op. */
const ID_AT = HEAD.length + 1 + SCHEMA.length;
const AFTER = Buffer.from('","after":{');
const SOURCE = Buffer.from(',"source":');
const NULL = Buffer.from('null');
const Q = 0x22;
const BS = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** What may follow a backslash in JSON (besides `u` and four hex digits). */
const ESCAPES = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPES[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** The mappers whose result can be had from the bytes without making a string first. */
const TEXT = valueMapper({ name: '', type: 'text', base: 'text', elem: null });
const INTEGER = valueMapper({ name: '', type: 'bigint', base: 'int8', elem: null });
const BOOL = valueMapper({ name: '', type: 'boolean', base: 'bool', elem: null });

/** Whether `b` holds `what` at `p` (a loop: Buffer.compare's argument checks cost more than a few bytes). */
function has(b: Buffer, p: number, what: Buffer): boolean {
  const n = what.length;
  if (b.length - p < n) return false;
  for (let i = 0; i < n; i++) if (b[p + i] !== what[i]) return false;
  return true;
}

/** Whether `a` from `p` and `b` from `q` hold the same `n` bytes. */
function sameBytes(a: Buffer, p: number, b: Buffer, q: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[p + i] !== b[q + i]) return false;
  return true;
}

/** Set by {@link stringEnd}: the string holds an escape / only ASCII. Module state, not an object per value. */
let escaped = false;
let ascii = true;

/**
 * The closing quote of the JSON string whose body starts at `p`, or -1 when it is not valid JSON
 * (a control character, a bad escape, no end): then decodeChange is the one to say so.
 */
function stringEnd(b: Buffer, p: number): number {
  escaped = false;
  ascii = true;
  const n = b.length;
  while (p < n) {
    const c = b[p] as number;
    if (c === Q) return p;
    if (c < 0x20) return -1;
    if (c >= 0x80) ascii = false;
    else if (c === BS) {
      escaped = true;
      const e = p + 1 < n ? (b[p + 1] as number) : 0;
      if (e === 0x75) {
        if (p + 5 >= n) return -1;
        for (let k = p + 2; k < p + 6; k++) if (HEX[b[k] as number] !== 1) return -1;
        p += 6;
        continue;
      }
      if (ESCAPES[e] !== 1) return -1;
      p += 2;
      continue;
    }
    p++;
  }
  return -1;
}

/** The text of the string body [s, e) just scanned by {@link stringEnd}. */
function textOf(b: Buffer, s: number, e: number): string {
  if (escaped) return JSON.parse((b as unknown as Slicers).utf8Slice(s - 1, e + 1)) as string;
  return ascii ? (b as unknown as Slicers).latin1Slice(s, e) : (b as unknown as Slicers).utf8Slice(s, e);
}

/**
 * Where a record's schema id ends (its closing quote), or -1 when the record's head is not in
 * encodeChange's form (or the id is not plain ASCII). The id is {@link schemaIdOf}.
 */
export function schemaIdEnd(b: Buffer): number {
  if (!has(b, 0, HEAD)) return -1;
  const op = b[HEAD.length];
  if (op !== 0x72 && op !== 0x63 && op !== 0x75) return -1; // r c u, as decodeChange requires
  if (!has(b, HEAD.length + 1, SCHEMA)) return -1;
  for (let i = ID_AT; i < b.length; i++) {
    const c = b[i] as number;
    if (c === Q) return has(b, i, AFTER) ? i : -1;
    if (c === BS || c < 0x20 || c >= 0x80) return -1;
  }
  return -1;
}

/** The schema id of a record whose id ends at `idEnd`. */
export function schemaIdOf(b: Buffer, idEnd: number): string {
  return (b as unknown as Slicers).latin1Slice(ID_AT, idEnd);
}

/** Whether two records have the same schema id (a batch's records mostly do: no string per record). */
export function sameSchemaId(a: Buffer, aEnd: number, b: Buffer, bEnd: number): boolean {
  if (aEnd !== bEnd) return false;
  for (let i = ID_AT; i < aEnd; i++) if (a[i] !== b[i]) return false;
  return true;
}

const KIND_MAPPED = 0;
const KIND_TEXT = 1;
const KIND_INTEGER = 2;
const KIND_BOOL = 3;
/** A one-dimensional array whose elements the mapper writes as JSON strings, ',' between them. */
const KIND_TEXT_ARRAY = 4;

/**
 * Element types whose elements values.ts does not write as JSON.stringify of their text (numbers,
 * timestamptz in Z), or whose arrays are not ','-separated (box): their arrays go through the mapper.
 */
const NOT_TEXT_ELEMENTS = new Set(['int2', 'int4', 'int8', 'oid', 'float4', 'float8', 'timestamptz', 'box']);
/** Bytes an unquoted array element may hold to be copied: parsePgArray keeps them, JSON.stringify leaves them. */
const PLAIN = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:+-/@') PLAIN[c.charCodeAt(0)] = 1;

/**
 * `{a,b1}` as the mapper writes it (`["a","b1"]`), or null when the array is anything but
 * plain unquoted elements (quotes, NULL, nesting, bounds): parsePgArray's char
 * by char parse was half of a bench record's mapping.
 */
function plainTextArray(b: Buffer, s: number, e: number): string | null {
  if (b[s] !== OPEN || b[e - 1] !== CLOSE) return null;
  if (e - s === 2) return '[]';
  let from = s + 1;
  for (let i = from; i < e; i++) {
    const c = b[i] as number;
    if (c === COMMA || i === e - 1) {
      // NULL in any case is a NULL element. (An empty one is "" either way.)
      if (i - from === 4 && ((b[from] as number) | 0x20) === 0x6e && ((b[from + 1] as number) | 0x20) === 0x75 && ((b[from + 2] as number) | 0x20) === 0x6c && ((b[from + 3] as number) | 0x20) === 0x6c) return null;
      from = i + 1;
    } else if (PLAIN[c] !== 1) return null;
  }
  return '["' + (b as unknown as Slicers).latin1Slice(s + 1, e - 1).replaceAll(',', '","') + '"]';
}

/**
 * Prepares the reader of records written under a definition with `columns` (in its order) into a
 * statement binding `bound` (those of its columns the table has, in the same order).
 */
export function fastRow(columns: readonly ColumnDef[], bound: readonly string[]): FastRow {
  const n = columns.length;
  // Keys as encodeChange writes them (JSON.stringify), compared byte for byte.
  const names = columns.map((c) => Buffer.from(JSON.stringify(c.name).slice(1, -1)));
  const slots = columns.map((c) => bound.indexOf(c.name));
  const mappers: ValueMapper[] = columns.map(valueMapper);
  const kinds = mappers.map((m, i) => {
    const elem = (columns[i] as ColumnDef).elem;
    if (elem !== null) return NOT_TEXT_ELEMENTS.has(elem) ? KIND_MAPPED : KIND_TEXT_ARRAY;
    return m === TEXT ? KIND_TEXT : m === INTEGER ? KIND_INTEGER : m === BOOL ? KIND_BOOL : KIND_MAPPED;
  });
  /** A column the record lacks (written under an older definition, or left out): NULL, as rowParams has it. */
  const missing = (col: number, out: SqliteValue[]): void => {
    const to = slots[col] as number;
    if (to >= 0) out[to] = null;
  };

  /** Maps the string body [s, e) of column `col` into `out`; false when its mapper refuses it. */
  const value = (b: Buffer, s: number, e: number, col: number, out: SqliteValue[]): boolean => {
    const to = slots[col] as number;
    if (to < 0) return true;
    const kind = kinds[col];
    if (kind === KIND_BOOL && !escaped) {
      out[to] = e - s === 1 && b[s] === 0x74 ? 1n : 0n;
      return true;
    }
    if (kind === KIND_INTEGER && !escaped && e > s && e - s <= 15) {
      // Up to 15 digits fit a double exactly: BigInt of a number, not of a string.
      let i = s;
      const negative = b[i] === 0x2d;
      if (negative) i++;
      if (i < e) {
        let v = 0;
        for (; i < e; i++) {
          const d = (b[i] as number) - 0x30;
          if (d < 0 || d > 9) break;
          v = v * 10 + d;
        }
        if (i === e) {
          out[to] = BigInt(negative ? -v : v);
          return true;
        }
      }
    }
    if (kind === KIND_TEXT_ARRAY && !escaped) {
      const json = plainTextArray(b, s, e);
      if (json !== null) {
        out[to] = json;
        return true;
      }
    }
    const text = textOf(b, s, e);
    if (kind === KIND_TEXT) {
      out[to] = text;
      return true;
    }
    try {
      out[to] = (mappers[col] as ValueMapper)(text);
      return true;
    } catch {
      // rowParams throws the same, later, where it always did.
      return false;
    }
  };

  return (b, idEnd, out) => {
    let p = idEnd + AFTER.length;
    let col = 0;
    if (b[p] === CLOSE) p++;
    else
      for (;;) {
        if (b[p] !== Q) return -1;
        const k = p + 1;
        const ke = stringEnd(b, k);
        if (ke < 0 || b[ke + 1] !== COLON) return -1;
        // The column this key names, at or after the next one expected: a key out of order, one
        // repeated or one not in the definition is declined.
        let c = col;
        while (c < n) {
          const name = names[c] as Buffer;
          if (name.length === ke - k && has(b, k, name)) break;
          c++;
        }
        if (c === n) return -1;
        for (; col < c; col++) missing(col, out);
        p = ke + 2;
        if (b[p] === Q) {
          const ve = stringEnd(b, p + 1);
          if (ve < 0 || !value(b, p + 1, ve, col, out)) return -1;
          p = ve + 1;
        } else if (has(b, p, NULL)) {
          const to = slots[col] as number;
          if (to >= 0) out[to] = null;
          p += NULL.length;
        } else return -1;
        col++;
        if (b[p] === COMMA) {
          p++;
          continue;
        }
        if (b[p] !== CLOSE) return -1;
        p++;
        break;
      }
    for (; col < n; col++) missing(col, out);
    if (!has(b, p, SOURCE)) return -1;
    p += SOURCE.length;
    // The source object runs to the record's last brace but one; SourceReader checks it is one.
    if (b[p] !== OPEN || b[b.length - 1] !== CLOSE) return -1;
    return p;
  };
}

/**
 * Reads records' source objects, parsing one only when its bytes differ from the previous one's:
 * a transaction's records, and a snapshot chunk's, share theirs.
 */
export class SourceReader {
  private last: Buffer | undefined;
  private start = 0;
  private parsed: SourcePosition | undefined;

  /** The source object from `start` to the record's last brace, or null when decodeChange would refuse it. */
  read(b: Buffer, start: number): SourcePosition | null {
    const end = b.length - 1;
    const last = this.last;
    if (last !== undefined && this.parsed !== undefined && last.length - 1 - this.start === end - start && sameBytes(b, start, last, this.start, end - start)) {
      return this.parsed;
    }
    let source: SourcePosition;
    try {
      // A slice with more after the object (another key) is not JSON: declined.
      source = sourcePosition(JSON.parse((b as unknown as Slicers).utf8Slice(start, end)));
    } catch {
      this.last = undefined;
      return null;
    }
    this.last = b;
    this.start = start;
    this.parsed = source;
    return source;
  }
}
