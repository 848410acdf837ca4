/**
 * "The replica equals the source, row for row, value for value", checked independently of the
 * product's own mapping code: the expected SQLite value of each column is derived here from
 * PostgreSQL's text output by the rules in DESIGN.md, for the types these tests use.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { expected, same, show, type Scalar, type Value } from './expect-values.js';

/** A column's mapping: those of expect-values.ts, and numeric (kept as PostgreSQL prints it). */
export type Kind = Scalar | 'numeric';

export interface TableSpec {
  /** Schema-qualified source name, quoted as needed (`inventory.items`). */
  source: string;
  /** The replica table (`items` for public, `inventory.items` otherwise). */
  replica: string;
  key: string[];
  columns: Record<string, Kind>;
}

function expectedOf(kind: Kind, text: string | null): Value {
  return expected(kind === 'numeric' ? 'text' : kind, text);
}

async function sourceRows(url: string, spec: TableSpec): Promise<Map<string, Value[]>> {
  const client = new pg.Client({ connectionString: url, options: '-c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex -c extra_float_digits=3', types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  try {
    const cols = Object.keys(spec.columns);
    const res = await client.query({ text: `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM ${spec.source}`, rowMode: 'array' });
    const out = new Map<string, Value[]>();
    for (const row of res.rows as (string | null)[][]) {
      const values = cols.map((c, i) => expectedOf(spec.columns[c] as Kind, row[i] ?? null));
      out.set(JSON.stringify(spec.key.map((k) => String(values[cols.indexOf(k)]))), values);
    }
    return out;
  } finally {
    await client.end();
  }
}

function replicaRows(path: string, spec: TableSpec): Map<string, Value[]> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const cols = Object.keys(spec.columns);
    const rows = db.prepare(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${spec.replica.replace(/"/g, '""')}"`).raw().all() as Value[][];
    return new Map(rows.map((values) => [JSON.stringify(spec.key.map((k) => String(values[cols.indexOf(k)]))), values]));
  } finally {
    db.close();
  }
}

/** The differences between source and replica, as readable lines (empty when equal). */
export async function differences(url: string, replicaPath: string, specs: TableSpec[]): Promise<string[]> {
  const diffs: string[] = [];
  for (const spec of specs) {
    let replica: Map<string, Value[]>;
    try {
      replica = replicaRows(replicaPath, spec);
    } catch (e) {
      diffs.push(`${spec.replica}: cannot read replica: ${(e as Error).message}`);
      continue;
    }
    const source = await sourceRows(url, spec);
    const cols = Object.keys(spec.columns);
    for (const [key, values] of source) {
      const got = replica.get(key);
      if (!got) {
        diffs.push(`${spec.replica} ${key}: missing in replica`);
        continue;
      }
      values.forEach((v, i) => {
        const g = got[i] ?? null;
        if (!same(v, g)) diffs.push(`${spec.replica} ${key}.${cols[i]}: source ${show(v)} replica ${show(g)}`);
      });
    }
    for (const key of replica.keys()) if (!source.has(key)) diffs.push(`${spec.replica} ${key}: in replica but not in source`);
  }
  return diffs;
}
