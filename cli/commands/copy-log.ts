/** `cdc copy-log`: copy every topic from one log to another (the move from the embedded log to Kafka). */
import type { Argv } from 'yargs';
import { CdcError, createLogger } from '../../common/index.js';
import { copyLog, openLog, parseLogLocation, validatePrefix, type LogLocation } from '../../compaction/index.js';
import { logLevel, type Env } from '../config.js';
import { kafkaSecurity, type KafkaSecurityFlags } from '../kafka-security.js';
import { kafkaOptions } from '../options.js';

export interface CopyFlags extends KafkaSecurityFlags {
  from?: string;
  to?: string;
  topicPrefix?: string;
  logLevel?: string;
}

export const command = 'copy-log';
export const describe = 'copy every topic from one log to another, e.g. from ./cdc-data to kafka://host:9092';

export function builder(y: Argv): Argv<CopyFlags> {
  return kafkaOptions(y)
    .option('from', { type: 'string', describe: 'the log to copy (kafka://… or a directory)', demandOption: true })
    .option('to', { type: 'string', describe: 'the log to fill (kafka://… or a directory)', demandOption: true })
    .option('topic-prefix', { type: 'string', describe: 'copy the topics of this prefix (default cdc)' }) as unknown as Argv<CopyFlags>;
}

export async function run(flags: CopyFlags, env: Env): Promise<void> {
  const prefix = flags.topicPrefix ?? env['CDC_TOPIC_PREFIX'] ?? 'cdc';
  validatePrefix(prefix);
  const logger = createLogger({ level: logLevel(flags.logLevel, env) });
  // The --kafka-* settings apply to whichever side is Kafka.
  const security = kafkaSecurity(flags, env, true);
  const locate = (value: string | undefined): LogLocation => {
    const location = parseLogLocation(value ?? '');
    if (location.kind === 'kafka' && security) location.security = security;
    return location;
  };
  const from = openLog(locate(flags.from), logger);
  const to = openLog(locate(flags.to), logger);
  try {
    const writer = await from.otherWriter();
    if (writer !== undefined) {
      throw new CdcError('LOG_IN_USE', `${writer} is still writing to ${from.description}`, {
        exitCode: 2,
        hint: 'stop it first (SIGTERM), so the copy holds everything it confirmed to PostgreSQL',
      });
    }
    const result = await copyLog(from, to, prefix, logger);
    process.stdout.write(`copied ${result.records} records in ${result.topics} topics from ${from.description} to ${to.description}\n`);
  } finally {
    await from.close();
    await to.close();
  }
}
