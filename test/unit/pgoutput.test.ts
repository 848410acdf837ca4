import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CdcError } from '../../common/index.js';
import { decodePgoutput, pgTimeToIso, type PgoutputMessage, type Tuple } from '../../source-postgres/index.js';

/** Builds pgoutput messages byte by byte, as the server sends them. */
class Bytes {
  private parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  ch(c: string): this {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }
  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    this.parts.push(Buffer.from(s + '\0', 'utf8'));
    return this;
  }
  text(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.ch('t').i32(b.length).raw(b);
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  get buf(): Buffer {
    return Buffer.concat(this.parts);
  }
}

describe('pgoutput decoding', () => {
  it('decodes begin and commit with 64-bit LSNs and microsecond times', () => {
    const begin = decodePgoutput(new Bytes().ch('B').u64(0x1_0000_00a8n).u64(1234567n).i32(758).buf);
    expect(begin).toEqual({ tag: 'begin', finalLsn: 0x1_0000_00a8n, commitTime: 1234567n, xid: 758 });
    const commit = decodePgoutput(new Bytes().ch('C').u8(0).u64(0x10n).u64(0x28n).u64(5n).buf);
    expect(commit).toEqual({ tag: 'commit', commitLsn: 0x10n, endLsn: 0x28n, commitTime: 5n });
  });

  it('decodes a relation with key flags and an insert that keeps text, NULL and unchanged TOAST apart', () => {
    const rel = decodePgoutput(
      new Bytes().ch('R').i32(16384).str('my schema').str('Tab"le').ch('d').i16(3)
        .u8(1).str('id').i32(20).i32(-1)
        .u8(0).str('body').i32(25).i32(-1)
        .u8(0).str('n').i32(1700).i32(-1).buf,
    );
    expect(rel).toMatchObject({ tag: 'relation', relationOid: 16384, schema: 'my schema', table: 'Tab"le', replicaIdentity: 'default' });
    expect(rel.tag === 'relation' && rel.columns.map((c) => [c.flags, c.name, c.typeOid])).toEqual([[1, 'id', 20], [0, 'body', 25], [0, 'n', 1700]]);

    const ins = decodePgoutput(new Bytes().ch('I').i32(16384).ch('N').i16(3).text('9223372036854775807').ch('u').ch('n').buf);
    expect(ins).toEqual({ tag: 'insert', relationOid: 16384, newTuple: [{ kind: 'text', text: '9223372036854775807' }, { kind: 'unchanged' }, { kind: 'null' }] });
  });

  it('decodes updates with and without the old key, and deletes', () => {
    const withKey = decodePgoutput(new Bytes().ch('U').i32(1).ch('K').i16(1).text('1').ch('N').i16(1).text('2').buf);
    expect(withKey).toEqual({ tag: 'update', relationOid: 1, keyTuple: [{ kind: 'text', text: '1' }], oldTuple: null, newTuple: [{ kind: 'text', text: '2' }] });
    const plain = decodePgoutput(new Bytes().ch('U').i32(1).ch('N').i16(1).text('é😀').buf);
    expect(plain).toEqual({ tag: 'update', relationOid: 1, keyTuple: null, oldTuple: null, newTuple: [{ kind: 'text', text: 'é😀' }] });
    const del = decodePgoutput(new Bytes().ch('D').i32(1).ch('O').i16(1).text('7').buf);
    expect(del).toEqual({ tag: 'delete', relationOid: 1, keyTuple: null, oldTuple: [{ kind: 'text', text: '7' }] });
  });

  it('decodes truncate with its options', () => {
    const t = decodePgoutput(new Bytes().ch('T').i32(2).u8(3).i32(10).i32(11).buf);
    expect(t).toEqual({ tag: 'truncate', relationOids: [10, 11], cascade: true, restartIdentity: true });
  });

  it('rejects a message cut short and an unknown type with a typed error', () => {
    expect(() => decodePgoutput(new Bytes().ch('B').u64(1n).buf)).toThrow(/ended early/);
    expect(() => decodePgoutput(new Bytes().ch('Z').buf)).toThrow(/unknown pgoutput message type Z/);
    // A length field of -1 must not move the reader backwards.
    expect(() => decodePgoutput(new Bytes().ch('I').i32(1).ch('N').i16(1).ch('t').i32(-1).buf)).toThrow(/ended early/);
  });

  it('prints PostgreSQL times in UTC with microseconds', () => {
    expect(pgTimeToIso(0n)).toBe('2000-01-01T00:00:00.000000Z');
    expect(pgTimeToIso(817_550_615_123_456n)).toBe('2025-11-27T09:23:35.123456Z') // PostgreSQL: timestamptz '2000-01-01Z' + 817550615.123456 s;
    expect(pgTimeToIso(-1n)).toBe('1999-12-31T23:59:59.999999Z');
  });

  it('prints any commit time as the exact bigint arithmetic does', () => {
    // The reference: PostgreSQL's µs since 2000 in bigint all the way, as before plain numbers.
    const reference = (micros: bigint): string => {
      const unix = micros + 946_684_800_000_000n;
      let ms = unix / 1000n;
      let us = unix % 1000n;
      if (us < 0n) {
        us += 1000n;
        ms -= 1n;
      }
      return new Date(Number(ms)).toISOString().replace('Z', us.toString().padStart(3, '0') + 'Z');
    };
    const times = fc.oneof(
      fc.bigInt({ min: -(10n ** 15n), max: 10n ** 16n }),
      fc.bigInt({ min: -(2n ** 53n) - 10n, max: -(2n ** 53n) + 10n }),
      fc.bigInt({ min: 2n ** 53n - 946_684_800_000_010n, max: 2n ** 53n }),
      fc.constantFrom(0n, -1n, 999n, 1000n, -1000n, -1001n),
    );
    fc.assert(fc.property(times, (t) => pgTimeToIso(t) === reference(t)), { numRuns: 5000 });
  });
});

