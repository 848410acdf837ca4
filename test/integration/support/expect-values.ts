/**
 * What a replica must hold, derived here from PostgreSQL's text output by the rules of DESIGN.md's
 * value table, with code of its own (no product module is imported), so a bug in the product's
 * mapping cannot hide behind the same bug in the expectation. Also reads source and replica tables
 * whole and lists their differences.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export type Scalar = 'int' | 'bool' | 'float' | 'bytea' | 'timestamptz' | 'text';
/** How a column's values map: a scalar kind, or an array of one. */
export type Kind = Scalar | { array: Scalar };

export type Value = bigint | number | string | Buffer | null;

/** A session like `cdc`'s own: the texts compared are those the DESIGN mapping starts from. */
export const SESSION = '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C';

/** The kind of a column from its PostgreSQL type as format_type() prints it. */
export function kindOf(type: string, enumTypes: readonly string[] = []): Kind {
  if (type.endsWith('[]')) {
    const k = kindOf(type.slice(0, -2), enumTypes);
    return { array: typeof k === 'string' ? k : 'text' };
  }
  if (['smallint', 'integer', 'bigint', 'oid'].includes(type)) return 'int';
  if (type === 'boolean') return 'bool';
  if (type === 'real' || type === 'double precision') return 'float';
  if (type === 'bytea') return 'bytea';
  if (type === 'timestamp with time zone') return 'timestamptz';
  return 'text';
}

/** A PostgreSQL array text parsed with this file's own reader: nested arrays of texts and nulls. */
type Parsed = (string | null | Parsed)[];
function parseArray(text: string): Parsed {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const read = (): Parsed => {
    if (text[i] !== '{') throw new Error(`not an array: ${text}`);
    i++;
    const out: Parsed = [];
    while (text[i] !== '}') {
      if (text[i] === '{') out.push(read());
      else if (text[i] === '"') {
        let s = '';
        for (i++; text[i] !== '"'; i++) s += text[i] === '\\' ? text[++i] : text[i];
        i++;
        out.push(s);
      } else {
        let s = '';
        for (; text[i] !== ',' && text[i] !== '}'; i++) s += text[i] === '\\' ? text[++i] : text[i];
        out.push(s === 'NULL' ? null : s);
      }
      if (text[i] === ',') i++;
    }
    i++;
    return out;
  };
  return read();
}

