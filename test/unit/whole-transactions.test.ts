/**
 * The sink applies units (source transactions) whole across topics, on a real SQLite file: a
 * second connection, as a reader of the replica, never sees part of one, and sees it as soon as
 * its last mark is read. The source side: Delivery ends each unit with one mark per topic.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../../common/index.js';
import {
  decodeEndMark,
  encodeChange,
  encodeKey,
  encodeSchema,
  encodeSchemaKey,
  endMarkRecords,
  formatRecord,
  isEndMark,
  schemaId,
  type AppendRecord,
  type LogRecord,
  type SchemaRecord,
  type TopicLog,
} from '../../compaction/index.js';
import { Applier } from '../../sink-sqlite/apply.js';
import { createReplica } from '../../sink-sqlite/replica.js';
import { WholeTransactions } from '../../sink-sqlite/whole-transactions.js';
import { Delivery } from '../../source-postgres/delivery.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const def = (table: string): SchemaRecord => {
  const base = { schema: 'public', table, topic: `cdc.public.${table}`, columns: [{ name: 'id', type: 'int4', base: 'int4', elem: null }, { name: 'v', type: 'int4', base: 'int4', elem: null }], key: ['id'] };
  return { ...base, id: schemaId(base) };
};
const A = def('a');
const B = def('b');

function setup(format: number | null, strict: boolean | { now: boolean } = true) {
  dir = mkdtempSync(join(tmpdir(), 'cdc-whole-'));
  const path = join(dir, 'r.db');
  const db = createReplica(path, 'unit', 'cdc', 'test');
  const applier = new Applier(db);
  const schemaRecords: LogRecord[] = [A, B].map((s, i) => ({ topic: 'cdc._schemas', offset: BigInt(i), key: encodeSchemaKey(s), value: encodeSchema(s) }));
  if (format !== null) {
    const f = formatRecord('cdc._schemas');
    schemaRecords.push({ topic: 'cdc._schemas', offset: 2n, key: f.key, value: f.value });
  }
  applier.applySchemas({ topic: 'cdc._schemas', records: schemaRecords, nextOffset: BigInt(schemaRecords.length) });
  // A bootstrap that switches to strict commits as it goes while catching up (here every record,
  // as a long one does every BULK_COMMIT_RECORDS).
  const whole = new WholeTransactions(db, applier, {
    strict: () => (typeof strict === 'boolean' ? strict : strict.now),
    followed: (t) => applier.followed(t),
    ...(typeof strict === 'boolean' ? {} : { bulkCommitRecords: 1 }),
  });
  const reader = new Database(path, { readonly: true });
  const offsets = new Map<string, bigint>();
  const feed = (topic: string, ...records: AppendRecord[]): void => {
    let o = offsets.get(topic) ?? 0n;
    const rs = records.map((r) => ({ topic, offset: o++, key: r.key, value: r.value }));
    offsets.set(topic, o);
    whole.take({ topic, records: rs, nextOffset: o });
    whole.settle();
  };
  const rows = (t: string): number[] => (reader.prepare(`SELECT v FROM ${t} ORDER BY id`).all() as { v: number }[]).map((r) => r.v);
  return { whole, feed, rows, close: () => (reader.close(), db.close()) };
}

const row = (s: SchemaRecord, id: number, v: number, lsn = '0/10'): AppendRecord => ({
  topic: s.topic,
  key: encodeKey(['id'], { id: String(id) }),
  value: encodeChange({ op: 'c', schemaId: s.id, after: { id: String(id), v: String(v) }, source: { lsn, txid: '1', commitTime: null, snapshot: false } }),
});
const marks = (lsn: string, topics: Record<string, number>): Map<string, AppendRecord> => new Map(endMarkRecords({ lsn, txid: '1', topics }).map((r) => [r.topic, r]));

describe('WholeTransactions: a unit is applied whole, when its last mark is read', () => {
  it('waits for every topic of a unit, then applies it at once', () => {
    const t = setup(2);
    const m = marks('0/10', { [A.topic]: 1, [B.topic]: 1 });
    t.feed(A.topic, row(A, 1, 1), m.get(A.topic) as AppendRecord);
    expect(t.rows('a')).toEqual([]);
    t.feed(B.topic, row(B, 1, 1));
    expect([t.rows('a'), t.rows('b')]).toEqual([[], []]);
    t.feed(B.topic, m.get(B.topic) as AppendRecord);
    expect([t.rows('a'), t.rows('b')]).toEqual([[1], [1]]);
    t.close();
  });

  it('holds what follows a mark until the unit is whole, so a busy topic cannot delay the commit', () => {
    const t = setup(2);
    const m1 = marks('0/10', { [A.topic]: 1, [B.topic]: 1 });
    const m2 = marks('0/20', { [A.topic]: 1 });
    // A has unit 1 and then unit 2 (A only, still without its mark); B is late with unit 1.
    t.feed(A.topic, row(A, 1, 1), m1.get(A.topic) as AppendRecord, row(A, 1, 2));
    t.feed(B.topic, row(B, 1, 1), m1.get(B.topic) as AppendRecord);
    expect([t.rows('a'), t.rows('b')]).toEqual([[1], [1]]);
    t.feed(A.topic, m2.get(A.topic) as AppendRecord);
    expect(t.rows('a')).toEqual([2]);
    t.close();
  });

  it('commits under a load that never pauses: topics read in turns, every batch ending inside the next unit', () => {
    // Every unit writes to both tables (as a pgbench transaction writes to all of its tables); the
    // consumer hands over A, then B, then A … and no batch ends at a mark. Each unit must become
    // visible once both of its marks are read, though the next unit is always already begun.
    const t = setup(2);
    const lsn = (k: number): string => `0/${(k * 16).toString(16).toUpperCase()}`;
    const m = (k: number): Map<string, AppendRecord> => marks(lsn(k), { [A.topic]: 1, [B.topic]: 1 });
    t.feed(A.topic, row(A, 1, 1, lsn(1)), m(1).get(A.topic) as AppendRecord, row(A, 1, 2, lsn(2)));
    t.feed(B.topic, row(B, 1, 1, lsn(1)), m(1).get(B.topic) as AppendRecord, row(B, 1, 2, lsn(2)));
    expect([t.rows('a'), t.rows('b')]).toEqual([[1], [1]]);
    for (let k = 2; k <= 6; k++) {
      t.feed(A.topic, m(k).get(A.topic) as AppendRecord, row(A, 1, k + 1, lsn(k + 1)));
      expect([t.rows('a'), t.rows('b')]).toEqual([[k - 1], [k - 1]]);
      t.feed(B.topic, m(k).get(B.topic) as AppendRecord, row(B, 1, k + 1, lsn(k + 1)));
      expect([t.rows('a'), t.rows('b')]).toEqual([[k], [k]]);
    }
    t.close();
  });

  it('takes a mark sent again after a restart as complete when the other topics are past it', () => {
    const t = setup(2);
    // As in the WAL: a transaction's rows carry its commit LSN, its marks the end of the commit record.
    const m1 = marks('0/10', { [A.topic]: 1, [B.topic]: 1 });
    t.feed(A.topic, row(A, 1, 1, '0/8'), m1.get(A.topic) as AppendRecord);
    t.feed(B.topic, row(B, 1, 1, '0/8'), m1.get(B.topic) as AppendRecord);
    // cdc start crashed after B's mark and sends the transaction again: only A gets it. The next
    // transaction of A alone is applied: nothing waits for B to pass the mark sent again.
    t.feed(A.topic, row(A, 1, 1, '0/8'), m1.get(A.topic) as AppendRecord);
    t.feed(A.topic, row(A, 1, 2, '0/18'), marks('0/20', { [A.topic]: 1 }).get(A.topic) as AppendRecord);
    expect(t.rows('a')).toEqual([2]);
    t.close();
  });

  it('skips a transaction sent again whole: its delete undoes neither a later insert nor, for a moment, the row', () => {
    const t = setup(2);
    const gone = (s: SchemaRecord, id: number): AppendRecord => ({ topic: s.topic, key: encodeKey(['id'], { id: String(id) }), value: null });
    const only = (lsn: string): AppendRecord => marks(lsn, { [A.topic]: 1 }).get(A.topic) as AppendRecord;
    const t2 = [gone(A, 1), only('0/20')];
    const t3 = [row(A, 1, 3, '0/28'), only('0/30')];
    t.feed(A.topic, row(A, 1, 1, '0/8'), only('0/10'), ...t2, ...t3, row(A, 2, 4, '0/38'), only('0/40'));
    expect(t.rows('a')).toEqual([3, 4]);
    // cdc start crashed before PostgreSQL heard of these and sends them again, one by one.
    t.feed(A.topic, ...t2);
    expect(t.rows('a')).toEqual([3, 4]);
    t.feed(A.topic, ...t3);
    expect(t.rows('a')).toEqual([3, 4]);
    t.close();
  });

  it('a bootstrap that read one topic far ahead, once caught up, commits only when the units it applied in part are whole', () => {
    // While a bootstrap catches up (not strict) it commits batch by batch and reads topics at
    // their own pace: here all of A, then B but for its last unit. Then it is caught up.
    const mode = { now: false };
    const t = setup(2, mode);
    const lsn = (k: number): string => `0/${(k * 16).toString(16).toUpperCase()}`;
    const N = 3000;
    const both = (k: number): Map<string, AppendRecord> => marks(lsn(k), { [A.topic]: 1, [B.topic]: 1 });
    t.feed(A.topic, ...Array.from({ length: N }, (_, i) => [row(A, 1, i + 1, lsn(i + 1)), both(i + 1).get(A.topic) as AppendRecord]).flat());
    t.feed(B.topic, ...Array.from({ length: N - 1 }, (_, i) => [row(B, 1, i + 1, lsn(i + 1)), both(i + 1).get(B.topic) as AppendRecord]).flat());
    expect([t.rows('a'), t.rows('b')]).toEqual([[N], [N - 1]]);
    mode.now = true;
    // A unit of A alone is complete, but unit N is still open in B: nothing more is committed.
    t.feed(A.topic, row(A, 1, N + 1, lsn(N + 1)), marks(lsn(N + 1), { [A.topic]: 1 }).get(A.topic) as AppendRecord);
    expect([t.rows('a'), t.rows('b')]).toEqual([[N], [N - 1]]);
    t.feed(B.topic, row(B, 1, N, lsn(N)), both(N).get(B.topic) as AppendRecord);
    expect([t.rows('a'), t.rows('b')]).toEqual([[N + 1], [N]]);
    t.close();
  });

  it('applies topics of the old format (no format record) batch by batch', () => {
    const t = setup(null);
    t.feed(A.topic, row(A, 1, 1));
    expect(t.rows('a')).toEqual([1]);
    t.close();
  });
});

describe('Delivery: each unit ends with one mark per table topic it wrote', () => {
  it('marks a transaction at its commit and a unit outside one at its flush', async () => {
    const appended: AppendRecord[] = [];
    const log = { append: async (records: readonly AppendRecord[]) => void appended.push(...records) } as unknown as TopicLog;
    const d = new Delivery({ log, logger: silentLogger, onDurable: () => undefined, isTableTopic: (t) => t !== 'cdc._schemas' });
    d.begin();
    await d.add([row(A, 1, 1), row(B, 1, 1), row(A, 2, 1)]);
    await d.appendNow([{ topic: 'cdc._schemas', key: Buffer.from('k'), value: null }]);
    expect(appended.filter((r) => isEndMark(r.key))).toEqual([]);
    d.commit(0x20n, '7');
    await d.flush();
    const ends = appended.filter((r) => isEndMark(r.key));
    expect(ends.map((r) => r.topic)).toEqual([A.topic, B.topic]);
    expect(decodeEndMark(ends[0]?.value ?? null)).toEqual({ lsn: '0/20', txid: '7', topics: { [A.topic]: 2, [B.topic]: 1 } });
    await d.add([row(B, 3, 1)]);
    await d.flush();
    expect(decodeEndMark(appended.at(-1)?.value ?? null)).toEqual({ lsn: '0/20', txid: null, topics: { [B.topic]: 1 } });
  });
});
