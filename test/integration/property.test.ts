/**
 * Property: for random tables of random supported types, random rows and random inserts, updates
 * (including primary-key changes) and deletes, a followed replica and one bootstrapped afterwards
 * equal the source value for value. Each run creates a new table while `cdc start` runs, so table
 * pick-up is exercised too. Expected values come from support/expect-values.ts, not product code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readSource, tableDifferences } from './support/expect-values.js';
import { cleanUp } from './support/clean-up.js';

type Param = string | null | Param[];

const codePoint = fc.integer({ min: 1, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c));
const text = fc.string({ unit: fc.oneof(fc.constantFrom('\t', '\n', '\r', '\\', '"', "'", ',', '{', '}', ' ', 'NULL', '😀', 'é'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), codePoint), maxLength: 12 });
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const timestamp = fc
  .record({ d: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }), us: fc.integer({ min: 0, max: 999_999 }) })
  .map(({ d, us }) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(us, 6)}`);
const float = fc.double().map((x) => (Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : String(x)));

/** Supported types, each with values as texts PostgreSQL accepts (or arrays for array types). */
const TYPES: Record<string, fc.Arbitrary<Param>> = {
  bigint: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String),
  integer: fc.integer().map(String),
  smallint: fc.integer({ min: -32768, max: 32767 }).map(String),
  boolean: fc.boolean().map(String),
  'double precision': float,
  real: fc.float().map((x) => (Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : String(x))),
  numeric: fc.oneof(fc.constant('NaN'), fc.tuple(fc.bigInt(-(10n ** 40n), 10n ** 40n), fc.nat(20)).map(([n, s]) => (s === 0 ? String(n) : `${n}e-${s}`))),
  text,
  'character varying(20)': text,
  bytea: fc.uint8Array({ maxLength: 16 }).map((b) => `\\x${Buffer.from(b).toString('hex')}`),
  date: fc.oneof(fc.constantFrom('infinity', '-infinity', '0044-03-15 BC'), timestamp.map((t) => t.slice(0, 10))),
  'timestamp without time zone': fc.oneof(fc.constant('infinity'), timestamp),
  'timestamp with time zone': fc.oneof(fc.constant('-infinity'), fc.tuple(timestamp, fc.integer({ min: -12, max: 14 })).map(([t, z]) => `${t}${z < 0 ? '-' : '+'}${pad(Math.abs(z))}`)),
  interval: fc.tuple(fc.integer({ min: -100, max: 100 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1e9, max: 1e9 })).map(([y, d, us]) => `${y} years ${d} days ${us} microseconds`),
  uuid: fc.uuid(),
  json: fc.json().filter((j) => !j.includes('\\u0000')),
  jsonb: fc.json().filter((j) => !j.includes('\\u0000')),
  mood: fc.constantFrom('happy', 'so sad', 'x,y'),
  'text[]': fc.array(fc.option(text), { maxLength: 4 }),
  'bigint[]': fc.integer({ min: 1, max: 3 }).chain((w) => fc.array(fc.array(fc.option(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String)), { minLength: w, maxLength: w }), { maxLength: 3 })),
  'double precision[]': fc.array(fc.option(float), { maxLength: 4 }),
};
const TYPE_NAMES = Object.keys(TYPES);

interface TableCase {
  columns: string[];
  compositeKey: boolean;
}

const tableCase: fc.Arbitrary<TableCase> = fc.record({ columns: fc.uniqueArray(fc.constantFrom(...TYPE_NAMES), { minLength: 1, maxLength: 8 }), compositeKey: fc.boolean() });

type Op = { kind: 'insert' } | { kind: 'update'; pick: number; column: number } | { kind: 'delete'; pick: number } | { kind: 'rekey'; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: 'insert' as const }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), column: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('rekey' as const), pick: fc.nat() }),
);

