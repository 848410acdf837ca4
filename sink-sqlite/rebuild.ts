/**
 * `cdc rebuild`: replaces a replica with one built from offset zero, atomically.
 *
 *   build into FILE.rebuild-tmp ─▶ fsync ─▶ old FILE linked aside ─▶ rename tmp over FILE ─▶ fsync dir
 *
 * Until the rename the old replica is untouched at its path; the rename is atomic; so a kill -9
 * at any moment leaves at FILE either the old replica or the complete new one, never a mixture. A
 * rebuild killed before the rename leaves FILE.rebuild-tmp, which the next rebuild removes first.
 * The old file is kept (hard-linked, so nothing is copied) as FILE.replaced-<time> for inspection.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CdcError, ConfigError } from '../common/index.js';
import { checkReplicaDirectory } from './replica.js';
import { runSink, type SinkConfig, type SinkDeps } from './sink.js';

/** What a finished rebuild did with the old file. */
export interface RebuildResult {
  /** Where the replaced file now is, if there was one. */
  aside: string | undefined;
}

const SIDE_FILES = ['-wal', '-shm', '-journal'];

function removeWithSideFiles(path: string): void {
  for (const suffix of ['', ...SIDE_FILES]) rmSync(path + suffix, { force: true });
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The sink name recorded in an existing replica, if it can be read at all. */
function ownerOf(path: string): string | undefined {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT value FROM _cdc_meta WHERE key = 'sink_name'").get() as { value: string } | undefined)?.value;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Moves the old replica's WAL out of the way: a WAL left beside the new file would be replayed into
 * it. First try to checkpoint it into the old file, so the old file is complete on its own.
 */
function settleOldWal(path: string): void {
  if (!existsSync(path + '-wal')) return;
  try {
    const db = new Database(path, { fileMustExist: true });
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  } catch {
    // A damaged file may refuse; its WAL is kept aside with it below.
  }
}

/** Rebuilds the replica at `config.replicaPath` from offset zero (see the file comment). */
export async function rebuildReplica(config: Omit<SinkConfig, 'mode' | 'follow'>, deps: SinkDeps, signal: AbortSignal): Promise<RebuildResult> {
  const path = resolve(config.replicaPath);
  checkReplicaDirectory(path);
  if (existsSync(path)) {
    const owner = ownerOf(path);
    if (owner !== undefined && owner !== config.name) {
      throw new ConfigError('REPLICA_OTHER_SINK', `${config.replicaPath} is the replica of sink ${owner}, not ${config.name}`, {
        hint: `run cdc rebuild ${owner} for it`,
      });
    }
  }
  const tmp = `${path}.rebuild-tmp`;
  removeWithSideFiles(tmp);
  await runSink({ ...config, replicaPath: tmp, mode: 'bootstrap', what: 'rebuild' }, deps, signal);
  if (signal.aborted) {
    removeWithSideFiles(tmp);
    throw new CdcError('REBUILD_INTERRUPTED', `the rebuild of ${config.replicaPath} was stopped; the old replica is unchanged`, { hint: `run cdc rebuild ${config.name} again` });
  }
  // Closing the last connection checkpointed and removed the WAL: the file stands alone.
  if (existsSync(tmp + '-wal') && statSync(tmp + '-wal').size > 0) {
    throw new CdcError('REBUILD_INCOMPLETE', `the rebuilt file ${tmp} still has a write-ahead log; the old replica is unchanged`, { hint: `run cdc rebuild ${config.name} again` });
  }
  removeWithSideFiles(tmp + '-shm');
  fsyncPath(tmp);

  let aside: string | undefined;
  if (existsSync(path)) {
    settleOldWal(path);
    aside = `${path}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    linkSync(path, aside);
    if (existsSync(path + '-wal')) renameSync(path + '-wal', aside + '-wal');
    rmSync(path + '-shm', { force: true });
    rmSync(path + '-journal', { force: true });
  }
  renameSync(tmp, path);
  fsyncPath(dirname(path));
  return { aside };
}
