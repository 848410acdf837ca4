/**
 * The prepared row encoder (source-postgres/row-encoder.ts) writes exactly the bytes of the general
 * path it replaces: the row object built from the tuple, the capture rules applied to it, and
 * encodeKey / encodeChange over the result. Random tables (names that JavaScript orders first,
 * quotes, control characters, astral characters), random rules and random rows of every type's
 * text form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeChange, encodeKey, type ChangeOp, type RowValues, type SourcePosition } from '../../compaction/index.js';
import { captureRules, type MaskMode, type Tuple } from '../../source-postgres/index.js';
import { RowEncoder } from '../../source-postgres/row-encoder.js';

/** Column names, with those JavaScript lists first (array indices) and those that need escaping. */
const nameArb = fc.oneof(
  fc.constantFrom('id', '0', '1', '7', '10', '42', '4294967294', '4294967295', '01', '-1', '1.5', '__proto__', 'constructor', 'a"b', 'back\\slash', 'tab\there', 'é😀', 'line\nbreak', 'toString'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
  fc.nat({ max: 30 }).map(String),
);

/** Values as PostgreSQL prints them, one sample shape per kind of type, and any text at all. */
const textArb = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc.constantFrom('12345678901234567890.1234567890', 'NaN', 'Infinity', '-0', '1e+308', 't', 'f', '2026-12-07 03:14:15.123456+00', '{"a": [1, "x\\"y"]}', '{NULL,"a b","c\\"d"}', '\\x00ff10', '(1,2)', '[1,3)', '10.0.0.1/8', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', ''),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '"', '\\', '\u2028', '\u00e9', '/'), maxLength: 6 }),
);

const valueArb: fc.Arbitrary<Tuple[number]> = fc.oneof({ arbitrary: textArb.map((text) => ({ kind: 'text' as const, text })), weight: 6 }, { arbitrary: fc.constant({ kind: 'null' as const }), weight: 1 });

const sourceArb: fc.Arbitrary<SourcePosition> = fc.record({
  lsn: fc.constantFrom('0/16B3748', 'FFFFFFFF/FFFFFFFF'),
  txid: fc.option(fc.nat().map(String), { nil: null }),
  commitTime: fc.option(fc.constant('2026-12-07T00:00:00.000001Z'), { nil: null }),
  snapshot: fc.boolean(),
});

type Rule = 'keep' | 'exclude' | MaskMode;

const tableArb = fc.uniqueArray(nameArb, { minLength: 1, maxLength: 8 }).chain((names) =>
  fc.record({
    names: fc.constant(names),
    key: fc.shuffledSubarray(names, { minLength: 1 }),
    rules: fc.option(fc.array(fc.constantFrom<Rule>('keep', 'exclude', 'hash', 'null', 'redact'), { minLength: names.length, maxLength: names.length }), { nil: null }),
    rows: fc.array(fc.tuple(fc.array(valueArb, { minLength: names.length, maxLength: names.length }), fc.constantFrom<ChangeOp>('r', 'c', 'u'), sourceArb), { minLength: 1, maxLength: 5 }),
  }),
);

describe('the prepared row encoder', () => {
  it('writes the bytes of the row object path, key and value, under any rules', () => {
    fc.assert(
      fc.property(tableArb, ({ names, key, rules, rows }) => {
        const ruled = names.map((name, i) => ({ name, rule: key.includes(name) ? 'keep' : (rules?.[i] ?? 'keep') }));
        const capture = captureRules({
          exclude: ruled.filter((c) => c.rule === 'exclude').map((c) => ({ schema: 's', table: 't', column: c.name })),
          mask: ruled.flatMap((c) => (c.rule === 'hash' || c.rule === 'null' || c.rule === 'redact' ? [{ schema: 's', table: 't', column: c.name, mode: c.rule }] : [])),
          filters: rules ? [{ schema: 's', table: 't', where: 'true' }] : [],
          maskKey: Buffer.from('a key of thirty-two bytes or more!!'),
        });
        const encoder = new RowEncoder({ id: 'abc123', key, columns: names.map((name) => ({ name })), rules: capture.columnTransforms('s', 't', names), computed: false });
        for (const [tuple, op, source] of rows) {
          // The general path: ChangeMapper.row, then rowRecord.
          const row: RowValues = Object.fromEntries(tuple.map((v, i) => [names[i], v.kind === 'text' ? v.text : null]));
          const after = capture.row('s', 't', row);
          expect(Buffer.from(encoder.key(tuple)).equals(encodeKey(key, row))).toBe(true);
          expect(encoder.value(op, tuple, source)).toBe(encodeChange({ op, schemaId: 'abc123', after, source }).toString('utf8'));
        }
      }),
      { numRuns: 600 },
    );
    // Hashing masked values makes each run slow on a loaded machine.
  }, 30_000);

  it('leaves a row with an unchanged TOAST value, or of a table with generated columns, to the general path', () => {
    const source: SourcePosition = { lsn: '0/1', txid: '1', commitTime: null, snapshot: false };
    const columns = [{ name: 'id' }, { name: 'body' }];
    const plain = new RowEncoder({ id: 'x', key: ['id'], columns, rules: null, computed: false });
    expect(plain.value('u', [{ kind: 'text', text: '1' }, { kind: 'unchanged' }], source)).toBeNull();
    expect(plain.value('u', [{ kind: 'text', text: '1' }], source)).toBeNull();
    expect(plain.key([{ kind: 'text', text: '1' }, { kind: 'unchanged' }])).toBe('{"id":"1"}');
    const generated = new RowEncoder({ id: 'x', key: ['id'], columns, rules: null, computed: true });
    expect(generated.value('c', [{ kind: 'text', text: '1' }, { kind: 'null' }], source)).toBeNull();
  });
});
