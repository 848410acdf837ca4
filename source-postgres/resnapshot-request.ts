/**
 * Re-reading chosen tables while `cdc start` runs (`cdc resnapshot`). The request is a logical
 * message in the WAL (non-transactional, so it takes its place in the stream at once), and the
 * `cdc start` reading the slot acts on it when its stream reaches it — the same WAL barrier that
 * orders re-reads after DDL (tables.ts). Every change committed before the request has been written
 * by then; the read runs in a fresh snapshot, so its rows are as new as the request or newer; and
 * every change after it is streamed after the rows. So no older value can win, whatever the
 * application writes meanwhile. The read goes in chunks with progress in `<prefix>._state`; a crash
 * resumes it after the last chunk (the slot still holds the request, which is read again).
 */
import type pg from 'pg';

/** The prefix of a re-read request in the WAL. */
export const RESNAPSHOT_PREFIX = 'cdc.resnapshot';

export interface ResnapshotRequest {
  readonly slot: string;
  readonly tables: readonly { schema: string; table: string }[];
}

/** Writes the request into the WAL for the `cdc start` of `slot`. */
export async function requestResnapshot(client: pg.Client, request: ResnapshotRequest): Promise<void> {
  await client.query('SELECT pg_logical_emit_message(false, $1, $2)', [RESNAPSHOT_PREFIX, JSON.stringify(request)]);
}

/** The tables a request in the stream names for `slot`; null when it is for another slot or not one. */
export function parseResnapshotRequest(content: Buffer, slot: string): { schema: string; table: string }[] | null {
  let v: unknown;
  try {
    v = JSON.parse(content.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as { slot?: unknown; tables?: unknown };
  if (r.slot !== slot || !Array.isArray(r.tables)) return null;
  return r.tables.filter((t): t is { schema: string; table: string } => typeof t === 'object' && t !== null && typeof (t as { schema?: unknown }).schema === 'string' && typeof (t as { table?: unknown }).table === 'string');
}
