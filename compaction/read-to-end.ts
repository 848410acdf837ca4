/**
 * Reads topics from given offsets up to the end they have now, then stops: how the source loads
 * its snapshot progress, how a sink loads table definitions, and how a bootstrap knows it is done.
 */
import type { LogBatch, TopicLog } from './topic-log.js';

/**
 * Calls `onBatch` for every batch between `from` and the topics' current end offsets; returns the
 * offsets reached (at least those ends).
 */
export async function readToEnd(log: TopicLog, from: ReadonlyMap<string, bigint>, onBatch: (batch: LogBatch) => Promise<void> | void): Promise<Map<string, bigint>> {
  const ends = await log.endOffsets([...from.keys()]);
  const reached = new Map(from);
  const behind = (): boolean => [...ends].some(([t, end]) => (reached.get(t) ?? 0n) < end);
  if (!behind()) return reached;
  let release!: () => void;
  const caughtUp = new Promise<void>((resolve) => (release = resolve));
  const consumption = await log.consume({
    from: new Map([...from].filter(([t, o]) => o < (ends.get(t) ?? 0n))),
    onBatch: async (batch) => {
      if ((reached.get(batch.topic) ?? 0n) >= (ends.get(batch.topic) ?? 0n)) return;
      await onBatch(batch);
      reached.set(batch.topic, batch.nextOffset);
      if (!behind()) release();
    },
  });
  await Promise.race([caughtUp, consumption.done]);
  await consumption.stop();
  await consumption.done;
  return reached;
}
