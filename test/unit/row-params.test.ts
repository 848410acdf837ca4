/** A row's upsert parameters from a decoded record (sink-sqlite/row-params.ts). */
import { describe, expect, it } from 'vitest';
import type { ColumnDef } from '../../compaction/index.js';
import { rowParams } from '../../sink-sqlite/row-params.js';

const col = (name: string, base = 'text'): ColumnDef => ({ name, type: base, base, elem: null });

describe('rowParams', () => {
  it('maps each column by its type, in the statement order', () => {
    expect(rowParams([col('id', 'int8'), col('name'), col('ok', 'bool')])({ id: '7', name: 'x', ok: 't' })).toEqual([7n, 'x', 1n]);
  });

  it('gives NULL for a column the record lacks, also one named like a property every object inherits', () => {
    // Written under an older definition: the record has none of these columns.
    const params = rowParams([col('constructor'), col('toString'), col('__proto__'), col('hasOwnProperty', 'int8')])({ id: '1' });
    expect(params).toEqual([null, null, null, null]);
  });
});
