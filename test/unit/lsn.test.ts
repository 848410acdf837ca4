/** LSN text: PostgreSQL's `X/Y`, from and to the bigint that travels inside `cdc`. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from '../../common/index.js';

describe('LSNs', () => {
  it('print as PostgreSQL prints them, and parse back, over the whole 64 bits', () => {
    const lsns = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 1n, 0xffffffffn, 2n ** 32n, 2n ** 64n - 1n, 0x16b374d848n));
    // The reference: both halves printed as bigints.
    const reference = (lsn: bigint): string => `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
    fc.assert(fc.property(lsns, (lsn) => formatLsn(lsn) === reference(lsn) && parseLsn(formatLsn(lsn)) === lsn), { numRuns: 5000 });
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
  });
});
