import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UpsertRun } from '../../sink-sqlite/upsert-run.js';
import type { SqliteValue } from '../../sink-sqlite/values.js';

// Rows bound several to a statement (upsert-run.ts) against the same rows upserted one run() each:
// the table must end the same, whatever the keys repeat, however the rows are split by flushes.

const TABLE = 'CREATE TABLE t (k INTEGER NOT NULL, j TEXT NOT NULL, v TEXT, n REAL, PRIMARY KEY (k, j))';
const COLUMNS = '(k, j, v, n)';
const CONFLICT = 'ON CONFLICT (k, j) DO UPDATE SET v = excluded.v, n = excluded.n';

type Op = { add: SqliteValue[] } | { flush: true } | { delete: [number, string] };

const row = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom('a', 'b'), fc.option(fc.string({ maxLength: 4 })), fc.option(fc.double({ noNaN: true })));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: row.map((r) => ({ add: [...r] })) },
  { weight: 1, arbitrary: fc.constant({ flush: true as const }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom('a', 'b')).map((k) => ({ delete: k })) },
);

function table(): Database.Database {
  const db = new Database(':memory:');
  db.exec(TABLE);
  return db;
}

function contents(db: Database.Database): unknown[] {
  return db.prepare('SELECT * FROM t ORDER BY k, j').all();
}

describe('UpsertRun', () => {
  it('leaves the table as one upsert per row would, for any rows, repeats, deletes and flushes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const one = table();
        const grouped = table();
        const single = one.prepare(`INSERT INTO t ${COLUMNS} VALUES (?, ?, ?, ?) ${CONFLICT}`);
        const run = new UpsertRun(grouped, (values) => `INSERT INTO t ${COLUMNS} VALUES ${values} ${CONFLICT}`, 4);
        const del = (db: Database.Database, k: [number, string]): void => void db.prepare('DELETE FROM t WHERE k = ? AND j = ?').run(k);
        for (const o of ops) {
          if ('add' in o) {
            single.run(o.add);
            run.add(o.add);
          } else if ('flush' in o) {
            run.flush();
          } else {
            // A delete goes to the table after the rows queued before it, as the applier does.
            run.flush();
            del(one, o.delete);
            del(grouped, o.delete);
          }
        }
        run.flush();
        expect(contents(grouped)).toEqual(contents(one));
      }),
      { numRuns: 300 },
    );
  });

  it('writes nothing of what it held when cleared', () => {
    const db = table();
    const run = new UpsertRun(db, (values) => `INSERT INTO t ${COLUMNS} VALUES ${values} ${CONFLICT}`, 4);
    for (let k = 0; k < 40; k++) run.add([k, 'a', 'x', 1]);
    run.clear();
    run.flush();
    // The first 32 were a full group, written as they came; the 8 after it were dropped.
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(32);
  });

  it('binds no more rows to a statement than SQLite takes parameters', () => {
    const db = new Database(':memory:');
    const width = 2000;
    const names = Array.from({ length: width }, (_, i) => `c${i}`);
    db.exec(`CREATE TABLE w (${names.map((n) => `${n} INTEGER`).join(', ')}, PRIMARY KEY (c0))`);
    const run = new UpsertRun(db, (values) => `INSERT INTO w VALUES ${values} ON CONFLICT (c0) DO NOTHING`, width);
    for (let k = 0; k < 37; k++) run.add(Array.from({ length: width }, (_, i) => (i === 0 ? k : i)));
    run.flush();
    expect((db.prepare('SELECT count(*) AS n FROM w').get() as { n: number }).n).toBe(37);
  });
});
