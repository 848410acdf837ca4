/** One throwaway database per measured run, with the benchmark's table and its write procedures. */
import pg from 'pg';

/** Runs one statement on a fresh connection; values come back as PostgreSQL prints them. */
export async function query(url: string, text: string, params: unknown[] = []): Promise<Record<string, string>[]> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as Record<string, string>[];
  } finally {
    await c.end();
  }
}

/** A database of its own, named like the slot and topic prefix that go with it. */
export interface RunDb {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * The measured table: the types whose mapping costs something (bigint key, text, numeric,
 * timestamptz, an array), and `fill(from, to, perTx)`, which inserts ids from..to committing every
 * `perTx` rows, server-side, so the client's round trips do not limit the WAL it writes.
 */
const SCHEMA = `
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), updated timestamptz NOT NULL, tags text[]);
CREATE PROCEDURE fill(a bigint, b bigint, per_tx int) LANGUAGE plpgsql AS $$
DECLARE i bigint := a;
BEGIN
  WHILE i <= b LOOP
    INSERT INTO items
      SELECT g, 'item ' || g, g * 0.01, timestamptz '2026-01-01' + g * interval '1 ms', ARRAY['a', 'b' || g]
      FROM generate_series(i, least(i + per_tx - 1, b)) g;
    COMMIT;
    i := i + per_tx;
  END LOOP;
END $$;
`;

/** Creates a database with the table; `drop` removes it and any slot left on it. */
export async function createRunDb(adminUrl: string, label: string): Promise<RunDb> {
  const name = `bench_${label}_${Date.now().toString(36)}`;
  await query(adminUrl, `CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  await query(url, SCHEMA);
  return {
    name,
    url,
    drop: async () => {
      await query(adminUrl, 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1', [name]).catch(() => undefined);
      await query(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    },
  };
}

/** The value rows ids from..to get, as the raw-upsert baseline writes them into SQLite. */
export function rowValues(id: number): [bigint, string, string, string, string] {
  const updated = new Date(Date.UTC(2026, 0, 1) + id).toISOString().replace('T', ' ').replace(/(\.\d{3})Z$/, '$1Z');
  return [BigInt(id), `item ${id}`, (id / 100).toFixed(2), updated, `["a","b${id}"]`];
}
