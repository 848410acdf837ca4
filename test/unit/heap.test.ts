/** cdc start's heap growing factor (cli/heap.ts): set once, unless the operator gave one to Node. */
import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth, limitSinkHeapGrowth } from '../../cli/heap.js';

describe('limitHeapGrowth', () => {
  afterEach(() => vi.restoreAllMocks());

  it('sets the heap growing factor of V8', () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    limitHeapGrowth([]);
    expect(set).toHaveBeenCalledWith(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });

  it('leaves a factor given to Node as it is', () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    limitHeapGrowth(['--heap-growing-percent=300']);
    expect(set).not.toHaveBeenCalled();
  });

  it('sets it for a sink reading from Kafka, not from the embedded log', () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    limitSinkHeapGrowth({ kind: 'dir' }, []);
    expect(set).not.toHaveBeenCalled();
    limitSinkHeapGrowth({ kind: 'kafka' }, []);
    expect(set).toHaveBeenCalledWith(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });
});