function elementJson(kind: Scalar, v: string | null | Parsed): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map((x) => elementJson(kind, x)).join(',')}]`;
  if ((kind === 'int' || kind === 'float') && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return v;
  if (kind === 'timestamptz') return JSON.stringify(v.replace(/\+00( BC)?$/, 'Z$1'));
  return JSON.stringify(v);
}

/** The SQLite value DESIGN.md asks for, given PostgreSQL's text. */
export function expected(kind: Kind, text: string | null): Value {
  if (text === null) return null;
  if (typeof kind !== 'string') return elementJson(kind.array, parseArray(text));
  switch (kind) {
    case 'int':
      return BigInt(text);
    case 'bool':
      return text === 't' ? 1n : 0n;
    case 'float':
      if (text === 'NaN') return 'NaN';
      if (text === 'Infinity') return Infinity;
      if (text === '-Infinity') return -Infinity;
      // SQLite keeps a REAL whose value is whole as an integer on disk and reads it back as +0.0:
      // -0 cannot survive a REAL column (docs/replica.md lists this).
      return text === '-0' ? 0 : Number(text);
    case 'bytea':
      return Buffer.from(text.slice(2), 'hex');
    case 'timestamptz':
      return text.replace(/\+00( BC)?$/, 'Z$1');
    default:
      return text;
  }
}

export function show(v: Value): string {
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
}

export function same(a: Value, b: Value): boolean {
  return Buffer.isBuffer(a) ? Buffer.isBuffer(b) && a.equals(b) : Object.is(a, b);
}

const q = (name: string): string => '"' + name.replace(/"/g, '""') + '"';

export interface SourceTable {
  columns: { name: string; type: string; kind: Kind }[];
  key: string[];
  /** key JSON → PostgreSQL texts, in column order */
  rows: Map<string, (string | null)[]>;
}

/** A source table read as text in `cdc`'s session settings, with its columns' types and key. */
export async function readSource(url: string, schema: string, table: string, enums: readonly string[] = []): Promise<SourceTable> {
  const client = new pg.Client({ connectionString: url, options: SESSION, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  try {
    const rel = `${q(schema)}.${q(table)}`;
    const cols = await client.query<{ name: string; type: string }>(
      // A domain maps as its base type.
      `SELECT attname AS name, CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(atttypid, atttypmod) END AS type
         FROM pg_attribute JOIN pg_type t ON t.oid = atttypid WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [rel],
    );
    const key = await client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
        WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.o`,
      [rel],
    );
    const columns = cols.rows.map((c) => ({ ...c, kind: kindOf(c.type, enums) }));
    const keyNames = key.rows.map((k) => k.name);
    const res = await client.query({ text: `SELECT ${columns.map((c) => q(c.name)).join(', ')} FROM ${rel}`, rowMode: 'array' });
    const rows = new Map<string, (string | null)[]>();
    for (const r of res.rows as (string | null)[][]) rows.set(JSON.stringify(keyNames.map((k) => r[columns.findIndex((c) => c.name === k)])), r);
    return { columns, key: keyNames, rows };
  } finally {
    await client.end();
  }
}

/** The differences between a source table and its replica table, as readable lines. */
export function tableDifferences(source: SourceTable, replicaPath: string, replicaTable: string): string[] {
  const db = new Database(replicaPath, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const info = db.prepare(`PRAGMA table_info(${q(replicaTable)})`).all() as { name: string; pk: bigint }[];
    if (info.length === 0) return [`${replicaTable}: no such replica table`];
    const diffs: string[] = [];
    const names = info.map((c) => c.name);
    const wantNames = source.columns.map((c) => c.name);
    if (JSON.stringify(names) !== JSON.stringify(wantNames)) diffs.push(`${replicaTable}: columns ${JSON.stringify(names)}, source has ${JSON.stringify(wantNames)}`);
    const pk = info.filter((c) => c.pk > 0n).sort((a, b) => Number(a.pk - b.pk)).map((c) => c.name);
    if (JSON.stringify(pk) !== JSON.stringify(source.key)) diffs.push(`${replicaTable}: primary key ${JSON.stringify(pk)}, source has ${JSON.stringify(source.key)}`);
    if (diffs.length > 0) return diffs;
    const rows = db.prepare(`SELECT ${wantNames.map(q).join(', ')} FROM ${q(replicaTable)}`).raw().all() as Value[][];
    const keyIdx = source.key.map((k) => wantNames.indexOf(k));
    const replica = new Map<string, Value[]>();
    for (const r of rows) {
      // Keys are matched by their PostgreSQL text: integers print the same, texts are texts.
      replica.set(JSON.stringify(keyIdx.map((i) => (r[i] === null ? null : String(r[i])))), r);
    }
    for (const [key, texts] of source.rows) {
      const got = replica.get(key);
      if (!got) {
        diffs.push(`${replicaTable} ${key}: missing in replica`);
        continue;
      }
      source.columns.forEach((c, i) => {
        const want = expected(c.kind, texts[i] ?? null);
        if (!same(want, got[i] ?? null)) diffs.push(`${replicaTable} ${key}.${c.name} (${c.type}): source ${JSON.stringify(texts[i])} → want ${show(want)}, replica ${show(got[i] ?? null)}`);
      });
    }
    for (const key of replica.keys()) if (!source.rows.has(key)) diffs.push(`${replicaTable} ${key}: in replica but not in source`);
    return diffs;
  } finally {
    db.close();
  }
}

/** Whether the replica has a table of that name. */
export function replicaHasTable(replicaPath: string, table: string): boolean {
  const db = new Database(replicaPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  } finally {
    db.close();
  }
}
