import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeChange, encodeChange, type ChangeValue, type ColumnDef, type SourcePosition } from '../../compaction/index.js';
import { fastRow, schemaIdEnd, schemaIdOf, SourceReader } from '../../sink-sqlite/fast-row.js';
import { rowParams } from '../../sink-sqlite/row-params.js';
import type { SqliteValue } from '../../sink-sqlite/values.js';

// The sink's byte-level reader (fast-row.ts) against what it stands in for: decodeChange, then
// rowParams with the value mappers. On any record it must give the same schema id, source and
// parameters (type and value, -0 and NaN included), or decline.

/** Every type the value mapper handles in its own way, scalar and array. */
const TYPES: readonly [string, string | null][] = [
  ['int2', null], ['int4', null], ['int8', null], ['oid', null], ['bool', null], ['float4', null], ['float8', null],
  ['bytea', null], ['timestamptz', null], ['text', null], ['numeric', null], ['date', null], ['jsonb', null], ['uuid', null],
  ['_text', 'text'], ['_int4', 'int4'], ['_int8', 'int8'], ['_float8', 'float8'], ['_timestamptz', 'timestamptz'], ['_box', 'box'], ['_bool', 'bool'], ['_numeric', 'numeric'], ['_uuid', 'uuid'],
];

/** Characters that exercise escapes, multi-byte UTF-8, lone surrogates and PostgreSQL's array syntax. */
const tricky = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '9', ' ', ',', ';', '"', '\\', '{', '}', 'é', '€', '😀', '\ud800', '\n', '\t', '\u0001', '\u2028', '-', '+', ':', '.', 'N', 'U', 'L'), maxLength: 12 });
const anyText = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ maxLength: 8 }));

const integers = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.integer().map(String),
  fc.constantFrom('0', '-0', '007', '', '-', '1.5', ' 1', '1e3', '+5', '9223372036854775807', '-9223372036854775808', '123456789012345', '1234567890123456', '9007199254740993'),
);
const timestamps = fc.oneof(
  fc.constantFrom('2026-01-01 00:00:00+00', '2026-01-01 00:00:00.5+00', '0044-03-15 12:00:00+00 BC', '2026-01-01 00:00:00+01', 'infinity', '-infinity', '+00', '+00 BC'),
  tricky.map((s) => s + '+00'),
);

function scalarText(base: string): fc.Arbitrary<string> {
  switch (base) {
    case 'int2': case 'int4': case 'int8': case 'oid': return integers;
    case 'bool': return fc.constantFrom('t', 'f', 'true', '', 'T', '\u0074');
    case 'float4': case 'float8': return fc.oneof(fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '1e308', '1.5', 'x'), fc.double().map(String));
    case 'bytea': return fc.oneof(fc.uint8Array({ maxLength: 6 }).map((b) => '\\x' + Buffer.from(b).toString('hex')), fc.constantFrom('\\x', 'abc', '\\xzz'));
    case 'timestamptz': return timestamps;
    default: return anyText;
  }
}

function columnText(c: ColumnDef): fc.Arbitrary<string> {
  if (c.elem === null) return scalarText(c.base);
  const delimiter = c.elem === 'box' ? ';' : ',';
  // Plain unquoted elements (read from the bytes for text-like elements), NULL in any case, quoted ones.
  const plain = fc.stringMatching(/^[A-Za-z0-9_.:+\-/@]{0,5}$/);
  const element = fc.oneof(scalarText(c.elem), plain, plain, fc.constantFrom('NULL', 'null', 'nUlL', 'NULLS', 'a b', 'é'), tricky.map((s) => JSON.stringify(s)));
  return fc.oneof(
    fc.array(element, { maxLength: 4 }).map((xs) => '{' + xs.join(delimiter) + '}'),
    fc.array(fc.array(element, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 2 }).map((xs) => '{' + xs.map((x) => '{' + x.join(delimiter) + '}').join(delimiter) + '}'),
    fc.constantFrom('{}', '[0:1]={a,b}', '{a,,b}', '{a,}'),
    anyText,
  );
}

const columnName = fc.oneof(fc.constantFrom('id', 'name', 'a b', 'é', '"q"', 'back\\slash', 'new\nline', 'constructor', 'toString', '__proto__'), fc.string({ minLength: 1, maxLength: 6 }));

const definition = fc.uniqueArray(fc.record({ name: columnName, type: fc.constantFrom(...TYPES) }), { minLength: 1, maxLength: 8, selector: (c) => c.name }).map((cs) =>
  cs.map(({ name, type: [base, elem] }): ColumnDef => ({ name, type: base, base, elem })),
);

const sources = fc.record({
  lsn: fc.constantFrom('0/1', '0/16B3780', 'A/FF', 'x'),
  txid: fc.option(fc.constantFrom('5', '123456'), { nil: null }),
  commitTime: fc.option(fc.constantFrom('2026-01-01T00:00:00.000001Z', 'é'), { nil: null }),
  snapshot: fc.boolean(),
});

/** How a record's bytes are made: as encodeChange writes them, or in some other form. */
const FORMS = ['canonical', 'shuffled', 'spaced', 'number', 'extra-key', 'source-first', 'raw-control', 'truncated', 'extra-column'] as const;

interface Case {
  columns: ColumnDef[];
  /** The columns the table has (the statement binds those of the record's definition, in its order). */
  tableHas: boolean[];
  rows: { values: (string | null | undefined)[]; source: SourcePosition; form: (typeof FORMS)[number]; cut: number }[];
}

