import pg from 'pg';
import type { QueryResultRow } from 'pg';

/**
 * Runs one statement on a new connection, closed afterwards, and returns its rows. A connection
 * per call is slow but leaves nothing open to leak between tests or to block `DROP DATABASE`.
 */
export async function sql<R extends QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<R>(text, [...params]);
    return result.rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `name` quoted as an SQL identifier. */
export function ident(name: string): string {
  return pg.escapeIdentifier(name);
}
