import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../common/index.js';

describe('MinHeap', () => {
  it('pops in order whatever the order of pushes, duplicates included', () => {
    const h = new MinHeap<bigint>((a, b) => a < b);
    const values = Array.from({ length: 500 }, (_, i) => BigInt((i * 7919) % 211));
    for (const v of values) h.push(v);
    expect(h.size).toBe(500);
    const out: bigint[] = [];
    for (let v = h.pop(); v !== undefined; v = h.pop()) out.push(v);
    expect(out).toEqual([...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(h.peek()).toBeUndefined();
  });

  it('keeps its order when pushes and pops interleave', () => {
    const h = new MinHeap<number>((a, b) => a < b);
    const model: number[] = [];
    for (let i = 0; i < 2000; i++) {
      if (i % 3 === 2) {
        model.sort((a, b) => a - b);
        expect(h.pop()).toBe(model.shift());
      } else {
        const v = (i * 104729) % 997;
        h.push(v);
        model.push(v);
      }
    }
  });
});