/** The encoder PostgreSQL would be for each message of the union (protocol version 1). */
function encode(m: PgoutputMessage): Buffer {
  const tuple = (b: Bytes, t: Tuple): Bytes => {
    b.i16(t.length);
    for (const v of t) {
      if (v.kind === 'text') b.text(v.text);
      else b.ch(v.kind === 'null' ? 'n' : 'u');
    }
    return b;
  };
  const identity: Record<string, string> = { default: 'd', nothing: 'n', full: 'f', index: 'i' };
  const b = new Bytes();
  switch (m.tag) {
    case 'begin':
      return b.ch('B').u64(m.finalLsn).i64(m.commitTime).u32(m.xid).buf;
    case 'commit':
      return b.ch('C').u8(0).u64(m.commitLsn).u64(m.endLsn).i64(m.commitTime).buf;
    case 'origin':
      return b.ch('O').u64(m.lsn).str(m.name).buf;
    case 'relation':
      b.ch('R').u32(m.relationOid).str(m.schema).str(m.table).ch(identity[m.replicaIdentity] as string).i16(m.columns.length);
      for (const c of m.columns) b.u8(c.flags).str(c.name).u32(c.typeOid).i32(c.typeMod);
      return b.buf;
    case 'type':
      return b.ch('Y').u32(m.typeOid).str(m.schema).str(m.name).buf;
    case 'insert':
      return tuple(b.ch('I').u32(m.relationOid).ch('N'), m.newTuple).buf;
    case 'update':
      b.ch('U').u32(m.relationOid);
      if (m.keyTuple) tuple(b.ch('K'), m.keyTuple);
      if (m.oldTuple) tuple(b.ch('O'), m.oldTuple);
      return tuple(b.ch('N'), m.newTuple).buf;
    case 'delete':
      return tuple(b.ch('D').u32(m.relationOid).ch(m.keyTuple ? 'K' : 'O'), m.keyTuple ?? m.oldTuple ?? []).buf;
    case 'truncate':
      b.ch('T').i32(m.relationOids.length).u8((m.cascade ? 1 : 0) | (m.restartIdentity ? 2 : 0));
      for (const oid of m.relationOids) b.u32(oid);
      return b.buf;
    case 'message':
      return b.ch('M').u8(m.transactional ? 1 : 0).u64(m.lsn).str(m.prefix).i32(m.content.length).raw(m.content).buf;
  }
}

