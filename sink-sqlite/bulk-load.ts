/**
 * Pragmas for building a new replica from offset zero, and their restoration afterwards.
 *
 * During a bootstrap nobody depends on the file yet: a crash leaves a replica that `cdc sink`
 * resumes from its committed offsets (WAL still protects against a killed process), and a power
 * cut at worst a file to bootstrap again. So commits skip fsync (`synchronous=OFF`), the page cache
 * is large, and temporary b-trees stay in memory. Afterwards the durable settings come back and a
 * checkpoint with fsync makes everything written so far durable before the sink reports success.
 */
import type { ReplicaDb } from './replica.js';

/** Page cache during a bulk load, in KiB (SQLite's negative cache_size unit). */
const BULK_CACHE_KIB = 256 * 1024;
/** Pages between automatic checkpoints: fewer, larger checkpoints while loading. */
const BULK_AUTOCHECKPOINT = 16_384;

/** Switches `db` to bulk-load settings; the returned function restores them and makes the data durable. */
export function enterBulkLoad(db: ReplicaDb): () => void {
  const before = {
    synchronous: db.pragma('synchronous', { simple: true }) as number | bigint,
    cacheSize: db.pragma('cache_size', { simple: true }) as number | bigint,
    tempStore: db.pragma('temp_store', { simple: true }) as number | bigint,
    autocheckpoint: db.pragma('wal_autocheckpoint', { simple: true }) as number | bigint,
  };
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = -${BULK_CACHE_KIB}`);
  db.pragma('temp_store = MEMORY');
  db.pragma(`wal_autocheckpoint = ${BULK_AUTOCHECKPOINT}`);
  let restored = false;
  return () => {
    if (restored || !db.open) return;
    restored = true;
    db.pragma(`synchronous = ${before.synchronous}`);
    db.pragma(`cache_size = ${before.cacheSize}`);
    db.pragma(`temp_store = ${before.tempStore}`);
    db.pragma(`wal_autocheckpoint = ${before.autocheckpoint}`);
    // With synchronous back on, the checkpoint fsyncs the WAL and the database file.
    db.pragma('wal_checkpoint(TRUNCATE)');
  };
}
