/**
 * Pragmas for building a new replica from offset zero, and their restoration afterwards.
 *
 * During a bootstrap nobody depends on the file yet: a crash leaves a replica that `cdc sink`
 * resumes from its committed offsets (WAL still protects against a killed process), and a power
 * cut at worst a file to bootstrap again. So commits skip fsync (`synchronous=OFF`), the page cache
 * is larger than SQLite's default (2 MiB) but bounded, and temporary b-trees stay in memory. Afterwards the durable settings come back and a
 * checkpoint with fsync makes everything written so far durable before the sink reports success.
 */
import type { ReplicaDb } from './replica.js';

/**
 * Page cache during a bulk load, MiB (CDC_SQLITE_CACHE_MB). It was 256 MiB: the cache fills up to
 * the size of the replica, so a bootstrap of 10M rows took RSS well past the 300 MB goal, while a
 * cache of 32 MiB bootstrapped 1M records no slower (docs/benchmarks.md). Rows arrive in key order
 * per topic, so the pages being written stay few; 64 MiB leaves room for random keys and indexes.
 */
export const BULK_CACHE_MB = 64;
/** Pages between automatic checkpoints: fewer, larger checkpoints while loading. */
const BULK_AUTOCHECKPOINT = 16_384;

/** Switches `db` to bulk-load settings; the returned function restores them and makes the data durable. */
export function enterBulkLoad(db: ReplicaDb, cacheMb = BULK_CACHE_MB): () => void {
  const before = {
    synchronous: db.pragma('synchronous', { simple: true }) as number | bigint,
    cacheSize: db.pragma('cache_size', { simple: true }) as number | bigint,
    tempStore: db.pragma('temp_store', { simple: true }) as number | bigint,
    autocheckpoint: db.pragma('wal_autocheckpoint', { simple: true }) as number | bigint,
  };
  db.pragma('synchronous = OFF');
  // A negative cache_size is in KiB.
  db.pragma(`cache_size = -${cacheMb * 1024}`);
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
