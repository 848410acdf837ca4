/**
 * Copies every topic of one log into another, record by record in offset order: how a deployment
 * moves from the embedded log to Kafka (or back) without re-reading PostgreSQL. The target gets the
 * compacted rows, the tombstones, the table definitions and the snapshot progress, so `cdc start`
 * with the same slot goes on from where it stopped.
 */
import { CdcError, type Logger } from '../common/index.js';
import { readToEnd } from './read-to-end.js';
import type { TopicLog } from './topic-log.js';

export interface CopyResult {
  readonly topics: number;
  readonly records: number;
}

export async function copyLog(from: TopicLog, to: TopicLog, prefix: string, logger: Logger): Promise<CopyResult> {
  await from.connect();
  await to.connect();
  const topics = await from.listTopics(prefix);
  if (topics.length === 0) {
    throw new CdcError('TOPICS_MISSING', `${from.description} has no topics with prefix ${prefix}`, { exitCode: 2, hint: 'check --from and --topic-prefix' });
  }
  const existing = new Set(await to.listTopics(prefix));
  const present = topics.filter((t) => existing.has(t));
  const ends = await to.endOffsets(present);
  const filled = present.filter((t) => (ends.get(t) ?? 0n) > 0n);
  if (filled.length > 0) {
    throw new CdcError('COPY_TARGET_NOT_EMPTY', `${to.description} already has records in ${filled.slice(0, 3).join(', ')}${filled.length > 3 ? ', …' : ''}`, {
      exitCode: 2,
      hint: 'copy into a log without these topics (or delete them there first)',
    });
  }
  await to.ensureTopics(topics);
  let records = 0;
  for (const topic of topics) {
    let copied = 0;
    await readToEnd(from, new Map([[topic, 0n]]), async (batch) => {
      await to.append(batch.records.map((r) => ({ topic, key: r.key, value: r.value })));
      copied += batch.records.length;
    });
    records += copied;
    logger.info('copied topic', { topic, records: copied });
  }
  return { topics: topics.length, records };
}
