/**
 * Audits the configuration of existing topics at `cdc start`. `cdc start` creates its topics
 * compacted, but topics made by hand, by an older version or by a cluster-wide default may be set
 * up to lose data: a `delete` cleanup policy removes rows that have not changed for
 * `retention.ms`, so a bootstrap from offset zero would miss them for good. Such settings stop
 * `cdc start` (exit 2); settings that only weaken durability or safety margins are warnings.
 */
import { CdcError, type Logger } from '../common/index.js';
import type { TopicDescription, TopicLog } from './topic-log.js';

/** One finding about one topic. */
export interface AuditFinding {
  topic: string;
  severity: 'error' | 'warning';
  /** What is wrong and what it means. */
  problem: string;
  /** The fix. */
  fix: string;
}

/** For audits of topics found while running: their errors count, their warnings were said at start. */
const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A tombstone retention shorter than this gives sinks little time to come back after an outage. */
const SHORT_DELETE_RETENTION_MS = 24 * 3600 * 1000;

function alter(topic: string, setting: string): string {
  return `kafka-configs.sh --bootstrap-server HOST:PORT --alter --entity-type topics --entity-name ${topic} --add-config ${setting}`;
}

/** The findings for one topic's description (pure; see {@link auditTopics}). */
export function auditTopic(topic: string, d: TopicDescription): AuditFinding[] {
  const out: AuditFinding[] = [];
  if (d.partitions !== 1) {
    // One partition is what gives a table's changes one order and a sink one offset per topic:
    // with more, a reader sees partition 0 only and end offsets count records it never reads.
    out.push({
      topic,
      severity: 'error',
      problem: `it has ${d.partitions} partitions; cdc needs exactly 1 (one order per table, one offset per topic), and would skip the rows of the others`,
      fix: `delete the topic (kafka-topics.sh --bootstrap-server HOST:PORT --delete --topic ${topic}) and let cdc start create it, or use another --topic-prefix`,
    });
  }
  const policy = (d.configs.get('cleanup.policy') ?? 'compact').split(',').map((p) => p.trim());
  const retentionMs = Number(d.configs.get('retention.ms') ?? '-1');
  const retentionBytes = Number(d.configs.get('retention.bytes') ?? '-1');
  const finiteRetention = retentionMs >= 0 || retentionBytes >= 0;
  if (policy.includes('delete') && finiteRetention) {
    out.push({
      topic,
      severity: 'error',
      problem: `cleanup.policy=${policy.join(',')} with retention.ms=${retentionMs} retention.bytes=${retentionBytes} deletes old records: rows that have not changed since then disappear from the topic, so replicas bootstrapped from it would lack them`,
      fix: alter(topic, 'cleanup.policy=compact'),
    });
  } else if (!policy.includes('compact')) {
    out.push({
      topic,
      severity: 'warning',
      problem: `cleanup.policy=${policy.join(',')} is not compact: the topic keeps every change forever and a bootstrap replays all of them`,
      fix: alter(topic, 'cleanup.policy=compact'),
    });
  }
  const minIsr = Number(d.configs.get('min.insync.replicas') ?? '1');
  if (d.local) {
    // One disk by design: replication findings do not apply.
  } else if (minIsr > d.replicationFactor) {
    out.push({
      topic,
      severity: 'error',
      problem: `min.insync.replicas=${minIsr} exceeds the replication factor ${d.replicationFactor}: Kafka refuses every append with acks=all`,
      fix: alter(topic, `min.insync.replicas=${d.replicationFactor}`),
    });
  } else if (d.replicationFactor > 1 && minIsr < 2) {
    out.push({
      topic,
      severity: 'warning',
      problem: `min.insync.replicas=${minIsr} with replication factor ${d.replicationFactor}: an acknowledged change may exist on the leader alone and be lost with it`,
      fix: alter(topic, 'min.insync.replicas=2'),
    });
  } else if (d.replicationFactor === 1) {
    out.push({ topic, severity: 'warning', problem: 'replication factor 1: the log has a single copy, and losing that broker\'s disk loses it', fix: 'recreate the topic with a replication factor of 3 on a production cluster' });
  }
  if (d.configs.get('unclean.leader.election.enable') === 'true') {
    out.push({ topic, severity: 'warning', problem: 'unclean.leader.election.enable=true: an out-of-sync replica may become leader and drop acknowledged changes', fix: alter(topic, 'unclean.leader.election.enable=false') });
  }
  const deleteRetention = Number(d.configs.get('delete.retention.ms') ?? 'NaN');
  if (Number.isFinite(deleteRetention) && deleteRetention < SHORT_DELETE_RETENTION_MS) {
    out.push({
      topic,
      severity: 'warning',
      problem: `delete.retention.ms=${deleteRetention}: a sink stopped for longer than that may miss deletes and must then be rebuilt`,
      fix: alter(topic, 'delete.retention.ms=604800000'),
    });
  }
  return out;
}

/**
 * Audits `topics`: logs each warning, and throws one error (exit 2) listing every finding that
 * would lose data. A log that cannot describe its topics is not audited.
 */
export async function auditTopics(log: TopicLog, topics: readonly string[], logger: Logger = silent): Promise<AuditFinding[]> {
  if (topics.length === 0) return [];
  const described = await log.describeTopics(topics);
  const findings = [...described].flatMap(([topic, d]) => auditTopic(topic, d));
  // Replication factor 1 is the norm on a development broker: say it once, not per topic.
  const single = findings.filter((f) => f.problem.startsWith('replication factor 1'));
  if (single.length > 0) logger.warn(`${single.length} topic(s) have replication factor 1: the log has a single copy`, { fix: single[0]?.fix });
  for (const f of findings) if (f.severity === 'warning' && !single.includes(f)) logger.warn(`topic ${f.topic}: ${f.problem}`, { fix: f.fix });
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length > 0) {
    throw new CdcError('TOPIC_CONFIG_LOSES_DATA', `topic configuration would lose data: ${errors.map((f) => `${f.topic}: ${f.problem}`).join('; ')}`, {
      exitCode: 2,
      hint: errors.map((f) => f.fix).join('; '),
    });
  }
  return findings;
}
