/**
 * `--vs debezium`: Kafka Connect standalone with the Debezium PostgreSQL connector reading the same
 * WAL as `cdc start`, into the same broker, measured the same way (see docs/benchmarks.md, "cdc
 * beside Debezium").
 *
 * Its slot and publication are created in the workload's database before the WAL is written, beside
 * cdc's, so both read exactly the same WAL, each from a cold start after it was written. Debezium
 * streams from its slot (snapshot.mode=no_data: no snapshot, the table is empty when the slot is
 * made) into a topic created like cdc's (one partition, compacted).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { javaBinary, onProcessEnd, run, waitFor } from '../services/index.js';
import { until } from './child.js';
import { query, type RunDb } from './db.js';
import { ProcessMeter } from './proc.js';

const { Kafka, logLevel } = kafkajs;

/** One Debezium run on one workload. */
export interface DebeziumFigures {
  rows: number;
  /** From its "Starting replication stream" line until its topic holds every row. */
  seconds: number;
  rows_per_s: number;
  /** JVM start to the topic holding every row: start-up (JVM, plugin scan, connecting) included. */
  wall_seconds: number;
  /** utime + stime of the Connect JVM from its start until the topic holds every row. */
  cpu_seconds: number;
  /** The part of `cpu_seconds` spent after the "Starting replication stream" line. */
  catchup_cpu_seconds: number;
  /** VmHWM of the Connect JVM, MB. */
  peak_rss_mb: number;
}

/**
 * Which settings: `defaults` is Debezium and Connect as shipped (what `--vs debezium` measures);
 * `tuned` (`--debezium-tuned`) adds the usual throughput settings, TUNED_WORKER and TUNED_CONNECTOR.
 */
export type DebeziumVariant = 'defaults' | 'tuned';

/** Where Debezium runs: the classpath, the broker, a scratch directory, which variants. */
export interface DebeziumSide {
  jarDir: string;
  /** `host:port` of the broker cdc writes to. */
  kafka: string;
  dir: string;
  variants: DebeziumVariant[];
}

/**
 * The producer of a tuned Connect worker: large batches (Connect's default 16 KB holds ~27 of
 * Debezium's ~600-byte records, and Connect keeps one request in flight), lz4. One request in flight
 * is kept, as cdc keeps one append in flight.
 */
export const TUNED_WORKER = ['producer.batch.size=1048576', 'producer.linger.ms=10', 'producer.compression.type=lz4'];
/** A tuned connector: larger batches and queue than Debezium's 2,048 / 8,192, a shorter poll interval than 500 ms. */
export const TUNED_CONNECTOR = ['max.batch.size=16384', 'max.queue.size=65536', 'poll.interval.ms=100'];

/**
 * The JVM flags of Kafka's own bin/connect-standalone.sh and kafka-run-class.sh, so the figures are
 * those of Connect as a user starts it: heap 256 MB to 2 GB, G1 with their pause goal.
 */
