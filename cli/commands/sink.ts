/** `cdc sink NAME`: follow the log into an existing replica, resuming from its own offsets. */
import type { Argv } from 'yargs';
import { createLogger } from '../../common/index.js';
import { openLog } from '../../compaction/index.js';
import { isCorruption, replicaCorrupt, runSink } from '../../sink-sqlite/index.js';
import { resolveSinkConfig, type Env, type SinkFlags } from '../config.js';
import { limitSinkHeapGrowth } from '../heap.js';
import { stopSignal } from '../lifecycle.js';
import { countingLogger, createMetrics, InstrumentedLog, refreshSinkLag, serveMetrics } from '../metrics/index.js';
import { serviceOptions } from '../options.js';
import { unknownVariableMessage, unknownVariables } from '../settings.js';

export const command = 'sink <name>';
export const describe = 'follow the log into an existing replica (runs until SIGINT/SIGTERM)';

export function sinkOptions(y: Argv): Argv<SinkFlags> {
  return serviceOptions(y, { pg: false })
    .positional('name', { type: 'string', describe: 'the sink name (recorded in the replica)' })
    .option('log', { type: 'string', describe: 'kafka://host:port[,…] or a directory (env CDC_LOG)' })
    .option('replica', { type: 'string', describe: 'the SQLite replica file' })
    .option('topic-prefix', { type: 'string', describe: 'topic name prefix (default cdc)' }) as unknown as Argv<SinkFlags>;
}

export const builder = sinkOptions;

/** Runs a sink in `mode` with the resolved flags (shared by `sink` and `bootstrap`). */
export async function runSinkCommand(flags: SinkFlags, env: Env, mode: 'bootstrap' | 'follow'): Promise<void> {
  const config = resolveSinkConfig(flags, env);
  limitSinkHeapGrowth(config.log);
  const metrics = createMetrics();
  const logger = countingLogger(createLogger({ level: config.logLevel }), metrics);
  for (const v of unknownVariables(env)) logger.warn(unknownVariableMessage(v), { code: 'CONFIG_ENV_UNKNOWN' });
  const log = new InstrumentedLog(openLog(config.log, logger, { retryWindowMs: config.retryWindowMs }), metrics, { prefix: config.prefix, replica: config.name });
  const signal = stopSignal(logger, {
    unfinished: () => `${log.description} did not answer; replica ${config.replica} keeps the offsets of its last committed batch, and the sink resumes from there`,
  });
  const following = mode === 'follow' || config.follow;
  const state = (): string => (signal.aborted ? 'stopping' : !log.following ? 'catching up' : following ? 'following' : 'caught up');
  const server =
    config.metricsPort === undefined
      ? undefined
      : await serveMetrics(
          config.metricsPort,
          metrics,
          { state, ready: () => !signal.aborted && log.following, beforeScrape: () => refreshSinkLag(log, metrics, config.name, config.prefix) },
          logger,
        );
  try {
    await runSink({ name: config.name, replicaPath: config.replica, prefix: config.prefix, mode, follow: config.follow, retryWindowMs: config.retryWindowMs, bulkCacheMb: config.sqliteCacheMb }, { log, logger }, signal);
  } catch (e) {
    // Damage found while applying (not at open) ends the same way: exit 1, run cdc rebuild.
    if (isCorruption(e)) throw replicaCorrupt(config.replica, config.name, e instanceof Error ? e.message : String(e), e);
    throw e;
  } finally {
    await log.close();
    await server?.close();
  }
}

export function run(flags: SinkFlags, env: Env): Promise<void> {
  return runSinkCommand(flags, env, 'follow');
}
