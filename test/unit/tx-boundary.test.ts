import { describe, expect, it } from 'vitest';
import { encodeChange, type LogRecord } from '../../compaction/index.js';
import { TxBoundary } from '../../sink-sqlite/tx-boundary.js';

const topic = 'cdc.public.t';

function rec(offset: number, txid: string | null, value = true): LogRecord {
  return {
    topic,
    offset: BigInt(offset),
    key: Buffer.from(`{"id":"${offset}"}`),
    value: value
      ? encodeChange({ op: txid === null ? 'r' : 'u', schemaId: 's', after: { id: String(offset) }, source: { lsn: '0/1', txid, commitTime: null, snapshot: txid === null } })
      : null,
  };
}

const offsets = (rs: readonly LogRecord[] | undefined): number[] => (rs ?? []).map((r) => Number(r.offset));

describe('TxBoundary: a source transaction is applied whole within a topic', () => {
  it('holds the trailing transaction of a batch until the next batch shows it ended', () => {
    const b = new TxBoundary();
    const first = b.take({ topic, records: [rec(0, '10'), rec(1, '10'), rec(2, '11'), rec(3, '11')], nextOffset: 4n });
    expect(offsets(first?.records)).toEqual([0, 1]);
    expect(first?.nextOffset).toBe(2n);
    const second = b.take({ topic, records: [rec(4, '11'), rec(5, '12')], nextOffset: 6n });
    expect(offsets(second?.records)).toEqual([2, 3, 4]);
    expect(second?.nextOffset).toBe(5n);
    expect(offsets(b.release(topic, 6n)?.records)).toEqual([5]);
  });

  it('holds tombstones at the end, which may belong to the last transaction', () => {
    const b = new TxBoundary();
    const out = b.take({ topic, records: [rec(0, '10'), rec(1, '11'), rec(2, null, false)], nextOffset: 3n });
    expect(offsets(out?.records)).toEqual([0]);
    expect(b.holds(topic)).toBe(true);
  });

  it('applies a batch that is all one transaction only once the transaction ends', () => {
    const b = new TxBoundary();
    expect(b.take({ topic, records: [rec(0, '10'), rec(1, '10')], nextOffset: 2n })).toBeUndefined();
    expect(offsets(b.take({ topic, records: [rec(2, '11')], nextOffset: 3n })?.records)).toEqual([0, 1]);
  });

  it('never holds snapshot rows, which belong to no transaction', () => {
    const b = new TxBoundary();
    const out = b.take({ topic, records: [rec(0, null), rec(1, null), rec(2, null)], nextOffset: 3n });
    expect(offsets(out?.records)).toEqual([0, 1, 2]);
    expect(out?.nextOffset).toBe(3n);
    expect(b.holds(topic)).toBe(false);
  });

  it('holds a transaction that spans many batches (and tombstones among them) whole, then applies it whole', () => {
    const b = new TxBoundary();
    expect(b.take({ topic, records: [rec(0, '10'), rec(1, '10')], nextOffset: 2n })).toBeUndefined();
    expect(b.take({ topic, records: [rec(2, '10'), rec(3, '10', false)], nextOffset: 4n })).toBeUndefined();
    expect(b.take({ topic, records: [rec(4, '10', false)], nextOffset: 5n })).toBeUndefined();
    expect(b.take({ topic, records: [rec(5, '10')], nextOffset: 6n })).toBeUndefined();
    const out = b.take({ topic, records: [rec(6, '11'), rec(7, '11')], nextOffset: 8n });
    expect(offsets(out?.records)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(out?.nextOffset).toBe(6n);
    expect(offsets(b.release(topic, 8n)?.records)).toEqual([6, 7]);
  });
});
