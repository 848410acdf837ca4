/**
 * The sink's side of schema changes, on a real SQLite file and no services: a replica table
 * follows each definition (added, dropped and retyped columns, a new key, a drop record), and a
 * row record written under an older definition is applied through the newer one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSchemaEvent,
  encodeChange,
  encodeDrop,
  encodeDropKey,
  encodeKey,
  encodeSchema,
  encodeSchemaKey,
  schemaId,
  type ColumnDef,
  type LogRecord,
  type SchemaRecord,
} from '../../compaction/index.js';
import { Applier, UnknownSchemaError } from '../../sink-sqlite/apply.js';
import { createReplica, openReplica, type ReplicaDb } from '../../sink-sqlite/replica.js';

const TOPIC = 'cdc.s.t';
const col = (name: string, base: string): ColumnDef => ({ name, type: base, base, elem: null });
const def = (columns: ColumnDef[], key: string[]): SchemaRecord => {
  const base = { schema: 's', table: 't', topic: TOPIC, columns, key };
  return { ...base, id: schemaId(base) };
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function setup(): { db: ReplicaDb; applier: Applier; schemas: (...records: (SchemaRecord | 'drop')[]) => void; data: (...records: { schema: SchemaRecord; row?: Record<string, string | null>; key?: Record<string, string> }[]) => void } {
  dir = mkdtempSync(join(tmpdir(), 'cdc-apply-'));
  const db = createReplica(join(dir, 'r.db'), 'unit', 'cdc', 'test');
  const applier = new Applier(db);
  let schemaOffset = 0n;
  let dataOffset = 0n;
  return {
    db,
    applier,
    schemas: (...records) => {
      const rs: LogRecord[] = records.map((r) => {
        const drop = { schema: 's', table: 't', topic: TOPIC };
        return r === 'drop'
          ? { topic: 'cdc._schemas', offset: schemaOffset++, key: encodeDropKey(drop), value: encodeDrop(drop) }
          : { topic: 'cdc._schemas', offset: schemaOffset++, key: encodeSchemaKey(r), value: encodeSchema(r) };
      });
      applier.applySchemas({ topic: 'cdc._schemas', records: rs, nextOffset: schemaOffset });
    },
    data: (...records) => {
      const rs: LogRecord[] = records.map(({ schema, row, key }) => ({
        topic: TOPIC,
        offset: dataOffset++,
        key: encodeKey(key ? Object.keys(key) : schema.key, key ?? row ?? {}),
        value: row ? encodeChange({ op: 'c', schemaId: schema.id, after: row, source: { lsn: '0/1', txid: '1', commitTime: null, snapshot: false } }) : null,
      }));
      applier.applyData({ topic: TOPIC, records: rs, nextOffset: dataOffset });
    },
  };
}

const columns = (db: ReplicaDb): string[] => (db.prepare(`SELECT name || ' ' || type || (CASE WHEN pk > 0 THEN ' pk' ELSE '' END) AS c FROM pragma_table_info('s.t')`).all() as { c: string }[]).map((r) => r.c);
const rows = (db: ReplicaDb): unknown[] => db.prepare('SELECT * FROM "s.t" ORDER BY 1, rowid').all();

describe('a replica table follows its definitions', () => {
  it('adds and drops columns, and applies records of an older definition through the new one', () => {
    const { db, schemas, data } = setup();
    const v1 = def([col('id', 'int8'), col('a', 'text'), col('b', 'text')], ['id']);
    const v2 = def([col('id', 'int8'), col('a', 'text'), col('c', 'int4')], ['id']);
    schemas(v1);
    data({ schema: v1, row: { id: '1', a: 'x', b: 'gone' } });
    schemas(v2);
    expect(columns(db)).toEqual(['id INTEGER pk', 'a TEXT', 'c INTEGER']);
    // A record under v1 read after v2 is known (the sink reads definitions ahead of rows).
    data({ schema: v1, row: { id: '2', a: 'y', b: 'gone' } }, { schema: v2, row: { id: '3', a: 'z', c: '7' } });
    expect(rows(db)).toEqual([
      { id: 1n, a: 'x', c: null },
      { id: 2n, a: 'y', c: null },
      { id: 3n, a: 'z', c: 7n },
    ]);
    db.close();
  });

  it('rebuilds the table for a retyped column or another key, keeping common values', () => {
    const { db, schemas, data } = setup();
    const v1 = def([col('id', 'int8'), col('a', 'int4')], ['id']);
    const v2 = def([col('id', 'int8'), col('a', 'numeric')], ['a', 'id']);
    schemas(v1);
    data({ schema: v1, row: { id: '1', a: '5' } }, { schema: v1, row: { id: '2', a: '6' } });
    schemas(v2);
    expect(columns(db)).toEqual(['id INTEGER pk', 'a TEXT pk']);
    expect(rows(db)).toEqual([
      { id: 1n, a: '5' },
      { id: 2n, a: '6' },
    ]);
    // An old-key tombstone deletes by the columns it names; a new-key record upserts by the new key.
    data({ schema: v2, key: { id: '1' } }, { schema: v2, row: { id: '2', a: '6.5' } });
    expect(rows(db)).toEqual([
      { id: 2n, a: '6' },
      { id: 2n, a: '6.5' },
    ]);
    db.close();
  });

  it('drops the table on a drop record, ignores its topic then, and creates it again on a new definition', () => {
    const { db, schemas, data } = setup();
    const v1 = def([col('id', 'int8')], ['id']);
    schemas(v1);
    data({ schema: v1, row: { id: '1' } });
    schemas('drop');
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 's.t'`).get()).toEqual({ n: 0n });
    data({ schema: v1, key: { id: '1' } });
    schemas(v1);
    data({ schema: v1, row: { id: '9' } });
    expect(rows(db)).toEqual([{ id: 9n }]);
    db.close();
  });

  it('a row for a dropped table (its table made again, the definition not read yet) is never skipped: the sink must reload the definitions', () => {
    const { db, applier, schemas, data } = setup();
    const v1 = def([col('id', 'int8')], ['id']);
    schemas(v1);
    data({ schema: v1, row: { id: '1' } });
    schemas('drop');
    const before = applier.offsets().get(TOPIC);
    // The new table's first row arrives before its definition in the schema topic.
    expect(() => data({ schema: v1, row: { id: '2' } })).toThrow(UnknownSchemaError);
    expect(applier.offsets().get(TOPIC)).toBe(before);
    db.close();
  });

  it('a change streamed again after a restart, older than what the replica shows, does not take a row back in time', () => {
    const { db, applier, schemas } = setup();
    const v1 = def([col('id', 'int8'), col('n', 'int8')], ['id']);
    schemas(v1);
    let offset = 100n;
    const put = (n: string, lsn: string, snapshot = false): void => {
      const value = encodeChange({ op: snapshot ? 'r' : 'u', schemaId: v1.id, after: { id: '1', n }, source: { lsn, txid: snapshot ? null : '1', commitTime: null, snapshot } });
      applier.applyData({ topic: TOPIC, records: [{ topic: TOPIC, offset, key: encodeKey(['id'], { id: '1' }), value }], nextOffset: ++offset });
    };
    put('1', '0/10');
    put('2', '0/20');
    put('1', '0/10'); // streamed again
    expect(rows(db)).toEqual([{ id: 1n, n: 2n }]);
    put('2', '0/20'); // the same transaction again: unchanged either way
    put('3', '0/30');
    expect(rows(db)).toEqual([{ id: 1n, n: 3n }]);
    // A snapshot read (a new slot may start anywhere) is the table at its position.
    put('7', '0/5', true);
    put('8', '0/8');
    expect(rows(db)).toEqual([{ id: 1n, n: 8n }]);
    // The position survives a restart of the sink.
    const path = db.name;
    db.close();
    const reopened = openReplica(path, 'unit', 'cdc');
    const again = new Applier(reopened);
    const value = encodeChange({ op: 'u', schemaId: v1.id, after: { id: '1', n: '6' }, source: { lsn: '0/6', txid: '1', commitTime: null, snapshot: false } });
    again.applyData({ topic: TOPIC, records: [{ topic: TOPIC, offset, key: encodeKey(['id'], { id: '1' }), value }], nextOffset: offset + 1n });
    expect(rows(reopened)).toEqual([{ id: 1n, n: 8n }]);
    reopened.close();
  });

  it('decodes drop records and definitions from the schema topic', () => {
    const drop = { schema: 'a.b', table: 'c "d"', topic: 'cdc.a-2eb.c-20-22d-22' };
    expect(decodeSchemaEvent(encodeDrop(drop))).toEqual({ kind: 'drop', drop });
    const v = def([col('id', 'int8')], ['id']);
    expect(decodeSchemaEvent(encodeSchema(v))).toEqual({ kind: 'define', record: v });
    expect(encodeDropKey(drop).toString()).toBe('{"schema":"a.b","table":"c \\"d\\"","drop":true}');
  });
});