describe('random rows of random types', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];
  const prefix = uniqueName('pr');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const tables: string[] = [];

  beforeAll(async () => {
    db = await createDatabase('property');
    dir = mkdtempSync(join(tmpdir(), 'cdc-property-'));
    await sql(db.url, `CREATE TYPE mood AS ENUM ('happy', 'so sad', 'x,y')`);
    const source = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--table-poll-ms', '300']);
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);
    running.push(runCli(['bootstrap', 'followed', '--log', kafka, '--replica', join(dir, 'followed.db'), '--topic-prefix', prefix, '--follow']));
  });

  afterAll(() => cleanUp({ running, db, dir }));

  const converged = async (table: string, path: string): Promise<void> => {
    const diffs = async (): Promise<string[]> => {
      try {
        return tableDifferences(await readSource(db.url, 'public', table), path, table);
      } catch (e) {
        return [(e as Error).message];
      }
    };
    await waitFor(async () => ((await diffs()).length === 0 ? true : undefined), { timeoutMs: 30_000, what: `replica of ${table}` }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await diffs()).slice(0, 10).join('\n')}`);
    });
  };

  it('a followed replica equals the source after random writes', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await fc.assert(
        fc.asyncProperty(tableCase, fc.array(op, { minLength: 5, maxLength: 30 }), fc.infiniteStream(fc.tuple(...TYPE_NAMES.map((t) => TYPES[t] as fc.Arbitrary<Param>))), fc.infiniteStream(text), async (tc, ops, values, keys) => {
          const table = `prop_${tables.length}`;
          tables.push(table);
          const cols = tc.columns.map((t, i) => ({ name: `c${i} ${t}`, type: t }));
          const q = (n: string): string => `"${n.replace(/"/g, '""')}"`;
          const keyCols = tc.compositeKey ? ['id', 'k'] : ['id'];
          await client.query(
            `CREATE TABLE ${table} (id bigint, k text NOT NULL, ${cols.map((c) => `${q(c.name)} ${c.type}`).join(', ')}, PRIMARY KEY (${keyCols.join(', ')}))`,
          );
          const valueIter = values[Symbol.iterator]();
          const keyIter = keys[Symbol.iterator]();
          const next = (col: number): Param => (valueIter.next().value as Param[])[TYPE_NAMES.indexOf(cols[col]?.type as string)] ?? null;
          const live: { id: number; k: string }[] = [];
          let nextId = 1;
          const insert = async (): Promise<void> => {
            const row = { id: nextId++, k: keyIter.next().value as string };
            await client.query(`INSERT INTO ${table} VALUES ($1, $2, ${cols.map((c, i) => `$${i + 3}::${c.type}`).join(', ')})`, [row.id, row.k, ...cols.map((_, i) => next(i))]);
            live.push(row);
          };
          for (let i = 0; i < 5; i++) await insert();
          for (const o of ops) {
            if (o.kind === 'insert' || live.length === 0) {
              await insert();
              continue;
            }
            const at = o.pick % live.length;
            const row = live[at] as { id: number; k: string };
            if (o.kind === 'update') {
              const c = o.column % cols.length;
              await client.query(`UPDATE ${table} SET ${q(cols[c]?.name as string)} = $3::${cols[c]?.type} WHERE id = $1 AND k = $2`, [row.id, row.k, next(c)]);
            } else if (o.kind === 'delete') {
              await client.query(`DELETE FROM ${table} WHERE id = $1 AND k = $2`, [row.id, row.k]);
              live.splice(at, 1);
            } else {
              const id = nextId++;
              await client.query(`UPDATE ${table} SET id = $3 WHERE id = $1 AND k = $2`, [row.id, row.k, id]);
              row.id = id;
            }
          }
          await converged(table, join(dir, 'followed.db'));
        }),
        { numRuns: 10, endOnFailure: true },
      );
    } finally {
      await client.end();
    }
  });

  it('a replica bootstrapped afterwards equals the source too', async () => {
    const fresh = join(dir, 'fresh.db');
    const result = await runCliToEnd(['bootstrap', 'fresh', '--log', kafka, '--replica', fresh, '--topic-prefix', prefix], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(tables.length).toBeGreaterThan(0);
    for (const t of tables) expect(tableDifferences(await readSource(db.url, 'public', t), fresh, t)).toEqual([]);
  });
});
