import { describe, expect, it } from 'vitest';
import { decodePgoutput, pgTimeToIso } from '../../source-postgres/index.js';

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
  });

  it('prints PostgreSQL times in UTC with microseconds', () => {
    expect(pgTimeToIso(0n)).toBe('2000-01-01T00:00:00.000000Z');
    expect(pgTimeToIso(817_550_615_123_456n)).toBe('2025-11-27T09:23:35.123456Z') // PostgreSQL: timestamptz '2000-01-01Z' + 817550615.123456 s;
    expect(pgTimeToIso(-1n)).toBe('1999-12-31T23:59:59.999999Z');
  });
});
