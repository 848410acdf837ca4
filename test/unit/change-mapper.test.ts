import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { decodeChange, decodeKey, decodeSchema, schemaTopic, type AppendRecord, type SourcePosition } from '../../compaction/index.js';
import { ChangeMapper, type SkipReason } from '../../source-postgres/changes.js';
import type { PgoutputMessage, Tuple } from '../../source-postgres/index.js';

/** A table of the fake catalog: its name, key and columns (type oid by name). */
interface FakeTable {
  readonly schema: string;
  readonly table: string;
  readonly key: readonly string[];
  readonly columns: readonly { name: string; typeOid: number }[];
}

const TYPES: Record<number, { typname: string; display: string }> = { 20: { typname: 'int8', display: 'bigint' }, 25: { typname: 'text', display: 'text' } };

/**
 * The catalog queries ChangeMapper makes, answered from `tables` by what each query selects; any
 * other query (a read of unchanged TOAST values) goes to `rowQuery`.
 */
function fakeCatalog(tables: Map<number, FakeTable>, rowQuery: (sql: string, values: unknown[]) => unknown[][] = () => []): { client: pg.Client } {
  const query = (q: string | { text: string; values?: unknown[] }, params?: unknown[]): Promise<{ rows: unknown[] }> => {
    const sql = typeof q === 'string' ? q : q.text;
    const values = (typeof q === 'string' ? params : q.values) ?? [];
    const t = tables.get(Number(values[0]));
    let rows: unknown[];
    if (sql.includes('relispartition::text AS partition')) rows = t ? [{ schema: t.schema, table: t.table, kind: 'r', partition: 'false' }] : [];
    else if (sql.includes('json_agg')) rows = t && t.key.length > 0 ? [{ key: JSON.stringify(t.key) }] : [{ key: null }];
    else if (sql.includes('pg_attrdef')) rows = (t?.columns ?? []).map((c, i) => ({ name: c.name, num: String(i + 1), oid: String(c.typeOid), mod: '-1', expr: null }));
    else if (sql.includes('format_type')) rows = [{ t: TYPES[Number(values[0])]?.display ?? 'unknown' }];
    else if (sql.includes('FROM pg_type')) {
      const typ = TYPES[Number(values[0])];
      rows = typ ? [{ oid: String(values[0]), typname: typ.typname, typtype: 'b', typbasetype: '0', typelem: '0', typcategory: 'N' }] : [];
    } else rows = rowQuery(sql, values);
    return Promise.resolve({ rows });
  };
  return { client: { query } as unknown as pg.Client };
}

const ITEMS: FakeTable = { schema: 'shop', table: 'items', key: ['id'], columns: [{ name: 'id', typeOid: 20 }, { name: 'name', typeOid: 25 }, { name: 'body', typeOid: 25 }] };
const SOURCE: SourcePosition = { lsn: '0/16B3748', txid: '750', commitTime: '2026-12-07T00:00:00.000001Z', snapshot: false };

function relation(oid: number, t: FakeTable): Extract<PgoutputMessage, { tag: 'relation' }> {
  return { tag: 'relation', relationOid: oid, schema: t.schema, table: t.table, replicaIdentity: 'default', columns: t.columns.map((c) => ({ flags: t.key.includes(c.name) ? 1 : 0, name: c.name, typeOid: c.typeOid, typeMod: -1 })) };
}

const text = (...values: (string | null)[]): Tuple => values.map((v) => (v === null ? { kind: 'null' } : { kind: 'text', text: v }));

/** A record as [topic, key, value]: the decoded key, and the change (op and row) or null for a tombstone. */
function show(r: AppendRecord): [string, unknown, unknown] {
  const value = r.value === null ? null : decodeChange(r.value);
  return [r.topic, decodeKey(r.key), value && { op: value.op, after: value.after, source: value.source }];
}

function mapperWith(tables: Map<number, FakeTable>, rowQuery?: (sql: string, values: unknown[]) => unknown[][]): { mapper: ChangeMapper; skips: [SkipReason, number][] } {
  const { client } = fakeCatalog(tables, rowQuery);
  const skips: [SkipReason, number][] = [];
  const mapper = new ChangeMapper(client, 'cdc', (reason, oid) => skips.push([reason, oid]));
  return { mapper, skips };
}

