/**
 * The replica file: the captured tables plus `cdc`'s own bookkeeping, all in `_cdc_*` tables so a
 * replica carries everything needed to resume (offsets), to rebuild (its name and log) and to say
 * how current it is (the source position it reflects).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CdcError, ConfigError } from '../common/index.js';
import { checkReplicaIntegrity, isCorruption, replicaCorrupt } from './integrity.js';

export type ReplicaDb = Database.Database;

const FORMAT_VERSION = '1';

const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS _cdc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _cdc_offsets (
  topic TEXT PRIMARY KEY,
  next_offset INTEGER NOT NULL,
  lsn TEXT,
  commit_time TEXT,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _cdc_schemas (id TEXT PRIMARY KEY, topic TEXT NOT NULL, definition TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _cdc_tables (
  topic TEXT PRIMARY KEY,
  replica_table TEXT NOT NULL UNIQUE,
  schema_id TEXT NOT NULL
);`;

/** Fails with exit code 2 unless the directory that would hold the replica exists. */
export function checkReplicaDirectory(path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError('REPLICA_DIR_MISSING', `the directory of --replica ${path} does not exist (${dir})`, {
      hint: `create it first (mkdir -p ${dir}) or choose another path`,
    });
  }
}

function open(path: string, name?: string): ReplicaDb {
  let db: ReplicaDb;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a power cut may lose the last transactions, never consistency; the rows and the
    // offsets roll back together and are fetched from the log again.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    if (name !== undefined && isCorruption(e)) throw replicaCorrupt(path, name, e instanceof Error ? e.message : String(e), e);
    throw new CdcError('REPLICA_OPEN_FAILED', `cannot open the replica ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'check the path and its permissions; if the file is damaged, run cdc rebuild',
      cause: e,
    });
  }
  db.defaultSafeIntegers(true);
  return db;
}

/** Creates a new replica for sink `name`; refuses to touch an existing file. */
export function createReplica(path: string, name: string, prefix: string, logDescription: string): ReplicaDb {
  checkReplicaDirectory(path);
  if (existsSync(path)) {
    throw new ConfigError('REPLICA_EXISTS', `--replica ${path} already exists`, {
      hint: `to resume it run cdc sink ${name} --replica ${path}; to replace it run cdc rebuild ${name}; or choose a new path`,
    });
  }
  const db = open(path);
  db.exec(BOOKKEEPING);
  const put = db.prepare('INSERT OR REPLACE INTO _cdc_meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    put.run('format_version', FORMAT_VERSION);
    put.run('sink_name', name);
    put.run('topic_prefix', prefix);
    put.run('log', logDescription);
    put.run('created_at', new Date().toISOString());
  })();
  return db;
}

/** Opens an existing replica of sink `name`, checking that it is one. */
export function openReplica(path: string, name: string, prefix: string): ReplicaDb {
  checkReplicaDirectory(path);
  if (!existsSync(path)) {
    throw new ConfigError('REPLICA_MISSING', `--replica ${path} does not exist`, {
      hint: `create it with cdc bootstrap ${name} --replica ${path}`,
    });
  }
  const db = open(path, name);
  let meta: Map<string, string>;
  try {
    checkReplicaIntegrity(db, path, name);
    const rows = db.prepare('SELECT key, value FROM _cdc_meta').all() as { key: string; value: string }[];
    meta = new Map(rows.map((r) => [r.key, r.value]));
    db.prepare('SELECT count(*) FROM _cdc_offsets').get();
  } catch (e) {
    db.close();
    if (e instanceof CdcError) throw e;
    throw new CdcError('REPLICA_CORRUPT', `${path} is not a usable cdc replica: ${e instanceof Error ? e.message : String(e)}`, {
      hint: `run cdc rebuild ${name} --replica ${path} to replace it from the log`,
      cause: e,
    });
  }
  const owner = meta.get('sink_name');
  if (owner !== name) {
    db.close();
    throw new ConfigError('REPLICA_OTHER_SINK', `${path} is the replica of sink ${owner ?? '(unknown)'}, not ${name}`, {
      hint: `use cdc sink ${owner ?? '<name>'} for it, or give sink ${name} its own --replica`,
    });
  }
  const ownPrefix = meta.get('topic_prefix');
  if (ownPrefix !== prefix) {
    db.close();
    throw new ConfigError('REPLICA_OTHER_PREFIX', `${path} was built from topics with prefix ${ownPrefix ?? '(unknown)'}, not ${prefix}`, {
      hint: `pass --topic-prefix ${ownPrefix ?? '<prefix>'}`,
    });
  }
  return db;
}

/** The replica table for `schema.table`: `t` for public, `"schema.t"` (one identifier) otherwise. */
export function replicaTableName(schema: string, table: string): string {
  return schema === 'public' ? table : `${schema}.${table}`;
}

/** Quotes an SQLite identifier. */
export function sqlIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
