/**
 * Where a source transaction ends, in the log itself (docs/topics.md, "Transaction ends").
 *
 * After the records of a unit — a source transaction, a snapshot chunk, the tombstones of a
 * TRUNCATE or of a dropped table — `cdc start` appends one end mark to every table topic the unit
 * wrote to. Each mark names all of the unit's topics with their record counts, so a consumer that
 * reads one topic knows which others to wait for. All marks of a topic share one key, so
 * compaction keeps only the latest: a replica bootstrapped from compacted topics is consistent
 * once it has caught up, which is all a bootstrap promises. A key that is a JSON string can never
 * be a row's key (those are JSON objects), so marks and rows never compact each other away.
 *
 * A format record in the schema topic announces that the topics carry marks (format 2); a sink
 * that finds none reads the topics as they were before (each batch applied as it comes).
 */
import { CdcError } from '../common/index.js';
import type { AppendRecord } from './topic-log.js';

/** The format of topics whose units end with marks. */
export const LOG_FORMAT = 2;

/** The key of every end mark: `"cdc.end"` (a JSON string). */
export const END_MARK_KEY: Buffer = Buffer.from(JSON.stringify('cdc.end'));

/** What an end mark says. */
export interface EndMark {
  /** The commit LSN of the transaction (`X/Y`); for snapshot and other units, the latest position known. */
  readonly lsn: string;
  /** The transaction id; null for units that are not a source transaction. */
  readonly txid: string | null;
  /** Every table topic the unit wrote to → how many records it wrote there (marks not counted). */
  readonly topics: Readonly<Record<string, number>>;
}

/** Whether a record of a table topic is an end mark. */
export function isEndMark(key: Buffer): boolean {
  return key.equals(END_MARK_KEY);
}

/** The marks that end a unit: one per topic it wrote to. */
export function endMarkRecords(mark: EndMark): AppendRecord[] {
  // Written out rather than JSON.stringify of an object: in one-row transactions this is per row.
  // The same bytes (test/unit/tx-marks.test.ts): topic order is Object.keys', as JSON.stringify's.
  const topics = Object.keys(mark.topics);
  let json = `{"op":"end","lsn":${JSON.stringify(mark.lsn)},"txid":${mark.txid === null ? 'null' : JSON.stringify(mark.txid)},"topics":{`;
  for (let i = 0; i < topics.length; i++) {
    const topic = topics[i] as string;
    json += `${i === 0 ? '' : ','}${JSON.stringify(topic)}:${JSON.stringify(mark.topics[topic])}`;
  }
  const value = Buffer.from(json + '}}');
  return topics.map((topic) => ({ topic, key: END_MARK_KEY, value }));
}

export function decodeEndMark(value: Buffer | null): EndMark {
  const bad = (what: string): CdcError =>
    new CdcError('RECORD_MALFORMED', `an end mark in the log is not in the cdc format: ${what}`, { hint: 'check that the topics were written by `cdc start`' });
  if (value === null) throw bad('it is a tombstone');
  let v: unknown;
  try {
    v = JSON.parse(value.toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (typeof v !== 'object' || v === null) throw bad('not an object');
  const o = v as Record<string, unknown>;
  const topics = o['topics'];
  if (o['op'] !== 'end' || typeof o['lsn'] !== 'string' || typeof topics !== 'object' || topics === null) throw bad('lacks op, lsn or topics');
  const entries = Object.entries(topics);
  for (const [t, n] of entries) if (typeof n !== 'number') throw bad(`topics.${t} is not a number`);
  // fromEntries defines properties: an assignment of a topic named __proto__ would set the prototype.
  const counts = Object.fromEntries(entries) as Record<string, number>;
  return { lsn: o['lsn'], txid: typeof o['txid'] === 'string' ? o['txid'] : null, topics: counts };
}

/** The key of the format record in the schema topic. */
export const FORMAT_KEY: Buffer = Buffer.from(JSON.stringify({ format: true }));

/** The format record: the topics of this prefix end every unit with marks from here on. */
export function formatRecord(schemaTopic: string): AppendRecord {
  return { topic: schemaTopic, key: FORMAT_KEY, value: Buffer.from(JSON.stringify({ format: LOG_FORMAT })) };
}
