/**
 * A record's value decoded once per sink, however many times it is looked at. TxBoundary reads the
 * transaction id of every record it may hold, and reads a held tail again with each new batch;
 * Applier then needs the whole change. Parsing the JSON each time made a bootstrap of one large
 * transaction quadratic (docs/benchmarks.md: 60% of its time in JSON.parse before this cache).
 */
import { decodeChange, type ChangeValue } from '../compaction/index.js';

// Keyed by the value's Buffer, which lives exactly as long as its record: nothing to evict.
const cache = new WeakMap<Buffer, ChangeValue>();

/** `decodeChange(value)`, memoized on the Buffer (a malformed value throws every time, uncached). */
export function decodedChange(value: Buffer): ChangeValue {
  let change = cache.get(value);
  if (change === undefined) {
    change = decodeChange(value);
    cache.set(value, change);
  }
  return change;
}
