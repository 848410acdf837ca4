/**
 * The compaction hazard of a sink that comes back after a long absence. Kafka keeps a tombstone
 * only `delete.retention.ms` after compaction reaches it; after that the deleted key simply
 * vanishes from the topic. A sink that still has to read records older than that may therefore
 * never see some deletes: its replica would keep rows the source deleted, silently. Such a sink
 * refuses to continue incrementally and asks for a rebuild.
 *
 * The test is exact about what matters: the first record at or after `now - delete.retention.ms`
 * (Kafka's offset-for-timestamp lookup) must not lie beyond the sink's next offset. A replica
 * that was away for weeks while its topic was idle is therefore not refused, and one that was
 * away an hour is not refused either. (Tombstones younger than the retention are always still
 * there; older ones may be gone.) `_cdc_offsets.updated_at` — set by every applied batch and, at a
 * clean stop, for every topic — is only reported, to tell the operator when the sink last read.
 */
import { CdcError } from '../common/index.js';
import type { TopicLog } from '../compaction/index.js';
import type { ReplicaDb } from './replica.js';

/** A topic of the replica whose tombstones may have been compacted away unseen. */
export interface TombstoneHazard {
  topic: string;
  lastRead: string;
  deleteRetentionMs: number;
  behind: bigint;
}

/** The topics of `db` that a sink can no longer follow safely (see the file comment). */
export async function tombstoneHazards(db: ReplicaDb, log: TopicLog, now = Date.now()): Promise<TombstoneHazard[]> {
  const rows = db.prepare('SELECT topic, next_offset, updated_at FROM _cdc_offsets').all() as { topic: string; next_offset: bigint; updated_at: string }[];
  if (rows.length === 0) return [];
  const described = await log.describeTopics(rows.map((r) => r.topic));
  const ends = await log.endOffsets(rows.map((r) => r.topic).filter((t) => described.has(t)));
  const out: TombstoneHazard[] = [];
  for (const r of rows) {
    const retention = Number(described.get(r.topic)?.configs.get('delete.retention.ms') ?? NaN);
    const next = BigInt(r.next_offset);
    const behind = (ends.get(r.topic) ?? 0n) - next;
    // Offset 0 is a bootstrap: a compacted topic read from the start is whole by contract.
    if (!Number.isFinite(retention) || behind <= 0n || next === 0n) continue;
    // Records before this offset are older than the retention: their tombstones may be gone.
    const firstYoung = await log.offsetAtTime(r.topic, now - retention);
    if (firstYoung > next) out.push({ topic: r.topic, lastRead: r.updated_at, deleteRetentionMs: retention, behind });
  }
  return out;
}

/** Throws (exit 1, rebuild hint) when {@link tombstoneHazards} finds any. */
export async function checkTombstoneHorizon(db: ReplicaDb, log: TopicLog, path: string, name: string): Promise<void> {
  const hazards = await tombstoneHazards(db, log);
  if (hazards.length === 0) return;
  const what = hazards.map((h) => `${h.topic} (last read ${h.lastRead}, delete.retention.ms ${h.deleteRetentionMs}, ${h.behind} records to read)`).join('; ');
  throw new CdcError('TOMBSTONES_MAY_BE_LOST', `the replica ${path} was last updated longer ago than its topics keep tombstones, so deletes may have been compacted away unseen: ${what}`, {
    hint: `run cdc rebuild ${name} --log ${log.description} --replica ${path} to rebuild it from the log`,
  });
}

/** Records that the sink has read every topic up to its offsets until now (a clean stop). */
export function markOffsetsSeen(db: ReplicaDb, now = new Date()): void {
  db.prepare('UPDATE _cdc_offsets SET updated_at = ?').run(now.toISOString());
}
