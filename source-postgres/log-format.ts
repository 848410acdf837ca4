/**
 * Announces that the topics end every unit with marks (compaction/tx-marks.ts), once per prefix.
 *
 * Topics written by an earlier `cdc` have no marks. Before the format record goes into the schema
 * topic, every existing table topic gets one mark closing what it holds, so a sink that switches
 * to waiting for marks never waits on a tail that no mark will ever end.
 */
import { endMarkRecords, FORMAT_KEY, formatRecord, readToEnd, schemaTopic, stateTopic, type TopicLog } from '../compaction/index.js';
import type { Delivery } from './delivery.js';

/** Writes the format record (and the closing marks) if the schema topic lacks it. */
export async function announceLogFormat(log: TopicLog, prefix: string, delivery: Delivery): Promise<void> {
  const schemas = schemaTopic(prefix);
  let announced = false;
  await readToEnd(log, new Map([[schemas, 0n]]), (batch) => {
    if (batch.records.some((r) => r.key.equals(FORMAT_KEY))) announced = true;
  });
  if (announced) return;
  const named = (await log.listTopics(`${prefix}.`)).filter((t) => t !== schemas && t !== stateTopic(prefix));
  // An empty topic has no tail to close.
  const ends = await log.endOffsets(named);
  const tables = named.filter((t) => (ends.get(t) ?? 0n) > 0n);
  // Each topic its own unit: what it held was applied as it came, by the sinks of the old format.
  const closing = tables.flatMap((topic) => endMarkRecords({ lsn: '0/0', txid: null, topics: { [topic]: 0 } }));
  await delivery.appendNow([...closing, formatRecord(schemas)]);
}
