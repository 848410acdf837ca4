import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CdcError } from '../../common/index.js';
import { checkReplicaIntegrity } from '../../sink-sqlite/integrity.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A small replica as replica.ts makes it: bookkeeping, one table, one definition. */
function replica(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-integrity-'));
  dirs.push(dir);
  const path = join(dir, 'r.db');
  const db = new Database(path);
  db.exec(`
    CREATE TABLE _cdc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE _cdc_offsets (topic TEXT PRIMARY KEY, next_offset INTEGER NOT NULL, lsn TEXT, commit_time TEXT, updated_at TEXT NOT NULL);
    CREATE TABLE _cdc_schemas (id TEXT PRIMARY KEY, topic TEXT NOT NULL, definition TEXT NOT NULL);
    CREATE TABLE _cdc_tables (topic TEXT PRIMARY KEY, replica_table TEXT NOT NULL UNIQUE, schema_id TEXT NOT NULL);
    INSERT INTO _cdc_meta VALUES ('format_version', '1'), ('sink_name', 'app'), ('topic_prefix', 'cdc');
    INSERT INTO _cdc_schemas VALUES ('s1', 'cdc.public.t', '{}');
    INSERT INTO _cdc_tables VALUES ('cdc.public.t', 't', 's1');
    INSERT INTO _cdc_offsets VALUES ('cdc.public.t', 10, '0/1', NULL, '2026-01-01T00:00:00Z');
    CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
  `);
  const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 5000; i++) insert.run(i, `value ${i} `.repeat(5));
  })();
  db.close();
  return path;
}

function check(path: string, change?: (db: Database.Database) => void): CdcError | undefined {
  const db = new Database(path);
  try {
    change?.(db);
    checkReplicaIntegrity(db, path, 'app');
    return undefined;
  } catch (e) {
    if (e instanceof CdcError) return e;
    throw e;
  } finally {
    db.close();
  }
}

describe('replica integrity at open', () => {
  it('accepts a sound replica', () => {
    expect(check(replica())).toBeUndefined();
  });

  it('reports flipped bytes in a table page as REPLICA_CORRUPT with a rebuild hint', () => {
    const path = replica();
    const fd = openSync(path, 'r+');
    const at = Math.floor(statSync(path).size / 2);
    const buf = Buffer.alloc(64);
    readSync(fd, buf, 0, 64, at);
    writeSync(fd, buf.map((b) => b ^ 0xff), 0, 64, at);
    closeSync(fd);
    const e = check(path);
    expect(e?.code).toBe('REPLICA_CORRUPT');
    expect(e?.message).not.toMatch(/\n/);
    expect(e?.hint).toMatch(/^run cdc rebuild app /);
  });

  it.each([
    ['a missing bookkeeping table', 'DROP TABLE _cdc_schemas', /_cdc_schemas is missing/],
    ['a missing bookkeeping column', 'ALTER TABLE _cdc_offsets DROP COLUMN lsn', /_cdc_offsets lacks column lsn/],
    ['a missing meta key', "DELETE FROM _cdc_meta WHERE key = 'sink_name'", /_cdc_meta has no sink_name/],
    ['a table that _cdc_tables names but does not exist', 'DROP TABLE t', /names table t .* which does not exist/],
    ['a definition that _cdc_schemas lacks', "UPDATE _cdc_tables SET schema_id = 'nope'", /definition nope/],
    ['a negative offset', 'UPDATE _cdc_offsets SET next_offset = -1', /invalid offset/],
    ['a non-integer offset', "UPDATE _cdc_offsets SET next_offset = 'x'", /invalid offset/],
  ])('reports %s', (_what, statement, message) => {
    const e = check(replica(), (db) => db.exec(statement));
    expect(e?.code).toBe('REPLICA_CORRUPT');
    expect(e?.message).toMatch(message);
  });
});
