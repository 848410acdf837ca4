/**
 * `cdc status`: how far behind everything is — the slot behind PostgreSQL, the topics' ends, and
 * each replica behind the topics and the source. Human-readable lines, or one JSON document on
 * stdout with `--json` (bigints as strings).
 */
import type { Argv } from 'yargs';
import { existsSync } from 'node:fs';
import { CdcError, ConfigError, createLogger, messageOf, redactUrl } from '../../common/index.js';
import { openLog, schemaTopic } from '../../compaction/index.js';
import { readReplicaStatus, type ReplicaStatus } from '../../sink-sqlite/index.js';
import { connectPg, slotStatus, type SlotStatus } from '../../source-postgres/index.js';
import { resolveStatusConfig, type Env, type StatusFlags } from '../config.js';

export const command = 'status';
export const describe = 'slot lag, topic end offsets, and each replica\'s applied offsets and position';

export function builder(y: Argv): Argv<StatusFlags> {
  return y
    .option('pg', { type: 'string', describe: 'PostgreSQL URL, for the slot lag (env CDC_PG_URL)' })
    .option('log', { type: 'string', describe: 'kafka://host:port[,…], for the topics\' end offsets (env CDC_LOG)' })
    .option('replica', { type: 'string', array: true, describe: 'replica file(s)' })
    .option('topic-prefix', { type: 'string', describe: 'topic name prefix (default: the replicas\' own, else cdc)' })
    .option('json', { type: 'boolean', describe: 'print one JSON document for scripts' }) as unknown as Argv<StatusFlags>;
}

interface ReplicaReport extends ReplicaStatus {
  /** Records in the log not yet applied, per topic (when the log was asked). */
  lagRecords: Record<string, bigint>;
  /**
   * Per topic that is behind: seconds since the replica last applied anything from it. A sink
   * that makes no progress says why in its own log every 10 s; this is how `cdc status` shows it.
   */
  idleSeconds: Record<string, number>;
}

/** Behind and idle this long: printed as stalled rather than merely behind. */
const STALLED_AFTER_S = 30;

interface Report {
  source?: { url: string; slots: SlotStatus[] };
  log?: { description: string; prefix: string; topics: Record<string, bigint> };
  replicas: ReplicaReport[];
}

export async function run(flags: StatusFlags, env: Env): Promise<void> {
  const config = resolveStatusConfig(flags, env);
  const logger = createLogger({ level: config.logLevel });
  const report: Report = { replicas: [] };

  const replicas: ReplicaStatus[] = config.replicas.map((path) => {
    if (!existsSync(path)) throw new ConfigError('REPLICA_MISSING', `--replica ${path} does not exist`, { hint: 'pass the path of an existing replica' });
    try {
      return readReplicaStatus(path);
    } catch (e) {
      throw new CdcError('REPLICA_UNREADABLE', `cannot read the replica ${path}: ${messageOf(e)}`, { hint: 'if it is damaged, run cdc rebuild NAME --log LOG --replica ' + path, cause: e });
    }
  });

  if (config.pgUrl !== undefined) {
    const client = await connectPg(config.pgUrl);
    try {
      report.source = { url: redactUrl(config.pgUrl), slots: await slotStatus(client) };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  const ends = new Map<string, bigint>();
  if (config.log !== undefined) {
    const log = openLog(config.log, logger);
    try {
      await log.connect();
      const prefix = config.prefix ?? replicas.find((r) => r.topicPrefix !== null)?.topicPrefix ?? 'cdc';
      const topics = (await log.listTopics(prefix + '.')).filter((t) => t.split('.').length >= 2);
      for (const [t, o] of await log.endOffsets(topics)) ends.set(t, o);
      report.log = { description: log.description, prefix, topics: Object.fromEntries(ends) };
    } finally {
      await log.close();
    }
  }

  for (const r of replicas) {
    const lagRecords: Record<string, bigint> = {};
    const idleSeconds: Record<string, number> = {};
    for (const t of r.topics) {
      const end = ends.get(t.topic);
      if (end === undefined) continue;
      lagRecords[t.topic] = end > t.nextOffset ? end - t.nextOffset : 0n;
      const applied = Date.parse(t.updatedAt);
      if (end > t.nextOffset && !Number.isNaN(applied)) idleSeconds[t.topic] = Math.max(0, Math.round((Date.now() - applied) / 1000));
    }
    report.replicas.push({ ...r, lagRecords, idleSeconds });
  }

  if (config.json) {
    process.stdout.write(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
    return;
  }
  process.stdout.write(human(report));
}

function human(report: Report): string {
  const lines: string[] = [];
  if (report.source) {
    lines.push(`source ${report.source.url}`);
    if (report.source.slots.length === 0) lines.push('  no logical replication slot in this database');
    for (const s of report.source.slots) {
      const time = s.lagSeconds === null ? (s.active ? 'time lag not measured yet' : 'no reader connected') : `${s.lagSeconds.toFixed(1)} s behind`;
      lines.push(`  slot ${s.slot} (${s.active ? 'active' : 'inactive'}): confirmed ${s.confirmedFlushLsn ?? '-'}, current ${s.currentLsn}, lag ${s.lagBytes ?? '-'} bytes, ${time}${s.walStatus && s.walStatus !== 'reserved' ? `, wal_status ${s.walStatus}` : ''}`);
    }
  }
  if (report.log) {
    lines.push(`log ${report.log.description} (prefix ${report.log.prefix})`);
    const topics = Object.entries(report.log.topics);
    if (topics.length === 0) lines.push('  no topics with this prefix');
    for (const [t, end] of topics) lines.push(`  ${t}: end offset ${end}${t === schemaTopic(report.log.prefix) ? ' (table definitions)' : ''}`);
  }
  for (const r of report.replicas) {
    lines.push(`replica ${r.path} (sink ${r.sinkName ?? '?'}, prefix ${r.topicPrefix ?? '?'})`);
    lines.push(`  reflects source position ${r.lsn ?? '-'}${r.commitTime ? ` (commit ${r.commitTime})` : ''}`);
    for (const t of r.topics) {
      const lag = r.lagRecords[t.topic];
      const idle = r.idleSeconds[t.topic];
      const stalled = idle === undefined ? '' : idle >= STALLED_AFTER_S ? `, STALLED: nothing applied for ${idle} s (is its sink running? its log says why every 10 s)` : `, last applied ${idle} s ago`;
      lines.push(`  ${t.topic}: applied up to offset ${t.nextOffset}${lag !== undefined ? `, ${lag} records behind` : ''}${stalled}${t.lsn ? `, last change ${t.lsn}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
