/**
 * What of each table leaves the database: columns excluded, columns masked, rows filtered. Built
 * once from the options; the change mapper applies it to every definition and row, snapshot and
 * stream alike, so an excluded column is never in a schema record or a value, and a masked one only
 * masked.
 *
 * A definition shaped by rules gets an id that also covers the rules (and the mask key's
 * fingerprint): when they change, the table's definition id changes, and `cdc start` reads the
 * table again (tables.ts), rewriting every key under the new rules.
 */
import { createHash } from 'node:crypto';
import { CdcError, ConfigError } from '../common/index.js';
import type { ColumnDef, RowValues } from '../compaction/index.js';
import type { ColumnRef, MaskMode, MaskRule, RowFilter } from './capture-options.js';
import { maskKeyId, maskValue } from './masking.js';

export interface CaptureRuleInput {
  readonly exclude: readonly ColumnRef[];
  readonly mask: readonly MaskRule[];
  readonly filters: readonly RowFilter[];
  /** The HMAC key of `hash` masking (required when a column is hashed). */
  readonly maskKey: Buffer | undefined;
}

/** The rules of one table, as recorded in the log and compared at the next start. */
export interface TableRules {
  readonly exclude: readonly string[];
  readonly mask: Readonly<Record<string, MaskMode>>;
  readonly filter: string | null;
}

/** What the rules do to one column of a row: keep it, leave it out, or mask it. */
export type ColumnTransform = { readonly kind: 'keep' } | { readonly kind: 'exclude' } | { readonly kind: 'mask'; readonly apply: (value: string | null) => string | null };

const KEEP: ColumnTransform = { kind: 'keep' };
const EXCLUDE: ColumnTransform = { kind: 'exclude' };

const tableName = (schema: string, table: string): string => JSON.stringify([schema, table]);

/** Builds the rules; refuses a column both excluded and masked, and hashing without a key. */
export function captureRules(input: CaptureRuleInput): CaptureRules {
  const excluded = new Set(input.exclude.map((c) => JSON.stringify([c.schema, c.table, c.column])));
  for (const m of input.mask) {
    if (excluded.has(JSON.stringify([m.schema, m.table, m.column]))) {
      throw new ConfigError('MASK_COLUMNS_INVALID', `column ${m.schema}.${m.table}.${m.column} is both excluded and masked`, {
        hint: 'name it in --exclude-columns (nothing of it leaves the database) or in --mask-columns (a masked value does), not both',
      });
    }
  }
  if (input.mask.some((m) => m.mode === 'hash') && input.maskKey === undefined) {
    throw new ConfigError('MASK_KEY_MISSING', 'hash masking needs a secret key, and none is given', {
      hint: 'pass --mask-key-file FILE (a file holding the key, 32 random bytes or more), or set CDC_MASK_KEY',
    });
  }
  return new CaptureRules(input);
}

/** The capture rules of every table (see the top of this file). */
export class CaptureRules {
  private readonly byTable = new Map<string, { exclude: Set<string>; mask: Map<string, MaskMode>; filter: string | null; schema: string; table: string }>();
  private readonly keyId: string | null;

  constructor(private readonly input: CaptureRuleInput) {
    const entry = (schema: string, table: string) => {
      const ref = tableName(schema, table);
      let e = this.byTable.get(ref);
      if (!e) this.byTable.set(ref, (e = { exclude: new Set(), mask: new Map(), filter: null, schema, table }));
      return e;
    };
    for (const c of input.exclude) entry(c.schema, c.table).exclude.add(c.column);
    for (const m of input.mask) entry(m.schema, m.table).mask.set(m.column, m.mode);
    for (const f of input.filters) entry(f.schema, f.table).filter = f.where;
    this.keyId = input.maskKey && input.mask.some((m) => m.mode === 'hash') ? maskKeyId(input.maskKey) : null;
  }

  /** No rules: every column of every row. */
  static none(): CaptureRules {
    return new CaptureRules({ exclude: [], mask: [], filters: [], maskKey: undefined });
  }