const cases: fc.Arbitrary<Case> = definition.chain((columns) =>
  fc.record({
    columns: fc.constant(columns),
    tableHas: fc.array(fc.boolean(), { minLength: columns.length, maxLength: columns.length }),
    rows: fc.array(
      fc.record({
        // undefined: the record lacks the column (written under an older definition).
        values: fc.tuple(...columns.map((c) => fc.option(fc.option(columnText(c), { nil: null, freq: 8 }), { nil: undefined, freq: 12 }))),
        source: sources,
        form: fc.oneof({ arbitrary: fc.constant('canonical' as const), weight: 6 }, { arbitrary: fc.constantFrom(...FORMS), weight: 2 }),
        cut: fc.nat(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  }),
);

const SCHEMA_ID = '0123456789abcdef';

function recordBytes(columns: readonly ColumnDef[], row: Case['rows'][number]): Buffer {
  const after: Record<string, unknown> = {};
  const order = row.form === 'shuffled' ? [...columns.keys()].reverse() : [...columns.keys()];
  for (const i of order) {
    const v = row.values[i];
    const name = (columns[i] as ColumnDef).name;
    // defineProperty: an assignment to __proto__ would set the prototype, not a key.
    if (v !== undefined) Object.defineProperty(after, name, { value: v, enumerable: true, writable: true, configurable: true });
  }
  const first = columns.findIndex((_, i) => row.values[i] !== undefined);
  if (row.form === 'number' && first >= 0) Object.defineProperty(after, (columns[first] as ColumnDef).name, { value: 12, enumerable: true });
  if (row.form === 'extra-column') after['not a column'] = 'x';
  const value: ChangeValue = { op: 'c', schemaId: SCHEMA_ID, after: after as ChangeValue['after'], source: row.source };
  const canonical = encodeChange(value);
  switch (row.form) {
    case 'spaced':
      return Buffer.from(JSON.stringify(JSON.parse(canonical.toString()), null, 1));
    case 'extra-key':
      return Buffer.from(canonical.toString().slice(0, -1) + ',"op":"u"}');
    case 'source-first': {
      const s = row.source;
      return Buffer.from(JSON.stringify({ source: { lsn: s.lsn, txid: s.txid, commit_time: s.commitTime, snapshot: s.snapshot }, op: 'c', schema_id: SCHEMA_ID, after }));
    }
    case 'raw-control':
      return Buffer.from(canonical.toString().replace('\\n', '\n'));
    case 'truncated':
      return canonical.subarray(0, row.cut % canonical.length);
    default:
      return canonical;
  }
}

type Outcome = { schemaId: string; source: SourcePosition; params: SqliteValue[] } | 'throws';

/** What the sink did before: decodeChange, then rowParams of the bound columns. */
function slowPath(b: Buffer, bound: readonly ColumnDef[]): Outcome {
  try {
    const change = decodeChange(b);
    return { schemaId: change.schemaId, source: change.source, params: rowParams(bound)(change.after) };
  } catch {
    return 'throws';
  }
}

describe('a row record read from its bytes (fast-row.ts)', () => {
  it('gives the parameters decodeChange and rowParams give, or declines', () => {
    let fast = 0;
    fc.assert(
      fc.property(cases, ({ columns, tableHas, rows }) => {
        const bound = columns.filter((_, i) => tableHas[i]);
        const read = fastRow(columns, bound.map((c) => c.name));
        // One reader across the batch, as applyData uses it: equal sources are parsed once.
        const reader = new SourceReader();
        for (const row of rows) {
          const b = recordBytes(columns, row);
          const slow = slowPath(b, bound);
          const idEnd = schemaIdEnd(b);
          const params = new Array<SqliteValue>(bound.length);
          const sourceAt = idEnd < 0 ? -1 : read(b, idEnd, params);
          const source = sourceAt < 0 ? null : reader.read(b, sourceAt);
          if (source === null) {
            // A record encodeChange wrote, which rowParams maps, is declined only when
            // JSON.stringify put its columns out of order (integer-like names come first).
            const present = columns.filter((_, i) => row.values[i] !== undefined).map((c) => c.name);
            const inOrder = slow !== 'throws' && isDeepStrictEqual(Object.keys(decodeChange(b).after), present);
            if (row.form === 'canonical' && inOrder) expect.fail(`declined ${b.toString()}`);
            continue;
          }
          fast++;
          expect(slow).not.toBe('throws');
          const taken = { schemaId: schemaIdOf(b, idEnd), source, params };
          if (!isDeepStrictEqual(taken, slow)) expect.fail(`${b.toString()}: ${show(taken)} ≠ ${show(slow)}`);
        }
      }),
      { numRuns: 2000 },
    );
    // Most records are in encodeChange's form: most must have been read from their bytes.
    expect(fast).toBeGreaterThan(2000);
  });

  it('reads the schema id of a record in encodeChange form, and no other', () => {
    const b = encodeChange({ op: 'r', schemaId: SCHEMA_ID, after: {}, source: { lsn: '0/1', txid: null, commitTime: null, snapshot: true } });
    expect(schemaIdOf(b, schemaIdEnd(b))).toBe(SCHEMA_ID);
    expect(schemaIdEnd(Buffer.from(b.toString().replace('"op":"r"', '"op":"d"')))).toBe(-1);
    expect(schemaIdEnd(Buffer.from(b.toString().replace(SCHEMA_ID, 'é')))).toBe(-1);
    expect(schemaIdEnd(Buffer.from(' ' + b.toString()))).toBe(-1);
  });
});

function show(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : Buffer.isBuffer(x) ? `<${x.toString('hex')}>` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
}
