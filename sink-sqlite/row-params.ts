/**
 * A row's upsert parameters, straight from the record's values: the columns' definitions and
 * value mappers are resolved once per statement (definition written with × table), so applying a
 * row costs one look-up and one mapping per column, and one array — the one SQLite binds.
 */
import type { ColumnDef, RowValues } from '../compaction/index.js';
import { valueMapper, type SqliteValue, type ValueMapper } from './values.js';

/** The parameters of one row, in the statement's column order. */
export type RowParams = (after: RowValues) => SqliteValue[];

/** Prepares the parameters of a statement binding `columns` (as the record's definition has them). */
export function rowParams(columns: readonly ColumnDef[]): RowParams {
  const names = columns.map((c) => c.name);
  const mappers: ValueMapper[] = columns.map(valueMapper);
  const n = names.length;
  return (after) => {
    const out = new Array<SqliteValue>(n);
    for (let i = 0; i < n; i++) {
      const text = after[names[i] as string];
      // A column the record lacks (written under an older definition) is NULL, as before — one
      // named like a property every object inherits (`constructor`, `toString`) too: reading it
      // gave the inherited function, which the mapper then took for the column's text.
      out[i] = typeof text === 'string' ? (mappers[i] as ValueMapper)(text) : null;
    }
    return out;
  };
}
