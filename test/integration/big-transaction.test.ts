/**
 * A transaction of 2,000,000 rows across three tables is applied whole with bounded memory: the
 * sink streams it into one SQLite transaction instead of holding it. Fed to the sink's
 * WholeTransactions in fetch-sized batches, as the log delivers them (no services needed; it is
 * here rather than in the unit project because it takes a while).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeChange, encodeKey, encodeSchema, encodeSchemaKey, endMarkRecords, formatRecord, schemaId, type LogRecord, type SchemaRecord } from '../../compaction/index.js';
import { Applier } from '../../sink-sqlite/apply.js';
import { createReplica } from '../../sink-sqlite/replica.js';
import { WholeTransactions } from '../../sink-sqlite/whole-transactions.js';

const dir = mkdtempSync(join(tmpdir(), 'cdc-big-tx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 2_000_000;
const BATCH = 5000;

const def = (table: string): SchemaRecord => {
  const base = {
    schema: 'public',
    table,
    topic: `cdc.public.${table}`,
    columns: [
      { name: 'id', type: 'bigint', base: 'int8', elem: null },
      { name: 'note', type: 'text', base: 'text', elem: null },
    ],
    key: ['id'],
  };
  return { ...base, id: schemaId(base) };
};

describe('a 2,000,000-row transaction over three tables', () => {
  it('is applied whole, with the sink process under 300 MB', async () => {
    const tables = [def('a'), def('b'), def('c')];
    const path = join(dir, 'r.db');
    const db = createReplica(path, 'big', 'cdc', 'test');
    const applier = new Applier(db);
    const f = formatRecord('cdc._schemas');
    const schemaRecords: LogRecord[] = [...tables.map((s) => ({ key: encodeSchemaKey(s), value: encodeSchema(s) })), f].map((r, i) => ({ topic: 'cdc._schemas', offset: BigInt(i), key: r.key, value: r.value }));
    applier.applySchemas({ topic: 'cdc._schemas', records: schemaRecords, nextOffset: BigInt(schemaRecords.length) });
    const whole = new WholeTransactions(db, applier, { strict: () => true, followed: (t) => applier.followed(t) });
    const reader = new Database(path, { readonly: true });
    const visible = (): number => tables.reduce((n, t) => n + (reader.prepare(`SELECT count(*) AS n FROM ${t.table}`).get() as { n: number }).n, 0);

    let peak = process.memoryUsage().rss;
    const offsets = [0n, 0n, 0n];
    const counts: Record<string, number> = {};
    const source = { lsn: '0/5000', txid: '900', commitTime: '2026-12-06T21:00:00.000000Z', snapshot: false };
    for (let start = 0; start < ROWS; start += BATCH) {
      const i = (start / BATCH) % 3;
      const t = tables[i] as SchemaRecord;
      const records: LogRecord[] = [];
      let offset = offsets[i] as bigint;
      for (let id = start; id < Math.min(ROWS, start + BATCH); id++) {
        const after = { id: String(id), note: `row ${id} of a transaction much larger than any batch` };
        records.push({ topic: t.topic, offset: offset++, key: encodeKey(['id'], after), value: encodeChange({ op: 'c', schemaId: t.id, after, source }) });
      }
      offsets[i] = offset;
      counts[t.topic] = (counts[t.topic] ?? 0) + records.length;
      whole.take({ topic: t.topic, records, nextOffset: offsets[i] as bigint });
      // Nothing commits before the marks (the first records are held, the rest streamed in).
      whole.settle();
      if (start % (BATCH * 40) === 0) expect(visible()).toBe(0);
      peak = Math.max(peak, process.memoryUsage().rss);
      // Let vitest's worker talk to its parent: the loop is synchronous, as the sink's apply is.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // As pgoutput has them: the rows carry the commit record's LSN, the marks the end of that record.
    const marks = endMarkRecords({ lsn: '0/5030', txid: '900', topics: counts });
    marks.forEach((m, n) => {
      const i = tables.findIndex((t) => t.topic === m.topic);
      const offset = offsets[i] as bigint;
      offsets[i] = offset + 1n;
      whole.take({ topic: m.topic, records: [{ topic: m.topic, offset, key: m.key, value: m.value }], nextOffset: offset + 1n });
      // Whole only with the last topic's mark.
      expect(whole.settle()).toBe(n === marks.length - 1);
      if (n < marks.length - 1) expect(visible()).toBe(0);
    });
    expect(visible()).toBe(ROWS);
    const mb = Math.round(peak / 2 ** 20);
    process.stderr.write(`2M-row transaction: peak RSS ${mb} MB (the test process, vitest included)\n`);
    expect(mb).toBeLessThanOrEqual(300);
    reader.close();
    db.close();
  }, 600_000);
});
