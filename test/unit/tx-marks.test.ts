/** End marks (compaction/tx-marks.ts): the value written out by hand is JSON.stringify's, byte for byte. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEndMark, endMarkRecords, END_MARK_KEY } from '../../compaction/index.js';

describe('end marks', () => {
  it('carry the bytes of JSON.stringify of the mark, one record per topic, and decode back', () => {
    const topicsArb = fc.dictionary(fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.constantFrom('cdc.public.t', '7', '0', 'a"b', 'x\\y', '\u0001', '__proto__')), fc.nat({ max: 1_000_000 }), { minKeys: 1, maxKeys: 5 });
    const markArb = fc.record({ lsn: fc.constantFrom('0/0', '16/B374D848'), txid: fc.option(fc.nat().map(String), { nil: null }), topics: topicsArb });
    fc.assert(
      fc.property(markArb, (mark) => {
        const records = endMarkRecords(mark);
        expect(records.map((r) => r.topic)).toEqual(Object.keys(mark.topics));
        for (const r of records) {
          expect(r.key.equals(END_MARK_KEY)).toBe(true);
          expect(r.value?.toString('utf8')).toBe(JSON.stringify({ op: 'end', lsn: mark.lsn, txid: mark.txid, topics: mark.topics }));
          expect(decodeEndMark(r.value)).toEqual(mark);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
