/**
 * What a replica file says about itself, read without writing to it: its sink, the offsets it
 * has applied per topic, and the source position those reflect.
 */
import Database from 'better-sqlite3';
import { parseLsn } from '../common/index.js';

/** One topic as the replica has applied it. */
export interface ReplicaTopicStatus {
  topic: string;
  nextOffset: bigint;
  /** Commit LSN of the last change applied from this topic (null: none yet, or only deletes). */
  lsn: string | null;
  commitTime: string | null;
  updatedAt: string;
}

/** A replica's sink, offsets and source position (see {@link readReplicaStatus}). */
export interface ReplicaStatus {
  path: string;
  sinkName: string | null;
  topicPrefix: string | null;
  topics: ReplicaTopicStatus[];
  /**
   * The newest source position among the topics: every change committed at or before it to a
   * topic the replica has read to its end is in the replica.
   */
  lsn: string | null;
  commitTime: string | null;
}

/** Reads the status of the replica at `path` (read-only; throws if it cannot be read). */
export function readReplicaStatus(path: string): ReplicaStatus {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const meta = new Map((db.prepare('SELECT key, value FROM _cdc_meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const rows = db.prepare('SELECT topic, next_offset, lsn, commit_time, updated_at FROM _cdc_offsets ORDER BY topic').all() as { topic: string; next_offset: bigint; lsn: string | null; commit_time: string | null; updated_at: string }[];
    const topics = rows.map((r) => ({ topic: r.topic, nextOffset: BigInt(r.next_offset), lsn: r.lsn, commitTime: r.commit_time, updatedAt: r.updated_at }));
    let lsn: string | null = null;
    let commitTime: string | null = null;
    for (const t of topics) {
      if (t.lsn !== null && (lsn === null || parseLsn(t.lsn) > parseLsn(lsn))) lsn = t.lsn;
      if (t.commitTime !== null && (commitTime === null || t.commitTime > commitTime)) commitTime = t.commitTime;
    }
    return { path, sinkName: meta.get('sink_name') ?? null, topicPrefix: meta.get('topic_prefix') ?? null, topics, lsn, commitTime };
  } finally {
    db.close();
  }
}
