import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeChange, decodeKey, decodeSchema, encodeChange, encodeKey, encodeSchema, parseLogLocation, schemaId, tableTopic } from '../../compaction/index.js';

describe('record codec', () => {
  it('encodes keys deterministically in key order, whatever the row order', () => {
    const a = encodeKey(['b', 'a'], { a: '1', b: 'x', c: 'ignored' });
    const b = encodeKey(['b', 'a'], { c: 'other', b: 'x', a: '1' });
    expect(a.equals(b)).toBe(true);
    expect(a.toString()).toBe('{"b":"x","a":"1"}');
    expect(decodeKey(a)).toEqual({ b: 'x', a: '1' });
  });

  it('round-trips change values of any text', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.option(fc.string(), { nil: null })), fc.constantFrom('r', 'c', 'u' as const), (after, op) => {
        const value = { op, schemaId: 'abc', after, source: { lsn: '0/1', txid: '5', commitTime: '2026-01-01T00:00:00.000001Z', snapshot: false } };
        expect(decodeChange(encodeChange(value))).toEqual(value);
      }),
    );
  });

  it('gives equal definitions equal ids and round-trips them', () => {
    const def = { schema: 'public', table: 't', topic: 'cdc.public.t', key: ['id'], columns: [{ name: 'id', type: 'bigint', base: 'int8', elem: null }] };
    const id = schemaId(def);
    expect(schemaId({ ...def })).toBe(id);
    expect(schemaId({ ...def, key: ['x'] })).not.toBe(id);
    expect(decodeSchema(encodeSchema({ ...def, id }))).toEqual({ ...def, id });
  });

  it('rejects records that are not in the cdc format', () => {
    expect(() => decodeChange(Buffer.from('not json'))).toThrow(/not JSON/);
    expect(() => decodeChange(Buffer.from('{"op":"x"}'))).toThrow(/unknown op/);
  });
});

describe('topic names', () => {
  it('keeps ordinary names and escapes what Kafka does not allow', () => {
    expect(tableTopic('cdc', 'public', 'order_items')).toBe('cdc.public.order_items');
    expect(tableTopic('cdc', 'My Schema', 'a.b-c')).toBe('cdc.My-20Schema.a-2eb-2dc');
    expect(tableTopic('cdc', 'public', 'é')).toBe('cdc.public.-c3-a9');
  });

  it('never maps two tables to one topic', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (s1, t1, s2, t2) => {
        fc.pre(s1 !== s2 || t1 !== t2);
        expect(tableTopic('p', s1, t1)).not.toBe(tableTopic('p', s2, t2));
      }),
    );
  });
});

describe('--log locations', () => {
  it('parses Kafka broker lists and directories', () => {
    expect(parseLogLocation('kafka://a:9092,b:9093')).toEqual({ kind: 'kafka', brokers: ['a:9092', 'b:9093'] });
    expect(parseLogLocation('./cdc-data')).toEqual({ kind: 'dir', path: './cdc-data' });
  });

  it('rejects unknown schemes and bad broker addresses with exit code 2', () => {
    expect(() => parseLogLocation('s3://bucket')).toThrow(/unknown log scheme "s3:\/\/"/);
    expect(() => parseLogLocation('kafka://nohostport')).toThrow(/not host:port/);
    expect(() => parseLogLocation('s3://x')).toThrow(expect.objectContaining({ exitCode: 2, code: 'LOG_SCHEME_UNKNOWN' }));
  });
});

describe('a column named __proto__', () => {
  it('is a key column like any other (an assignment would set the prototype and drop it from the key)', () => {
    const row = Object.fromEntries([['__proto__', '1'], ['b', 'x']]) as Record<string, string | null>;
    expect(encodeKey(['__proto__', 'b'], row).toString()).toBe('{"__proto__":"1","b":"x"}');
  });
});
