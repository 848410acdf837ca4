/** `cdc rebuild NAME`: replace a (corrupt) replica by one built from the log, atomically. */
import { createLogger } from '../../common/index.js';
import { openLog } from '../../compaction/index.js';
import { rebuildReplica } from '../../sink-sqlite/index.js';
import { resolveSinkConfig, type Env, type SinkFlags } from '../config.js';
import { limitSinkHeapGrowth } from '../heap.js';
import { stopSignal } from '../lifecycle.js';
import { sinkOptions } from './sink.js';

export const command = 'rebuild <name>';
export const describe = 'replace a replica atomically by one rebuilt from offset zero (the old file is kept aside)';

export const builder = sinkOptions;

export async function run(flags: SinkFlags, env: Env): Promise<void> {
  const config = resolveSinkConfig(flags, env);
  limitSinkHeapGrowth(config.log);
  const logger = createLogger({ level: config.logLevel });
  const log = openLog(config.log, logger);
  const signal = stopSignal(logger);
  try {
    const { aside } = await rebuildReplica({ name: config.name, replicaPath: config.replica, prefix: config.prefix, bulkCacheMb: config.sqliteCacheMb }, { log, logger }, signal);
    process.stdout.write(`rebuilt ${config.replica}${aside ? `; the previous file is kept at ${aside}` : ''}\n`);
  } finally {
    await log.close();
  }
}