  /** The row filter of a table, if any. */
  filter(schema: string, table: string): string | null {
    return this.byTable.get(tableName(schema, table))?.filter ?? null;
  }

  /** Whether any table has a row filter. */
  get filtering(): boolean {
    return this.input.filters.length > 0;
  }

  /** The tables the rules name, with what each names, for comparing with the catalog. */
  named(): { schema: string; table: string; columns: string[] }[] {
    return [...this.byTable.values()].map((e) => ({ schema: e.schema, table: e.table, columns: [...e.exclude, ...e.mask.keys()] }));
  }

  /** A key column can be neither excluded nor masked: the key is how every record finds its row. */
  checkKey(schema: string, table: string, key: readonly string[]): void {
    const e = this.byTable.get(tableName(schema, table));
    if (!e) return;
    const bad = key.filter((k) => e.exclude.has(k) || e.mask.has(k));
    if (bad.length === 0) return;
    throw new CdcError('CAPTURE_KEY_COLUMN', `${schema}.${table}: key column ${bad.join(', ')} cannot be excluded or masked`, {
      exitCode: 2,
      hint: `remove ${bad.map((c) => `${schema}.${table}.${c}`).join(', ')} from --exclude-columns / --mask-columns; a record's key is how topics compact and replicas find the row`,
    });
  }

  /**
   * The columns as the log records them: excluded ones left out; `hash` and `redact` ones become
   * `text` (a hash of an integer is no integer), `null` ones keep their type.
   */
  columns(schema: string, table: string, defs: readonly ColumnDef[]): ColumnDef[] {
    const e = this.byTable.get(tableName(schema, table));
    if (!e) return [...defs];
    return defs
      .filter((c) => !e.exclude.has(c.name))
      .map((c) => {
        const mode = e.mask.get(c.name);
        return mode === 'hash' || mode === 'redact' ? { name: c.name, type: 'text', base: 'text', elem: null } : c;
      });
  }

  /** A row as the log records it: excluded columns left out, masked ones masked. */
  row(schema: string, table: string, row: RowValues): RowValues {
    const e = this.byTable.get(tableName(schema, table));
    if (!e) return row;
    const out: [string, string | null][] = [];
    for (const [name, value] of Object.entries(row)) {
      if (e.exclude.has(name)) continue;
      const mode = e.mask.get(name);
      out.push([name, mode ? maskValue(mode, this.input.maskKey, value) : value]);
    }
    // fromEntries defines properties: an assignment of a column named __proto__ would set the prototype.
    return Object.fromEntries(out);
  }

  /**
   * {@link row} prepared for a table's columns (in tuple order), so a row encoder applies it per
   * column without looking anything up; null when the table has no rules.
   */
  columnTransforms(schema: string, table: string, names: readonly string[]): ColumnTransform[] | null {
    const e = this.byTable.get(tableName(schema, table));
    if (!e) return null;
    return names.map((name) => {
      if (e.exclude.has(name)) return EXCLUDE;
      const mode = e.mask.get(name);
      if (!mode) return KEEP;
      const key = this.input.maskKey;
      return { kind: 'mask', apply: (value) => maskValue(mode, key, value) };
    });
  }

  /** The rules of a table as recorded (null: none). */
  tableRules(schema: string, table: string): TableRules | null {
    const e = this.byTable.get(tableName(schema, table));
    if (!e) return null;
    return { exclude: [...e.exclude].sort(), mask: Object.fromEntries([...e.mask].sort(([a], [b]) => (a < b ? -1 : 1))), filter: e.filter };
  }

  /** The fingerprint of the mask key (null when nothing is hashed). */
  get maskKeyId(): string | null {
    return this.keyId;
  }

  /** A definition's id under these rules: the plain id when the table has none (see the top). */
  definitionId(schema: string, table: string, plainId: string): string {
    const rules = this.tableRules(schema, table);
    if (!rules) return plainId;
    const hashed = Object.values(rules.mask).includes('hash') ? this.keyId : null;
    return createHash('sha256').update(JSON.stringify([plainId, rules, hashed])).digest('hex').slice(0, 16);
  }
}
