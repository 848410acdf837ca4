import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSize, logSince, pidAlive, run } from './exec.js';
import { waitForBroker } from './kafka-ready.js';
import { ensureKafkaJars } from './kafka-jars.js';
import { freePort } from './ports.js';
import type { KafkaControl } from './types.js';
import { waitFor } from './wait.js';

const READY_TIMEOUT_MS = 60_000;
const TERM_GRACE_MS = 10_000;

/**
 * Starts a single-node KRaft broker (broker and controller in one JVM) in a temp dir on free
 * ports, fetching the jars first if the cache lacks them. Ready (answers listTopics) when this
 * resolves; on failure the dir is removed and the error carries the tail of the broker's log.
 */
export async function startLocalKafka(): Promise<KafkaControl> {
  const jarDir = await ensureKafkaJars();
  const dir = mkdtempSync(join(tmpdir(), 'cdc-kafka-'));
  const c: KafkaControl = {
    java: javaBinary(),
    jarDir,
    dir,
    propertiesFile: join(dir, 'server.properties'),
    log4jFile: join(dir, 'log4j.properties'),
    logFile: join(dir, 'kafka.log'),
    pidFile: join(dir, 'kafka.pid'),
    port: await freePort(),
    controllerPort: await freePort(),
  };
  try {
    writeFileSync(c.propertiesFile, serverProperties(c));
    writeFileSync(c.log4jFile, LOG4J);
    // KRaft wants a 22-character base64url cluster id: 16 random bytes are exactly that. One in
    // 64 begins with '-', which StorageTool's argument parser takes for an option ("argument
    // --cluster-id/-t: expected one argument"): drawn again.
    let clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
    await run(c.java, ['-cp', `${jarDir}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', c.propertiesFile], {
      cwd: dir,
    });
    await startKafka(c);
    return c;
  } catch (err) {
    await stopKafka(c).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Launches the broker on an already formatted dir and waits until it answers; a no-op while it
 * runs. The JVM is detached and tracked only by its pid file, so a test worker may restart it
 * and the run's teardown still stops whichever process is current.
 */
export async function startKafka(c: KafkaControl, readyTimeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const running = readPid(c);
  // A second JVM would fail to bind, and its cleanup would orphan the first: treat as started.
  if (running !== undefined && pidAlive(running)) {
    await waitForBroker(`127.0.0.1:${c.port}`, { timeoutMs: readyTimeoutMs, gone: () => !pidAlive(running) });
    return;
  }
  const logStart = fileSize(c.logFile);
  const out = openSync(c.logFile, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(
      c.java,
      [
        '-Xmx512m',
        '-Djava.awt.headless=true',
        '-Djava.net.preferIPv4Stack=true',
        `-Dlog4j.configuration=file:${c.log4jFile}`,
        '-cp',
        `${c.jarDir}/*`,
        'kafka.Kafka',
        c.propertiesFile,
      ],
      { cwd: c.dir, detached: true, stdio: ['ignore', out, out] },
    );
    // A missing java leaves pid undefined, reported below; without a listener it would crash us.
    child.on('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(out);
  }
  if (pid === undefined) throw new Error(`could not start ${c.java}: is Java 17 installed (or JAVA_HOME set)?`);
  writeFileSync(c.pidFile, `${pid}\n`);
  const started = pid;
  try {
    await waitForBroker(`127.0.0.1:${c.port}`, { timeoutMs: readyTimeoutMs, gone: () => !pidAlive(started) });
  } catch (err) {
    await stopKafka(c).catch(() => undefined);
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`Kafka broker did not become ready: ${why}\n--- ${c.logFile} ---\n${logSince(c.logFile, logStart)}`, {
      cause: err,
    });
  }
}

/** Stops the broker: SIGTERM for a clean shutdown, SIGKILL if it is still there after 10 s. */
export async function stopKafka(c: KafkaControl): Promise<void> {
  const pid = readPid(c);
  if (pid === undefined) return;
  if (pidAlive(pid)) {
    signal(pid, 'SIGTERM');
    const gone = await waitFor(() => !pidAlive(pid), { timeoutMs: TERM_GRACE_MS, intervalMs: 100 }).catch(() => false);
    if (!gone) {
      signal(pid, 'SIGKILL');
      await waitFor(() => !pidAlive(pid), { timeoutMs: 10_000, intervalMs: 50, what: `Kafka pid ${pid} to die` });
    }
  }
  rmSync(c.pidFile, { force: true });
}

/** Stops and starts the broker on the same ports and data. */
export async function restartKafka(c: KafkaControl): Promise<void> {
  await stopKafka(c);
  await startKafka(c);
}

/** Stops the broker and deletes its dir. */
export async function destroyKafka(c: KafkaControl): Promise<void> {
  try {
    await stopKafka(c);
  } finally {
    rmSync(c.dir, { recursive: true, force: true });
  }
}

/** Synchronous last resort for `process.on('exit')`: no clean shutdown, just make sure it is gone. */
export function destroyKafkaSync(c: KafkaControl): void {
  const pid = readPid(c);
  if (pid !== undefined && pidAlive(pid)) signal(pid, 'SIGKILL');
  rmSync(c.dir, { recursive: true, force: true });
}

export function readPid(c: KafkaControl): number | undefined {
  if (!existsSync(c.pidFile)) return undefined;
  const pid = Number(readFileSync(c.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone between the check and the signal.
  }
}

export function javaBinary(): string {
  const home = process.env['JAVA_HOME'];
  return home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java';
}

function serverProperties(c: KafkaControl): string {
  return `# cdc test harness: single-node KRaft
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${c.controllerPort}
listeners=PLAINTEXT://127.0.0.1:${c.port},CONTROLLER://127.0.0.1:${c.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${c.port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${join(c.dir, 'data')}
${sharedBrokerProperties(1)}`;
}

/**
 * The settings every broker the harness starts has, a single node or a node of a cluster of
 * `replicas`: topics only as cdc creates them, internal topics replicated to every node with a
 * majority in sync, consumer groups without the rebalance delay, and a cleaner that looks often.
 */
export function sharedBrokerProperties(replicas: number): string {
  return `num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=${replicas}
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=${replicas}
transaction.state.log.min.isr=${Math.floor(replicas / 2) + 1}
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
`;
}

// INFO to stdout, which is the log file: the tail is what explains a broker that did not start.
export const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
`;
