/**
 * The keys a topic holds a row for: every key whose latest record is not a tombstone. This is how
 * the source removes rows that the stream will never delete one by one (a TRUNCATE, a dropped
 * table, the old keys after a primary-key change): it writes a tombstone for each, so compaction
 * reclaims their records and a replica built from offset zero never sees them again.
 */
import { readToEnd } from './read-to-end.js';
import type { TopicLog } from './topic-log.js';

/** The live keys of `topic` (as read up to its current end). */
export async function liveKeys(log: TopicLog, topic: string): Promise<Buffer[]> {
  const live = new Map<string, Buffer>();
  await readToEnd(log, new Map([[topic, 0n]]), (batch) => {
    for (const r of batch.records) {
      const k = r.key.toString('hex');
      if (r.value === null) live.delete(k);
      else live.set(k, r.key);
    }
  });
  return [...live.values()];
}
