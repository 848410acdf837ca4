/**
 * Tombstones for every row a topic holds: how the source removes rows that the stream will never
 * delete one by one (a TRUNCATE, a dropped table), so compaction reclaims their records and a
 * replica built from offset zero never sees them again. The topic is read up to its current end a
 * batch at a time and the tombstones go out as they are found: memory stays bounded whatever the
 * topic's size. A key written several times may get several tombstones; compaction keeps one.
 */
import { readToEnd } from './read-to-end.js';
import { isEndMark } from './tx-marks.js';
import type { AppendRecord, TopicLog } from './topic-log.js';

/** Writes (through `write`) a tombstone for each key of `topic` that has a row record; returns how many. */
export async function tombstoneEveryKey(log: TopicLog, topic: string, write: (records: AppendRecord[]) => Promise<void>): Promise<number> {
  let written = 0;
  await readToEnd(log, new Map([[topic, 0n]]), async (batch) => {
    const keys = new Map<string, Buffer>();
    for (const r of batch.records) {
      // An end mark is no row: a tombstone for it would only hide the topic's latest mark.
      if (isEndMark(r.key)) continue;
      const k = r.key.toString('latin1');
      if (r.value === null) keys.delete(k);
      else keys.set(k, r.key);
    }
    if (keys.size === 0) return;
    await write([...keys.values()].map((key) => ({ topic, key, value: null })));
    written += keys.size;
  });
  return written;
}
