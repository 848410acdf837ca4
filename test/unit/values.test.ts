import { describe, expect, it } from 'vitest';
import type { ColumnDef } from '../../compaction/index.js';
import { columnValue, parsePgArray, sqliteType } from '../../sink-sqlite/index.js';

const col = (base: string, elem: string | null = null): ColumnDef => ({ name: 'c', type: base, base, elem });

describe('PostgreSQL text to SQLite values (DESIGN.md mapping)', () => {
  it('keeps 64-bit integers exact', () => {
    expect(columnValue(col('int8'), '9223372036854775807')).toBe(9223372036854775807n);
    expect(columnValue(col('int8'), '-9223372036854775808')).toBe(-9223372036854775808n);
    expect(columnValue(col('int2'), '-32768')).toBe(-32768n);
    expect(columnValue(col('oid'), '4294967295')).toBe(4294967295n);
    expect(sqliteType(col('int8'))).toBe('INTEGER');
  });

  it('maps booleans to 0/1', () => {
    expect(columnValue(col('bool'), 't')).toBe(1n);
    expect(columnValue(col('bool'), 'f')).toBe(0n);
  });

  it('maps floats to REAL with NaN as text', () => {
    expect(columnValue(col('float8'), '1.7976931348623157e+308')).toBe(1.7976931348623157e308);
    expect(columnValue(col('float8'), 'NaN')).toBe('NaN');
    expect(columnValue(col('float8'), '-Infinity')).toBe(-Infinity);
    expect(Object.is(columnValue(col('float8'), '-0'), -0)).toBe(true);
    expect(columnValue(col('float4'), '3.4028235e+38')).toBe(3.4028235e38);
    expect(sqliteType(col('float4'))).toBe('REAL');
  });

  it('keeps numeric, dates and other types as PostgreSQL prints them', () => {
    expect(columnValue(col('numeric'), '12345678901234567890.12345678901234567890')).toBe('12345678901234567890.12345678901234567890');
    expect(columnValue(col('numeric'), 'NaN')).toBe('NaN');
    expect(columnValue(col('timestamp'), '2026-11-22 10:00:00.123456')).toBe('2026-11-22 10:00:00.123456');
    expect(columnValue(col('date'), 'infinity')).toBe('infinity');
    expect(columnValue(col('text'), '')).toBe('');
    expect(columnValue(col('text'), null)).toBe(null);
    expect(sqliteType(col('numeric'))).toBe('TEXT');
  });

  it('writes timestamptz in UTC with Z', () => {
    expect(columnValue(col('timestamptz'), '2026-11-22 10:00:00.123456+00')).toBe('2026-11-22 10:00:00.123456Z');
    expect(columnValue(col('timestamptz'), '0044-03-15 12:00:00+00 BC')).toBe('0044-03-15 12:00:00Z BC');
    expect(columnValue(col('timestamptz'), 'infinity')).toBe('infinity');
  });

  it('maps bytea hex to the exact bytes', () => {
    expect(columnValue(col('bytea'), '\\x00ff0a')).toEqual(Buffer.from([0, 255, 10]));
    expect(columnValue(col('bytea'), '\\x')).toEqual(Buffer.alloc(0));
    expect(sqliteType(col('bytea'))).toBe('BLOB');
  });

  it('maps arrays to JSON: numbers for numeric elements, strings otherwise, null for NULL', () => {
    expect(columnValue(col('_int8', 'int8'), '{1,NULL,9223372036854775807}')).toBe('[1,null,9223372036854775807]');
    expect(columnValue(col('_float8', 'float8'), '{1.5,NaN,-Infinity,1e+20}')).toBe('[1.5,"NaN","-Infinity",1e+20]');
    expect(columnValue(col('_text', 'text'), '{"a \\"q\\"","NULL",NULL,"x,y"}')).toBe('["a \\"q\\"","NULL",null,"x,y"]');
    expect(columnValue(col('_int4', 'int4'), '{{1,2},{3,4}}')).toBe('[[1,2],[3,4]]');
    expect(columnValue(col('_timestamptz', 'timestamptz'), '{"2026-01-01 00:00:00+00"}')).toBe('["2026-01-01 00:00:00Z"]');
    expect(columnValue(col('_int4', 'int4'), '[0:1]={7,8}')).toBe('[7,8]');
    expect(columnValue(col('_int4', 'int4'), '{}')).toBe('[]');
    expect(sqliteType(col('_int4', 'int4'))).toBe('TEXT');
  });

  it('parses array quoting and backslashes exactly', () => {
    expect(parsePgArray('{"back\\\\slash","tab\there",  spaced  }')).toEqual(['back\\slash', 'tab\there', 'spaced']);
    expect(() => parsePgArray('{1,2')).toThrow(/cannot parse/);
  });
});

describe('what SQLite itself does to a REAL', () => {
  it('folds -0.0 to +0.0 in a REAL column, the one float a replica cannot keep (docs/replica.md)', async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (r REAL)');
    db.prepare('INSERT INTO t VALUES (?)').run(-0);
    const { r } = db.prepare('SELECT r FROM t').get() as { r: number };
    db.close();
    expect(Object.is(r, 0)).toBe(true);
  });
});
