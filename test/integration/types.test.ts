/**
 * Every type of DESIGN.md's value table, with its edge values, through both paths a value takes
 * into the log (the snapshot's SELECT and the walsender's pgoutput) and both ways a replica is made
 * (followed while the changes happen, bootstrapped afterwards from offset zero). The expected
 * SQLite value of each cell is derived from PostgreSQL's text by the test's own code
 * (support/expect-values.ts); a few are also spelled out literally. Unchanged TOAST values too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, tableDifferences } from './support/expect-values.js';
import { latestByKey, liveRows } from './support/topic.js';
import { cleanUp } from './support/clean-up.js';

/** column → [its type, its edge values as SQL literals] */
const EDGES: Record<string, [string, string[]]> = {
  i2: ['smallint', ['-32768', '32767', '0']],
  i4: ['integer', ['-2147483648', '2147483647']],
  i8: ['bigint', ['-9223372036854775808', '9223372036854775807', '-1']],
  o: ['oid', ['0', '4294967295']],
  b: ['boolean', ['true', 'false']],
  f4: ['real', ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", '1.1', '3.4028235e38', "'1.4e-45'", '0.1']],
  f8: ['double precision', ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'5e-324'", "'2.2250738585072014e-308'", '0.1', '1.7976931348623157e308', '-123.456']],
  num: ['numeric', ["'1234567890123456789012345678901234567890'", "'-0.0000000000000000000000000000000000000001'", "'NaN'", "'Infinity'", "'-Infinity'", "'1.50'"]],
  dec: ['numeric(40,10)', ["'123456789012345678901234567890.0123456789'", '0']],
  m: ['money', ["'-92233720368547758.08'", "'92233720368547758.07'", "'0'", "'1234.5'"]],
  t: ['text', ["''", "E'tab\\there'", "E'new\\nline\\r\\n'", "E'back\\\\slash'", "'😀 emoji'", "'quote''s \"dq\"'", "'NULL'", "E'\\\\x00'"]],
  vc: ['character varying(8)', ["'ab'", "''"]],
  ch: ['character(5)', ["'ab'"]],
  nm: ['name', ["'a name'"]],
  by: ['bytea', ["'\\x00'", "'\\x0001ff00'", "'\\x'", "'\\xdeadbeef'"]],
  d: ['date', ["'infinity'", "'-infinity'", "'0044-03-15 BC'", "'2026-11-22'", "'4713-01-01 BC'", "'5874897-12-31'"]],
  ts: ['timestamp without time zone', ["'2026-11-22 10:00:00.123456'", "'infinity'", "'-infinity'", "'0044-03-15 12:00:00 BC'", "'2000-01-01 00:00:00.000001'"]],
  tz: ['timestamp with time zone', ["'2026-11-22 10:00:00.123456+05:30'", "'2026-06-01 12:00:00 America/New_York'", "'infinity'", "'-infinity'", "'0044-03-15 12:00:00+00 BC'", "'1900-01-01 00:00:00.999999-08'"]],
  tm: ['time without time zone', ["'23:59:59.999999'", "'24:00:00'", "'00:00:00'"]],
  ttz: ['time with time zone', ["'12:00:00.5+05:30'", "'00:00:00-14'"]],
  iv: ['interval', ["'1 year 2 mons 3 days 04:05:06.789'", "'-1 days'", "'1000000 hours'", "'-00:00:00.000001'"]],
  u: ['uuid', ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"]],
  js: ['json', ['\'{"b":1,   "a":[1, 2], "b":2}\'', "'[]'", "'\"str\"'"]],
  jb: ['jsonb', ['\'{"b":1,   "a":[1, 2]}\'', "'1e400'"]],
  ip: ['inet', ["'192.168.0.1/24'", "'::1'"]],
  cidr: ['cidr', ["'10.0.0.0/8'"]],
  mac: ['macaddr', ["'08:00:2b:01:02:03'"]],
  e: ['mood', ["'happy'", "'so sad'"]],
  ia: ['integer[]', ["'{1,NULL,3}'", "'{{1,2},{3,4}}'", "'{}'", "'{{{1}},{{2}}}'"]],
  ba: ['bigint[]', ["'{-9223372036854775808,9223372036854775807}'"]],
  ta: ['text[]', ['\'{"a\\"b","NULL",NULL,"c,d","  sp","back\\\\slash","{}"}\'', '\'{{"x","y"},{"z",NULL}}\'', "ARRAY['😀', E'tab\\there', '']"]],
  fa: ['double precision[]', ["'{NaN,Infinity,-Infinity,-0,1.5,5e-324}'"]],
  na: ['numeric[]', ["'{1.50,NaN,12345678901234567890.1234567890}'"]],
  tza: ['timestamp with time zone[]', ["ARRAY['2026-11-22 10:00:00.123456+05:30'::timestamptz, 'infinity', NULL]"]],
  boa: ['boolean[]', ["'{t,f,NULL}'"]],
  bya: ['bytea[]', ["ARRAY['\\x00'::bytea, '\\xff']"]],
  ea: ['mood[]', ["'{happy,\"so sad\"}'"]],
  bit: ['bit(4)', ["B'1010'"]],
  vb: ['bit varying', ["B''", "B'1'"]],
  x: ['xml', ["'<a b=\"1\">x &amp; y</a>'"]],
  r: ['int4range', ["'[1,10)'", "'empty'"]],
  tsr: ['tstzrange', ["'[2026-01-01 00:00+02,infinity)'"]],
  tsv: ['tsvector', ["'a fat cat'"]],
  dm: ['posint', ['9223372036854775807']],
  pt: ['point', ["'(1.5,-0)'"]],
};

const ROWS = Math.max(...Object.values(EDGES).map(([, v]) => v.length));
const PRELUDE = `CREATE TYPE mood AS ENUM ('happy', 'so sad'); CREATE DOMAIN posint AS bigint CHECK (VALUE > 0);`;

function createTable(name: string): string {
  return `CREATE TABLE ${name} (id int PRIMARY KEY, ${Object.entries(EDGES).map(([c, [t]]) => `${c} ${t}`).join(', ')})`;
}

/** One row per edge index (NULL where a type has fewer edge values), plus an all-NULL row. */
function insertRows(name: string): string {
  const rows = [];
  for (let i = 0; i < ROWS; i++) rows.push(`(${i}, ${Object.values(EDGES).map(([t, v]) => (v[i] === undefined ? 'NULL' : `(${v[i]})::${t}`)).join(', ')})`);
  rows.push(`(${ROWS}, ${Object.keys(EDGES).map(() => 'NULL').join(', ')})`);
  return `INSERT INTO ${name} VALUES ${rows.join(',\n')}`;
}

describe('every value exact', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];
  const prefix = uniqueName('ty');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;

  beforeAll(async () => {
    db = await createDatabase('types');
    dir = mkdtempSync(join(tmpdir(), 'cdc-types-'));
    await sql(db.url, `${PRELUDE} ${createTable('snapshot_path')}; ${createTable('stream_path')};
      CREATE TABLE toasty (id int PRIMARY KEY, big text, n int);
      ${insertRows('snapshot_path')}`);
  });

  afterAll(() => cleanUp({ running, db, dir }));

  const diffs = async (replica: string, table: string): Promise<string[]> => tableDifferences(await readSource(db.url, 'public', table), replica, table);

  it('writes each type exactly into the log and into followed and bootstrapped replicas, by snapshot and by stream', async () => {
    const source = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix]);
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);
    const followed = join(dir, 'followed.db');
    running.push(runCli(['bootstrap', 'followed', '--log', kafka, '--replica', followed, '--topic-prefix', prefix, '--follow']));
    await sql(db.url, insertRows('stream_path'));
    // Every value also goes through an UPDATE of another column (pgoutput's new tuple).
    await sql(db.url, 'UPDATE stream_path SET i2 = i2 WHERE id % 2 = 0');

    for (const table of ['snapshot_path', 'stream_path']) {
      await waitFor(async () => ((await diffs(followed, table).catch((e: Error) => [e.message])).length === 0 ? true : undefined), {
        timeoutMs: 60_000,
        what: `followed replica of ${table}`,
      }).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${(await diffs(followed, table)).slice(0, 20).join('\n')}`);
      });
    }

    // What cdc start wrote: each row's `after` is PostgreSQL's text, the same on both paths.
    const src = await readSource(db.url, 'public', 'stream_path');
    for (const table of ['snapshot_path', 'stream_path']) {
      const rows = liveRows(await latestByKey(`${prefix}.public.${table}`));
      expect(rows.size).toBe(ROWS + 1);
      for (const [, texts] of src.rows) {
        const after = rows.get(JSON.stringify({ id: texts[0] }));
        expect(after, `${table} id ${texts[0]}`).toEqual(Object.fromEntries(src.columns.map((c, i) => [c.name, texts[i]])));
      }
    }

    const later = join(dir, 'later.db');
    const result = await runCliToEnd(['bootstrap', 'later', '--log', kafka, '--replica', later, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    for (const table of ['snapshot_path', 'stream_path']) expect(await diffs(later, table)).toEqual([]);

    // A few values spelled out, so the rules above are pinned down as well as derived.
    const replica = new Database(later, { readonly: true });
    replica.defaultSafeIntegers(true);
    const cell = (id: number, col: string): unknown => (replica.prepare(`SELECT ${col} AS v FROM stream_path WHERE id = ?`).get(id) as { v: unknown }).v;
    const types = (col: string): string => (replica.prepare(`SELECT type FROM pragma_table_info('stream_path') WHERE name = ?`).get(col) as { type: string }).type;
    try {
      expect(cell(1, 'i8')).toBe(9223372036854775807n);
      expect(cell(0, 'i8')).toBe(-9223372036854775808n);
      expect(cell(0, 'num')).toBe('1234567890123456789012345678901234567890');
      expect(cell(2, 'num')).toBe('NaN');
      expect(cell(0, 'f8')).toBe('NaN');
      expect(cell(1, 'f8')).toBe(Infinity);
      expect(cell(4, 'f8')).toBe(5e-324);
      expect(cell(4, 'f4')).toBe(1.1);
      expect(cell(0, 'tz')).toBe('2026-11-22 04:30:00.123456Z');
      expect(cell(1, 'tz')).toBe('2026-06-01 16:00:00Z');
      expect(cell(4, 'tz')).toBe('0044-03-15 12:00:00Z BC');
      expect(cell(2, 'd')).toBe('0044-03-15 BC');
      expect(cell(0, 'ts')).toBe('2026-11-22 10:00:00.123456');
      expect(cell(0, 't')).toBe('');
      expect(cell(ROWS, 't')).toBe(null);
      expect(cell(3, 't')).toBe('back\\slash');
      expect(cell(1, 'by')).toEqual(Buffer.from([0, 1, 255, 0]));
      expect(cell(0, 'js')).toBe('{"b":1,   "a":[1, 2], "b":2}');
      expect(cell(0, 'jb')).toBe('{"a": [1, 2], "b": 1}');
      expect(cell(0, 'm')).toBe('-$92,233,720,368,547,758.08');
      expect(cell(0, 'ia')).toBe('[1,null,3]');
      expect(cell(1, 'ia')).toBe('[[1,2],[3,4]]');
      expect(cell(0, 'ta')).toBe('["a\\"b","NULL",null,"c,d","  sp","back\\\\slash","{}"]');
      expect(cell(0, 'fa')).toBe('["NaN","Infinity","-Infinity",-0,1.5,5e-324]');
      expect(cell(0, 'tza')).toBe('["2026-11-22 04:30:00.123456Z","infinity",null]');
      expect(cell(0, 'b')).toBe(1n);
      expect(cell(1, 'e')).toBe('so sad');
      expect([types('i8'), types('f4'), types('by'), types('num'), types('dm'), types('ia')]).toEqual(['INTEGER', 'REAL', 'BLOB', 'TEXT', 'INTEGER', 'TEXT']);
    } finally {
      replica.close();
    }
  });

  it('keeps an unchanged TOAST value through an UPDATE of another column', async () => {
    // md5 chains do not compress: the value is stored out of line, and pgoutput sends it as
    // "unchanged" when an UPDATE does not touch it.
    const big = `(SELECT string_agg(md5(g::text || $1), '') FROM generate_series(1, 400) g)`;
    await sql(db.url, `INSERT INTO toasty SELECT g, ${big.replace('$1', "'x' || g")}, 0 FROM generate_series(1, 3) g`);
    await sql(db.url, `UPDATE toasty SET n = n + 1`);
    await sql(db.url, `UPDATE toasty SET n = n + 1 WHERE id = 2`);
    const followed = join(dir, 'followed.db');
    await waitFor(async () => ((await diffs(followed, 'toasty').catch((e: Error) => [e.message])).length === 0 ? true : undefined), { timeoutMs: 60_000, what: 'followed replica of toasty' }).catch(
      async (e: Error) => {
        throw new Error(`${e.message}\n${(await diffs(followed, 'toasty')).slice(0, 5).join('\n').slice(0, 2000)}`);
      },
    );
    const [row] = await sql<{ n: number }>(db.url, 'SELECT length(big) AS n FROM toasty WHERE id = 2');
    expect(row?.n).toBe(12800);
    // The topic's latest record of each key holds the whole row.
    const rows = liveRows(await latestByKey(`${prefix}.public.toasty`));
    for (const r of rows.values()) expect(r['big']?.length).toBe(12800);
    const fresh = join(dir, 'toast-fresh.db');
    const result = await runCliToEnd(['bootstrap', 'fresh', '--log', kafka, '--replica', fresh, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(await diffs(fresh, 'toasty')).toEqual([]);
  });
});