export const CONNECT_JVM_FLAGS = [
  '-Xms256M',
  '-Xmx2G',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

/** The table every workload writes (bench/db.ts). */
const TABLE = 'public.items';
const STOP_GRACE_MS = 15_000;
/** Bytes of its output kept for an error message. */
const TAIL_BYTES = 16 * 1024;

/** Names of a variant's own slot, publication, topic prefix and connector in a workload's database. */
export function debeziumName(db: RunDb, variant: DebeziumVariant): string {
  return `${db.name}_${variant === 'defaults' ? 'dbz' : 'dbzt'}`;
}

/** A variant's topic for the measured table. */
export function debeziumTopic(db: RunDb, variant: DebeziumVariant): string {
  return `${debeziumName(db, variant)}.${TABLE}`;
}

/**
 * Before the WAL is written: each variant's publication and slot (pgoutput), and its topic, created
 * like cdc's (one partition, compacted: the broker does not create topics on its own).
 */
export async function prepareDebezium(side: DebeziumSide, db: RunDb): Promise<void> {
  for (const variant of side.variants) {
    const name = debeziumName(db, variant);
    await query(db.url, `CREATE PUBLICATION ${name} FOR TABLE ${TABLE}`);
    await query(db.url, `SELECT pg_create_logical_replication_slot('${name}', 'pgoutput')`);
  }
  const admin = new Kafka({ clientId: 'cdc-bench', brokers: [side.kafka], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: side.variants.map((v) => ({ topic: debeziumTopic(db, v), numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts Connect standalone cold on the written WAL and times it until its topic's end offset
 * reaches `rows` (every insert is one record). The JVM is killed on every way out, so its slot can
 * be dropped with the database.
 */
export async function runDebezium(side: DebeziumSide, db: RunDb, rows: number, variant: DebeziumVariant): Promise<DebeziumFigures> {
  const conf = mkdtempSync(join(side.dir, 'debezium-'));
  const worker = join(conf, 'worker.properties');
  const connector = join(conf, 'connector.properties');
  const log4j = join(conf, 'log4j2.properties');
  const tuned = variant === 'tuned';
  writeFileSync(worker, workerProperties(side.kafka, join(conf, 'offsets')) + (tuned ? TUNED_WORKER.join('\n') + '\n' : ''));
  writeFileSync(connector, connectorProperties(db, variant) + (tuned ? TUNED_CONNECTOR.join('\n') + '\n' : ''));
  writeFileSync(log4j, LOG4J2);

  const admin = new Kafka({ clientId: 'cdc-bench', brokers: [side.kafka], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  // Only a tail is kept (Connect prints every config at start-up); the lines waited for are
  // matched as they come.
  let tail = '';
  let streaming = false;
  let failed = false;
  const startedAt = performance.now();
  const child = spawn(javaBinary(), [...CONNECT_JVM_FLAGS, `-Dlog4j2.configurationFile=file:${log4j}`, '-cp', `${side.jarDir}/*`, 'org.apache.kafka.connect.cli.ConnectStandalone', worker, connector], {
    cwd: conf,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = onProcessEnd(() => void child.kill('SIGKILL'));
  let exited = false;
  // A java that cannot be spawned emits 'error' and never 'exit': both end the wait.
  const done = new Promise<void>((resolve) => {
    child.on('exit', () => ((exited = true), resolve()));
    child.on('error', (e) => ((exited = true), (tail += `\n${e.message}`), resolve()));
  });
  const meter = new ProcessMeter(child.pid ?? -1);
  const onOutput = (d: string): void => {
    const text = tail.slice(-1024) + d;
    if (/Starting replication stream from LSN/.test(text)) streaming = true;
    if (/\] ERROR /.test(text)) failed = true;
    tail = (tail + d).slice(-TAIL_BYTES);
  };
  child.stdout.setEncoding('utf8').on('data', onOutput);
  child.stderr.setEncoding('utf8').on('data', onOutput);
  const broken = (): Error => new Error(`Debezium (Kafka Connect) ${exited ? 'exited' : 'logged an error'}:\n${tail}`);
  try {
    await until('Debezium to start streaming', () => {
      if (exited || failed) throw broken();
      return streaming;
    }, 300_000);
    const t0 = performance.now();
    const cpu0 = meter.cpuSeconds();
    await until('Debezium to write every row', async () => {
      if (exited || failed) throw broken();
      const [p] = await admin.fetchTopicOffsets(debeziumTopic(db, variant));
      return Number(p?.high ?? 0) >= rows;
    });
    const t1 = performance.now();
    const cpu = meter.cpuSeconds();
    const seconds = (t1 - t0) / 1000;
    return {
      rows,
      seconds: round(seconds),
      rows_per_s: Math.round(rows / seconds),
      wall_seconds: round((t1 - startedAt) / 1000),
      cpu_seconds: round(cpu),
      catchup_cpu_seconds: round(cpu - cpu0),
      peak_rss_mb: meter.peakRssMb(),
    };
  } finally {
    await admin.disconnect().catch(() => undefined);
    // A clean stop first (as a user's Ctrl-C), then no more patience.
    if (!exited) child.kill('SIGTERM');
    const gone = await waitFor(() => exited, { timeoutMs: STOP_GRACE_MS, intervalMs: 100 }).then(() => true, () => false);
    if (!gone) child.kill('SIGKILL');
    await done;
    meter.stop();
    unregister();
    rmSync(conf, { recursive: true, force: true });
  }
}

/**
 * Connect's worker: JSON without schemas (the nearest to cdc's JSON values), offsets in a file,
 * the REST listener on a free port (several benches may share the machine), and the producer at
 * Connect's defaults for source tasks (acks=all, one request in flight, linger.ms 5, batch.size
 * 16 KB, no compression).
 */
function workerProperties(kafka: string, offsets: string): string {
  return `bootstrap.servers=${kafka}
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename=${offsets}
listeners=http://127.0.0.1:0
`;
}

/** The connector at Debezium's defaults, but for its own slot and publication and no snapshot. */
function connectorProperties(db: RunDb, variant: DebeziumVariant): string {
  const u = new URL(db.url);
  const name = debeziumName(db, variant);
  return `name=${name}
connector.class=io.debezium.connector.postgresql.PostgresConnector
tasks.max=1
plugin.name=pgoutput
database.hostname=${u.hostname}
database.port=${u.port || '5432'}
database.user=${decodeURIComponent(u.username)}
database.password=${decodeURIComponent(u.password)}
database.dbname=${db.name}
topic.prefix=${name}
table.include.list=${TABLE}
slot.name=${name}
publication.name=${name}
publication.autocreate.mode=disabled
snapshot.mode=no_data
`;
}

// INFO, as Kafka's own config/connect-log4j2.yaml: the line timed from is an INFO line.
const LOG4J2 = `rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
`;

/** The JVM's own version line (`java -version` prints it on stderr), for the report. */
export async function javaVersion(): Promise<string> {
  const { stdout, stderr } = await run(javaBinary(), ['-version']);
  return (stderr + stdout).split('\n')[0]?.trim() ?? 'unknown';
}

function round(s: number): number {
  return Number(s.toFixed(3));
}
