/**
 * The records of a table's rows, written by code prepared once per table definition: the JSON of a
 * key and of a value is concatenated straight from the decoded tuple, with every column name
 * escaped once, instead of building an object per row and handing it to JSON.stringify. This is
 * the source's per-row work (issue 13), so it is kept to one string and one Buffer per part.
 *
 * The bytes are exactly those of compaction/codec.ts's encodeKey and encodeChange over the row
 * objects the change mapper used to build (test/unit/row-encoder.test.ts compares them), including
 * JavaScript's property order, which puts names that are array indices ("0", "17") first, in
 * ascending order, before the others in column order.
 *
 * A tuple with an unchanged TOAST value, or of a table with stored generated columns, needs values
 * read from PostgreSQL: the mapper takes its general path for those rows (`value` returns null).
 */
import type { ChangeOp, SourcePosition } from '../compaction/index.js';
import type { ColumnTransform } from './capture-rules.js';
import type { Tuple } from './pgoutput.js';

/** What the encoder needs of a table definition. */
export interface EncoderTable {
  readonly id: string;
  /** The key columns, in key order. */
  readonly key: readonly string[];
  /** The columns pgoutput sends, in tuple order. */
  readonly columns: readonly { readonly name: string }[];
  /** Each column's capture rule, in tuple order (null: the table has no rules). */
  readonly rules: readonly ColumnTransform[] | null;
  /** Whether values must be computed by PostgreSQL (stored generated columns). */
  readonly computed: boolean;
}

/** Whether a property name is an array index, which JavaScript orders before the other names. */
function isArrayIndex(name: string): boolean {
  return /^(?:0|[1-9][0-9]*)$/.test(name) && Number(name) < 2 ** 32 - 1;
}

/** Positions in the order JavaScript would list properties added in the given order. */
function propertyOrder(names: readonly string[]): number[] {
  const at = names.map((_, i) => i);
  const indices = at.filter((i) => isArrayIndex(names[i] as string)).sort((a, b) => Number(names[a]) - Number(names[b]));
  return [...indices, ...at.filter((i) => !isArrayIndex(names[i] as string))];
}

/** One column of the value: where it is in the tuple, its `"name":` text, how it is masked. */
interface ValueColumn {
  readonly at: number;
  readonly label: string;
  readonly mask: ((value: string | null) => string | null) | null;
}

/** What JSON.stringify escapes in a string: quotes, backslashes, control characters, lone surrogates. */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A JSON string or null, as JSON.stringify writes it. Most values (numbers, dates, words) need no
 * escape, and testing for one is cheaper than JSON.stringify's copy (a surrogate pair takes the
 * slow path too, which escapes nothing of it: the same bytes either way).
 */
const json = (v: string | null): string => (v === null ? 'null' : ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`);

export class RowEncoder {
  private readonly keyAt: readonly number[];
  private readonly keyLabels: readonly string[];
  private readonly valueColumns: readonly ValueColumn[];
  private readonly heads: Record<ChangeOp, string>;
  /** The last source position and its JSON: every row of a transaction shares one. */
  private lastSource: SourcePosition | null = null;
  private lastTail = '';

  constructor(private readonly table: EncoderTable) {
    const names = table.columns.map((c) => c.name);
    const keyOrder = propertyOrder(table.key);
    this.keyAt = keyOrder.map((k) => names.indexOf(table.key[k] as string));
    this.keyLabels = keyOrder.map((k, i) => `${i === 0 ? '' : ','}${JSON.stringify(table.key[k])}:`);
    const kept = propertyOrder(names).filter((i) => table.rules?.[i]?.kind !== 'exclude');
    this.valueColumns = kept.map((at, i) => {
      const rule = table.rules?.[at];
      return { at, label: `${i === 0 ? '' : ','}${JSON.stringify(names[at])}:`, mask: rule?.kind === 'mask' ? rule.apply : null };
    });
    const head = (op: ChangeOp): string => `{"op":${JSON.stringify(op)},"schema_id":${JSON.stringify(table.id)},"after":{`;
    this.heads = { r: head('r'), c: head('c'), u: head('u') };
  }

  /**
   * The key's JSON. A key column that is NULL or unchanged in the tuple is null, as in an old
   * tuple of key columns only, where the other columns are NULL.
   */
  key(tuple: Tuple): string {
    let s = '{';
    for (let i = 0; i < this.keyAt.length; i++) {
      const v = tuple[this.keyAt[i] as number];
      s += (this.keyLabels[i] as string) + json(v !== undefined && v.kind === 'text' ? v.text : null);
    }
    return s + '}';
  }

  /** The value's JSON, or null when the row needs values read from PostgreSQL (see the top). */
  value(op: ChangeOp, tuple: Tuple, source: SourcePosition): string | null {
    if (this.table.computed || tuple.length !== this.table.columns.length) return null;
    for (let i = 0; i < tuple.length; i++) if ((tuple[i] as Tuple[number]).kind === 'unchanged') return null;
    let s = this.heads[op];
    for (let i = 0; i < this.valueColumns.length; i++) {
      const c = this.valueColumns[i] as ValueColumn;
      const v = tuple[c.at] as Tuple[number];
      const text = v.kind === 'text' ? v.text : null;
      s += c.label + (c.mask === null ? json(text) : json(c.mask(text)));
    }
    return s + this.tail(source);
  }

  private tail(source: SourcePosition): string {
    const last = this.lastSource;
    if (last === null || last.lsn !== source.lsn || last.txid !== source.txid || last.commitTime !== source.commitTime || last.snapshot !== source.snapshot) {
      this.lastSource = source;
      this.lastTail = `},"source":{"lsn":${json(source.lsn)},"txid":${json(source.txid)},"commit_time":${json(source.commitTime)},"snapshot":${source.snapshot}}}`;
    }
    return this.lastTail;
  }
}
