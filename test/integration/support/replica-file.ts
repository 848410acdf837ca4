/** Helpers for tests that damage, copy and fingerprint replica files. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Overwrites `length` bytes in the middle of the file's b-tree pages with 0xff. */
export function flipBytes(path: string, at?: number, length = 64): void {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  try {
    const where = at ?? Math.floor(size / 2);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, where);
    for (let i = 0; i < length; i++) buf[i] = (buf[i] as number) ^ 0xff;
    writeSync(fd, buf, 0, length, where);
  } finally {
    closeSync(fd);
  }
}

/**
 * SQLite's own check, and a fingerprint of the replica's data: every replicated table's rows and
 * the offsets (not the bookkeeping timestamps, which differ between two builds of the same data).
 */
export function fingerprint(path: string): { check: string; rows: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const check = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check).join(';');
    const hash = createHash('sha256');
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cdc\\_%' ESCAPE '\\' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const queries = [...tables.map((t) => `SELECT * FROM "${t.replace(/"/g, '""')}" ORDER BY 1`), 'SELECT topic, next_offset FROM _cdc_offsets ORDER BY topic'];
    for (const q of queries) {
      hash.update(`${q}\n`);
      const rows = db.prepare(q).raw().all() as unknown[][];
      for (const r of rows) hash.update(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    }
    return { check, rows: hash.digest('hex') };
  } finally {
    db.close();
  }
}