describe('ChangeMapper', () => {
  it('writes a table definition to the schema topic once, and again only when it changes', async () => {
    const tables = new Map([[16384, ITEMS]]);
    const { mapper } = mapperWith(tables);
    const first = await mapper.relation(relation(16384, ITEMS));
    expect(first?.topic).toBe(schemaTopic('cdc'));
    const schema = decodeSchema(first?.value as Buffer);
    expect(schema).toMatchObject({
      schema: 'shop',
      table: 'items',
      topic: 'cdc.shop.items',
      key: ['id'],
      columns: [
        { name: 'id', type: 'bigint', base: 'int8', elem: null },
        { name: 'name', type: 'text', base: 'text', elem: null },
        { name: 'body', type: 'text', base: 'text', elem: null },
      ],
    });
    expect(await mapper.relation(relation(16384, ITEMS))).toBeNull();

    const added: FakeTable = { ...ITEMS, columns: [...ITEMS.columns, { name: 'qty', typeOid: 20 }] };
    tables.set(16384, added);
    const second = await mapper.relation(relation(16384, added));
    expect(decodeSchema(second?.value as Buffer).columns.map((c) => c.name)).toEqual(['id', 'name', 'body', 'qty']);
    expect(decodeSchema(second?.value as Buffer).id).not.toBe(schema.id);
  });

  it('maps an insert to the full row keyed by its key, NULLs kept', async () => {
    const { mapper } = mapperWith(new Map([[16384, ITEMS]]));
    await mapper.relation(relation(16384, ITEMS));
    const out = await mapper.insert({ tag: 'insert', relationOid: 16384, newTuple: text('1', 'pen', null) }, SOURCE);
    expect(out.map(show)).toEqual([['cdc.shop.items', { id: '1' }, { op: 'c', after: { id: '1', name: 'pen', body: null }, source: SOURCE }]]);
  });

  it('maps an update to the new row, and one that changes the key to a tombstone for the old key first', async () => {
    const { mapper } = mapperWith(new Map([[16384, ITEMS]]));
    await mapper.relation(relation(16384, ITEMS));
    const same = await mapper.update({ tag: 'update', relationOid: 16384, keyTuple: null, oldTuple: null, newTuple: text('1', 'pencil', 'x') }, SOURCE);
    expect(same.map(show)).toEqual([['cdc.shop.items', { id: '1' }, { op: 'u', after: { id: '1', name: 'pencil', body: 'x' }, source: SOURCE }]]);
    // REPLICA IDENTITY FULL sends the whole old row; an unchanged key makes no tombstone.
    const full = await mapper.update({ tag: 'update', relationOid: 16384, keyTuple: null, oldTuple: text('1', 'pen', 'x'), newTuple: text('1', 'pencil', 'x') }, SOURCE);
    expect(full.map(show)).toEqual(same.map(show));

    const moved = await mapper.update({ tag: 'update', relationOid: 16384, keyTuple: text('1', null, null), oldTuple: null, newTuple: text('2', 'pencil', 'x') }, SOURCE);
    expect(moved.map(show)).toEqual([
      ['cdc.shop.items', { id: '1' }, null],
      ['cdc.shop.items', { id: '2' }, { op: 'u', after: { id: '2', name: 'pencil', body: 'x' }, source: SOURCE }],
    ]);
  });

  it('maps a delete to a tombstone of the key, from the key tuple or the full old row', async () => {
    const { mapper } = mapperWith(new Map([[16384, ITEMS]]));
    await mapper.relation(relation(16384, ITEMS));
    const byKey = await mapper.delete({ tag: 'delete', relationOid: 16384, keyTuple: text('7', null, null), oldTuple: null });
    const byRow = await mapper.delete({ tag: 'delete', relationOid: 16384, keyTuple: null, oldTuple: text('7', 'pen', 'x') });
    expect(byKey.map(show)).toEqual([['cdc.shop.items', { id: '7' }, null]]);
    expect(byRow.map(show)).toEqual(byKey.map(show));
  });

  it('gives the same records synchronously (changeNow) when nothing must be read from PostgreSQL, and sends the rest to the general path', async () => {
    const { mapper } = mapperWith(new Map([[16384, ITEMS], [16385, { ...ITEMS, table: 'log', key: [] }]]), () => [['a long body']]);
    const insert = { tag: 'insert' as const, relationOid: 16384, newTuple: text('1', 'pen', null) };
    expect(mapper.changeNow(insert, SOURCE)).toBeUndefined(); // before its definition: the general path refuses it
    await mapper.relation(relation(16384, ITEMS));
    await mapper.relation(relation(16385, { ...ITEMS, table: 'log', key: [] }));
    const changes = [
      insert,
      { tag: 'update' as const, relationOid: 16384, keyTuple: text('1', null, null), oldTuple: null, newTuple: text('2', 'pencil', 'x') },
      { tag: 'update' as const, relationOid: 16384, keyTuple: null, oldTuple: null, newTuple: text('2', 'pencil', 'y') },
      { tag: 'delete' as const, relationOid: 16384, keyTuple: null, oldTuple: text('2', 'pencil', 'y') },
      { tag: 'delete' as const, relationOid: 16384, keyTuple: null, oldTuple: null },
    ];
    for (const m of changes) {
      const general = m.tag === 'insert' ? await mapper.insert(m, SOURCE) : m.tag === 'update' ? await mapper.update(m, SOURCE) : await mapper.delete(m);
      expect(mapper.changeNow(m, SOURCE)).toEqual(general);
    }
    // A keyless table's changes are left out either way; an unchanged TOAST value needs a read.
    expect(mapper.changeNow({ ...insert, relationOid: 16385 }, SOURCE)).toEqual([]);
    expect(mapper.changeNow({ tag: 'update', relationOid: 16384, keyTuple: null, oldTuple: null, newTuple: [{ kind: 'text', text: '3' }, { kind: 'text', text: 'pen' }, { kind: 'unchanged' }] }, SOURCE)).toBeUndefined();
  });

  it('reads unchanged TOAST values back from the source by key, so the record holds the full row', async () => {
    const reads: unknown[][] = [];
    const { mapper } = mapperWith(new Map([[16384, ITEMS]]), (sql, values) => {
      reads.push([sql, values]);
      return [['a long body']];
    });
    await mapper.relation(relation(16384, ITEMS));
    const out = await mapper.update({ tag: 'update', relationOid: 16384, keyTuple: null, oldTuple: null, newTuple: [{ kind: 'text', text: '3' }, { kind: 'text', text: 'pen' }, { kind: 'unchanged' }] }, SOURCE);
    expect(out.map(show)).toEqual([['cdc.shop.items', { id: '3' }, { op: 'u', after: { id: '3', name: 'pen', body: 'a long body' }, source: SOURCE }]]);
    expect(reads).toEqual([['SELECT "body" FROM ONLY "shop"."items" WHERE "id" = $1', ['3']]]);
  });

  it('leaves out the changes of a keyless table, reporting it once, and refuses a change before its definition', async () => {
    const keyless: FakeTable = { ...ITEMS, table: 'log', key: [] };
    const { mapper, skips } = mapperWith(new Map([[16385, keyless]]));
    expect(await mapper.relation(relation(16385, keyless))).toBeNull();
    expect(await mapper.relation(relation(16385, keyless))).toBeNull();
    expect(skips).toEqual([['keyless', 16385]]);
    expect(await mapper.insert({ tag: 'insert', relationOid: 16385, newTuple: text('1', 'a', 'b') }, SOURCE)).toEqual([]);
    expect(await mapper.delete({ tag: 'delete', relationOid: 16385, keyTuple: null, oldTuple: text('1', 'a', 'b') })).toEqual([]);

    await expect(mapper.insert({ tag: 'insert', relationOid: 99, newTuple: text('1') }, SOURCE)).rejects.toMatchObject({ code: 'RELATION_UNKNOWN' });
  });

  it('sends the changes of a renamed table, once its topic was dropped, to the topic of its new name', async () => {
    const tables = new Map([[16384, ITEMS]]);
    const { mapper } = mapperWith(tables);
    await mapper.relation(relation(16384, ITEMS));
    tables.set(16384, { ...ITEMS, table: 'products' });
    mapper.forgetTopic('cdc.shop.items');
    expect(await mapper.topicOf(16384)).toBe('cdc.shop.products');
    const out = await mapper.insert({ tag: 'insert', relationOid: 16384, newTuple: text('1', 'pen', null) }, SOURCE);
    expect(out.map((r) => r.topic)).toEqual(['cdc.shop.products']);
  });
});
