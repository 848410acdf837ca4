/** `cdc start`: capture PostgreSQL changes into the log until SIGINT/SIGTERM. */
import type { Argv } from 'yargs';
import { createLogger } from '../../common/index.js';
import { openLog } from '../../compaction/index.js';
import { createSource } from '../../source-postgres/index.js';
import { resolveStartConfig, type Env, type StartFlags } from '../config.js';
import { limitHeapGrowth } from '../heap.js';
import { stopSignal } from '../lifecycle.js';
import { countingLogger, createMetrics, InstrumentedLog, serveMetrics, slotLag } from '../metrics/index.js';
import { captureOptions, serviceOptions, sourceOptions } from '../options.js';
import { unknownVariableMessage, unknownVariables } from '../settings.js';

export const command = 'start';
export const describe = 'capture PostgreSQL changes into key-compacted topics (runs until SIGINT/SIGTERM)';

export function builder(y: Argv): Argv<StartFlags> {
  return sourceOptions(captureOptions(serviceOptions(y, { pg: true })), { tables: 'schema.table,… to capture (default: every table with a primary key)' })
    .option('publication', { type: 'string', describe: 'publication name (default: the slot name)' })
    .option('resnapshot', { type: 'boolean', describe: 'replace a lost slot with a new one and read every table again (tombstoning rows deleted meanwhile)' })
    .option('table-poll-ms', { type: 'number', describe: 'how often to look for new, changed and dropped tables (default 10000, env CDC_TABLE_POLL_MS)' }) as unknown as Argv<StartFlags>;
}

export async function run(flags: StartFlags, env: Env): Promise<void> {
  const config = resolveStartConfig(flags, env);
  limitHeapGrowth();
  const metrics = createMetrics();
  const logger = countingLogger(createLogger({ level: config.logLevel }), metrics);
  for (const v of unknownVariables(env)) logger.warn(unknownVariableMessage(v), { code: 'CONFIG_ENV_UNKNOWN' });
  let state: 'starting' | 'streaming' | 'stopping' = 'starting';
  const log = new InstrumentedLog(openLog(config.log, logger, { retryWindowMs: config.retryWindowMs }), metrics, { prefix: config.prefix, snapshotting: () => state === 'starting' });
  const signal = stopSignal(logger, {
    unfinished: () =>
      log.unacked > 0
        ? `${log.unacked} records handed to ${log.description} were not acked, so slot ${config.slot} was not confirmed past them; the next cdc start reads them again`
        : `PostgreSQL or ${log.description} did not answer; slot ${config.slot} keeps the last position confirmed after an ack, and the next cdc start resumes from there`,
  });
  signal.addEventListener('abort', () => (state = 'stopping'), { once: true });
  const lag = slotLag(config.pgUrl, config.slot, metrics);
  const server =
    config.metricsPort === undefined
      ? undefined
      : await serveMetrics(config.metricsPort, metrics, { state: () => state, ready: () => state === 'streaming', beforeScrape: () => lag.refresh() }, logger);
  try {
    const onStreaming = (): void => {
      if (state === 'starting') state = 'streaming';
    };
    await createSource(
      {
        pgUrl: config.pgUrl, prefix: config.prefix, slot: config.slot, publication: config.publication, tables: config.tables,
        resnapshot: config.resnapshot, retryWindowMs: config.retryWindowMs, tablePollMs: config.tablePollMs, capture: config.capture,
      },
      { log, logger, onStreaming },
    ).run(signal);
  } finally {
    await log.close();
    await lag.close();
    await server?.close();
  }
}