const u32 = fc.nat({ max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
/** A C string: any text without NUL. */
const cstr = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));
const tupleArb: fc.Arbitrary<Tuple> = fc.array(
  fc.oneof(fc.constant({ kind: 'null' as const }), fc.constant({ kind: 'unchanged' as const }), fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => ({ kind: 'text' as const, text }))),
  { maxLength: 6 },
);
const messageArb: fc.Arbitrary<PgoutputMessage> = fc.oneof(
  fc.record({ tag: fc.constant('begin' as const), finalLsn: u64, commitTime: i64, xid: u32 }),
  fc.record({ tag: fc.constant('commit' as const), commitLsn: u64, endLsn: u64, commitTime: i64 }),
  fc.record({ tag: fc.constant('origin' as const), lsn: u64, name: cstr }),
  fc.record({
    tag: fc.constant('relation' as const),
    relationOid: u32,
    schema: cstr.filter((s) => s !== ''), // an empty namespace means pg_catalog
    table: cstr,
    replicaIdentity: fc.constantFrom('default', 'nothing', 'full', 'index'),
    columns: fc.array(fc.record({ flags: fc.nat({ max: 255 }), name: cstr, typeOid: u32, typeMod: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }), { maxLength: 5 }),
  }),
  fc.record({ tag: fc.constant('type' as const), typeOid: u32, schema: cstr, name: cstr }),
  fc.record({ tag: fc.constant('insert' as const), relationOid: u32, newTuple: tupleArb }),
  fc.oneof(
    fc.record({ tag: fc.constant('update' as const), relationOid: u32, keyTuple: tupleArb, oldTuple: fc.constant(null), newTuple: tupleArb }),
    fc.record({ tag: fc.constant('update' as const), relationOid: u32, keyTuple: fc.constant(null), oldTuple: fc.option(tupleArb, { nil: null }), newTuple: tupleArb }),
  ),
  fc.oneof(
    fc.record({ tag: fc.constant('delete' as const), relationOid: u32, keyTuple: tupleArb, oldTuple: fc.constant(null) }),
    fc.record({ tag: fc.constant('delete' as const), relationOid: u32, keyTuple: fc.constant(null), oldTuple: tupleArb }),
  ),
  fc.record({ tag: fc.constant('truncate' as const), relationOids: fc.array(u32, { maxLength: 5 }), cascade: fc.boolean(), restartIdentity: fc.boolean() }),
  fc.record({ tag: fc.constant('message' as const), transactional: fc.boolean(), lsn: u64, prefix: cstr, content: fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)) }),
);

/** Decodes, and lets only the decoder's own typed error through. */
function decodeOrMalformed(buf: Buffer): PgoutputMessage | 'malformed' {
  try {
    return decodePgoutput(buf);
  } catch (e) {
    if (e instanceof CdcError && e.code === 'PGOUTPUT_MALFORMED') return 'malformed';
    throw e;
  }
}

describe('pgoutput decoding, fuzzed', () => {
  it('round-trips every message the encoder builds', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(decodePgoutput(encode(m))).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes a message in place, after the bytes that precede it (an XLogData header)', () => {
    fc.assert(
      fc.property(messageArb, fc.uint8Array({ maxLength: 30 }), (m, head) => {
        expect(decodePgoutput(Buffer.concat([Buffer.from(head), encode(m)]), head.length)).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('fails on random bytes with PGOUTPUT_MALFORMED or decodes them, never anything else', () => {
    const tagged = fc.tuple(fc.constantFrom(...'BCORYIUDTM'), fc.uint8Array({ maxLength: 64 })).map(([t, rest]) => Buffer.concat([Buffer.from(t), rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), tagged), (buf) => {
        decodeOrMalformed(buf);
      }),
      { numRuns: 3000 },
    );
  });

  it('fails on a valid message cut short, or with bytes changed, inserted or removed, only with PGOUTPUT_MALFORMED', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
      // A length or count field made huge or negative.
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x7f, 0x80, 0xff) }),
    );
    fc.assert(
      fc.property(messageArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, mutations) => {
        let buf = encode(m);
        for (const mu of mutations) {
          const at = buf.length === 0 ? 0 : mu.at % buf.length;
          if (mu.kind === 'cut') buf = buf.subarray(0, at);
          else if (mu.kind === 'set') buf = Buffer.concat([buf.subarray(0, at), Buffer.from([mu.byte]), buf.subarray(at + 1)]);
          else if (mu.kind === 'insert') buf = Buffer.concat([buf.subarray(0, at), mu.bytes, buf.subarray(at)]);
          else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + mu.count)]);
        }
        decodeOrMalformed(buf);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects every proper prefix of a valid message with PGOUTPUT_MALFORMED', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), (m, at) => {
        const buf = encode(m);
        expect(decodeOrMalformed(buf.subarray(0, at % buf.length))).toBe('malformed');
      }),
      { numRuns: 500 },
    );
  });
});
