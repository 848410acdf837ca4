/**
 * Reading the capture options: `--exclude-columns`, `--mask-columns` and `--row-filter`. Pure
 * parsing, so every mistake is found before anything connects, and each message names the entry
 * that is wrong and the form that is right.
 */
import { ConfigError } from '../common/index.js';

/** How a masked column's values leave the database. */
export type MaskMode = 'hash' | 'null' | 'redact';

export const MASK_MODES: readonly MaskMode[] = ['hash', 'null', 'redact'];

/** A column named by an option (`schema.table.column`; `table.column` means `public`). */
export interface ColumnRef {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
}

export interface MaskRule extends ColumnRef {
  readonly mode: MaskMode;
}

/** A publication row filter of one table: a boolean SQL expression over its columns. */
export interface RowFilter {
  readonly schema: string;
  readonly table: string;
  readonly where: string;
}

function entries(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function columnRef(entry: string, text: string, bad: (entry: string) => ConfigError): ColumnRef {
  const parts = text.split('.').map((p) => p.trim());
  if ((parts.length !== 2 && parts.length !== 3) || parts.some((p) => p === '')) throw bad(entry);
  const [schema, table, column] = parts.length === 3 ? (parts as [string, string, string]) : (['public', ...parts] as [string, string, string]);
  return { schema, table, column };
}

/** `schema.table.column,…` (an option named `flag`, for the message). */
export function parseColumnList(text: string, flag: 'exclude-columns'): ColumnRef[] {
  const bad = (entry: string): ConfigError =>
    new ConfigError('EXCLUDE_COLUMNS_INVALID', `--${flag} entry ${JSON.stringify(entry)} does not name a column`, {
      hint: `write each entry as schema.table.column (or table.column for public), separated by commas: --${flag} public.users.ssn,orders.note`,
    });
  return entries(text).map((e) => columnRef(e, e, bad));
}

/** `schema.table.column=hash|null|redact,…`. */
export function parseMaskList(text: string): MaskRule[] {
  const bad = (entry: string): ConfigError =>
    new ConfigError('MASK_COLUMNS_INVALID', `--mask-columns entry ${JSON.stringify(entry)} is not column=mode`, {
      hint: 'write each entry as schema.table.column=mode, mode one of hash, null or redact: --mask-columns public.users.email=hash,users.phone=redact',
    });
  return entries(text).map((e) => {
    const eq = e.indexOf('=');
    if (eq < 0) throw bad(e);
    const mode = e.slice(eq + 1).trim();
    if (!(MASK_MODES as readonly string[]).includes(mode)) throw bad(e);
    return { ...columnRef(e, e.slice(0, eq), bad), mode: mode as MaskMode };
  });
}

/**
 * Where a filter's text would end early: a `;` or an unbalanced parenthesis outside quotes. The
 * text goes into `CREATE PUBLICATION … WHERE (…)` and the snapshot's query, so it must be one
 * expression and nothing else.
 */
function escapes(where: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (const ch of where) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === ';') return true;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return true;
  }
  return depth !== 0 || quote !== null;
}

/**
 * Row filters: flags `table=expression` (one per table, the expression kept whole), or the JSON
 * object `{"schema.table": "expression"}` that a config file or `CDC_ROW_FILTER` holds.
 */
export function parseRowFilters(given: readonly string[] | string): RowFilter[] {
  const bad = (entry: string, why: string): ConfigError =>
    new ConfigError('ROW_FILTER_INVALID', `--row-filter ${JSON.stringify(entry)} ${why}`, {
      hint: `write one --row-filter per table as table=expression, for example --row-filter "public.orders=status <> 'archived'" (in a config file: row-filter: {public.orders: "status <> 'archived'"})`,
    });
  let pairs: [string, string][];
  if (typeof given === 'string') {
    let data: unknown;
    try {
      data = JSON.parse(given);
    } catch {
      throw bad(given, 'is not a JSON object of table: expression');
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad(given, 'is not a JSON object of table: expression');
    pairs = Object.entries(data).map(([t, w]) => {
      if (typeof w !== 'string') throw bad(`${t}=${JSON.stringify(w)}`, 'has an expression that is not a string');
      return [t, w];
    });
  } else {
    pairs = given.map((e) => {
      const eq = e.indexOf('=');
      if (eq < 0) throw bad(e, 'is not table=expression');
      return [e.slice(0, eq), e.slice(eq + 1)];
    });
  }
  const seen = new Set<string>();
  return pairs.map(([name, expr]) => {
    const entry = `${name}=${expr}`;
    const parts = name.trim().split('.');
    if (parts.length > 2 || parts.some((p) => p.trim() === '')) throw bad(entry, 'does not name a table (schema.table, or table for public)');
    const [schema, table] = parts.length === 2 ? (parts.map((p) => p.trim()) as [string, string]) : ['public', (parts[0] as string).trim()];
    const where = expr.trim();
    if (where === '') throw bad(entry, 'has no expression');
    if (escapes(where)) throw bad(entry, 'is not one expression (a ; or an unbalanced parenthesis or quote)');
    const ref = `${schema}.${table}`;
    if (seen.has(ref)) throw bad(entry, `names ${ref} a second time; a table has one filter (combine them with AND)`);
    seen.add(ref);
    return { schema, table, where };
  });
}
