/**
 * `cdc resnapshot`: read chosen tables again while `cdc start` runs (source-postgres/
 * resnapshot-request.ts). Writes the request into the WAL, then follows the read's progress in
 * `<prefix>._state` until every table is read in full. Stopping this command (Ctrl-C) stops only
 * the watching: the read belongs to `cdc start`, which resumes it after a crash of its own.
 */
import type { Argv } from 'yargs';
import { CdcError, ConfigError, createLogger } from '../../common/index.js';
import { openLog, stateTopic, type TopicLog } from '../../compaction/index.js';
import { connectPg, listTables, requestResnapshot, selectTables } from '../../source-postgres/index.js';
import { resolveResnapshotConfig, type Env, type ResnapshotFlags } from '../config.js';
import { serviceOptions, sourceOptions } from '../options.js';

export const command = 'resnapshot';
export const describe = 'read chosen tables again while cdc start runs (changes never overwritten by older reads)';

export function builder(y: Argv): Argv<ResnapshotFlags> {
  // The flags of the cdc start that is to read the tables.
  return sourceOptions(serviceOptions(y, { pg: true }), { tables: 'schema.table,… to read again' }) as unknown as Argv<ResnapshotFlags>;
}

export async function run(flags: ResnapshotFlags, env: Env): Promise<void> {
  const config = resolveResnapshotConfig(flags, env);
  const logger = createLogger({ level: config.logLevel });
  const client = await connectPg(config.pgUrl);
  const log = openLog(config.log, logger);
  try {
    const chosen = selectTables(await listTables(client), config.tables);
    if (chosen.keyless.length > 0) {
      throw new ConfigError('RESNAPSHOT_NOT_CAPTURED', `cdc does not capture ${chosen.keyless.map((t) => `${t.schema}.${t.table}`).join(', ')}: no primary key or replica-identity index`, {
        hint: 'name captured tables only (the log of cdc start lists the others with the reason)',
      });
    }
    const tables = chosen.captured.map((t) => ({ schema: t.schema, table: t.table }));
    // Values arrive as PostgreSQL's text (connect.ts), booleans too.
    const slot = await client.query<{ active: string }>('SELECT active::text AS active FROM pg_replication_slots WHERE slot_name = $1', [config.slot]);
    if (slot.rows.length === 0) {
      throw new CdcError('RESNAPSHOT_NO_SLOT', `there is no replication slot ${config.slot}: no cdc start has run with it`, {
        exitCode: 2,
        hint: 'pass the --slot of the running cdc start; a first cdc start reads every table anyway',
      });
    }
    await log.connect();
    const topic = stateTopic(config.prefix);
    const from = (await log.endOffsets([topic])).get(topic) ?? 0n;
    await requestResnapshot(client, { slot: config.slot, tables });
    const names = tables.map((t) => `${t.schema}.${t.table}`).join(', ');
    if (slot.rows[0]?.active !== 'true') {
      process.stdout.write(`asked to read ${names} again; no cdc start is reading slot ${config.slot} now: the tables are read again when it starts\n`);
      return;
    }
    process.stdout.write(`asked the cdc start of slot ${config.slot} to read ${names} again\n`);
    await follow(log, topic, from, config.slot, tables);
  } finally {
    await log.close();
    await client.end().catch(() => undefined);
  }
}

/** Prints the progress of the reads from the state topic until each table is read in full, or SIGINT/SIGTERM. */
async function follow(log: TopicLog, topic: string, from: bigint, slot: string, tables: readonly { schema: string; table: string }[]): Promise<void> {
  const left = new Map(tables.map((t) => [JSON.stringify([t.schema, t.table]), 0]));
  let lastReport = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const stop = (): void => {
    process.stdout.write(`stopped watching; cdc start goes on reading ${[...left.keys()].map((k) => (JSON.parse(k) as string[]).join('.')).join(', ')}\n`);
    finished();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const consumption = await log.consume({
    from: new Map([[topic, from]]),
    onBatch: (batch) => {
      for (const r of batch.records) {
        const key = JSON.parse(r.key.toString('utf8')) as { kind?: unknown; slot?: unknown; schema?: unknown; table?: unknown };
        if (key.kind !== 'snapshot' || key.slot !== slot || r.value === null) continue;
        const ref = JSON.stringify([key.schema, key.table]);
        if (!left.has(ref)) continue;
        const v = JSON.parse(r.value.toString('utf8')) as { done?: unknown; rows?: unknown };
        const name = `${String(key.schema)}.${String(key.table)}`;
        if (v.done === false) {
          left.set(ref, typeof v.rows === 'number' ? v.rows : 0);
          if (Date.now() - lastReport > 5000) {
            lastReport = Date.now();
            process.stdout.write(`${name}: ${left.get(ref)} rows read\n`);
          }
          continue;
        }
        process.stdout.write(`${name}: read again (${left.get(ref)} rows)\n`);
        left.delete(ref);
        if (left.size === 0) finished();
      }
      return Promise.resolve();
    },
  });
  try {
    await Promise.race([done, consumption.done]);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await consumption.stop();
  }
}
