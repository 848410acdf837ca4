/**
 * A 3-node KRaft cluster for the cluster fault tests: the same jars as the single broker, three
 * `node.id`s, every node both broker and controller (a quorum of three), replication factor 3 and
 * `min.insync.replicas=2`, unclean leader election off — what users who outgrow one machine run.
 *
 * Clients reach each node through a fault proxy of its own: a node advertises the proxy's port on
 * its client listener and talks to the other nodes on a separate, direct listener, so a test can
 * cut one node off from `cdc` (and only from `cdc`) while the cluster itself stays whole.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, freePort, javaBinary, LOG4J, onProcessEnd, pidAlive, readPid, run, sharedBrokerProperties, signal, startKafka, stopKafka, waitFor } from '../../services/index.js';
import type { KafkaControl } from './provided.js';
import { startProxy, type FaultProxy } from './proxy.js';

/** One node of the cluster. */
export interface ClusterNode {
  readonly id: number;
  readonly control: KafkaControl;
  /** Sits between clients and this node's client listener. */
  readonly proxy: FaultProxy;
}

export interface KafkaCluster {
  /** `host:port` of every node, through its proxy: what `--log kafka://…` takes. */
  readonly brokers: string;
  readonly nodes: readonly ClusterNode[];
  node(id: number): ClusterNode;
  /** The node id leading partition 0 of `topic`, from fresh metadata. */
  leaderOf(topic: string): Promise<number>;
  /** The node id of the active controller (the KRaft quorum leader). */
  activeController(): Promise<number>;
  /** kill -9 of one node; resolves when the process is gone. */
  kill(id: number): Promise<void>;
  /** Starts a stopped node again on its ports and data; resolves when it answers. */
  start(id: number): Promise<void>;
  /** Starts every node that is not running (after a test that failed half-way). */
  startAll(): Promise<void>;
  /** SIGSTOP / SIGCONT: a node that hangs without its connections closing. */
  pause(id: number): void;
  resume(id: number): void;
  /** Waits until every partition of `topics` has all its replicas in sync again. */
  healed(topics: readonly string[], timeoutMs?: number): Promise<void>;
  admin(): Kafka;
  destroy(): Promise<void>;
}

const SIZE = 3;
/**
 * A node recovers its logs and catches up with the quorum before it listens; on two loaded cores
 * that took 60 s once, so a restart is given longer than a single broker's start.
 */
const READY_TIMEOUT_MS = 180_000;

/**
 * Attempts at starting the cluster. Its nine ports are chosen free (bound to port 0, then released)
 * seconds before the nodes bind them, from the same ephemeral range as every outgoing connection of
 * the test file running beside it: CI once saw a node exit with "Address already in use". A new
 * attempt takes new ports.
 */
const START_ATTEMPTS = 3;

export async function startKafkaCluster(): Promise<KafkaCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKafkaClusterOnce();
    } catch (e) {
      if (attempt >= START_ATTEMPTS || !/Address already in use/.test(e instanceof Error ? e.message : String(e))) throw e;
    }
  }
}

async function startKafkaClusterOnce(): Promise<KafkaCluster> {
  const jarDir = await ensureKafkaJars();
  const base = mkdtempSync(join(tmpdir(), 'cdc-kafka-cluster-'));
  const ids = Array.from({ length: SIZE }, (_, i) => i + 1);
  const ports = await Promise.all(ids.map(async () => ({ client: await freePort(), internal: await freePort(), controller: await freePort() })));
  const proxies = await Promise.all(ports.map((p) => startProxy('127.0.0.1', p.client)));
  const voters = ids.map((id, i) => `${id}@127.0.0.1:${ports[i]?.controller}`).join(',');
  const nodes: ClusterNode[] = ids.map((id, i) => {
    const dir = join(base, `node-${id}`);
    mkdirSync(dir);
    const p = ports[i] as { client: number; internal: number; controller: number };
    const control: KafkaControl = {
      java: javaBinary(),
      jarDir,
      dir,
      propertiesFile: join(dir, 'server.properties'),
      log4jFile: join(dir, 'log4j.properties'),
      logFile: join(dir, 'kafka.log'),
      pidFile: join(dir, 'kafka.pid'),
      port: p.client,
      controllerPort: p.controller,
    };
    writeFileSync(control.propertiesFile, nodeProperties(id, dir, p, (proxies[i] as FaultProxy).port, voters));
    writeFileSync(control.log4jFile, LOG4J);
    return { id, control, proxy: proxies[i] as FaultProxy };
  });
  const killAll = (): void => {
    for (const n of nodes) {
      const pid = readPid(n.control);
      if (pid !== undefined) signal(pid, 'SIGKILL');
    }
    rmSync(base, { recursive: true, force: true });
  };
  const unregister = onProcessEnd(killAll);
  const brokers = nodes.map((n) => `127.0.0.1:${n.proxy.port}`).join(',');
  const admin = (): Kafka => new Kafka({ clientId: 'cdc-test-cluster', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const node = (id: number): ClusterNode => {
    const n = nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id} in the cluster`);
    return n;
  };
  try {
    const clusterId = randomBytes(16).toString('base64url');
    await Promise.all(
      nodes.map((n) => run(n.control.java, ['-cp', `${jarDir}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', n.control.propertiesFile], { cwd: n.control.dir })),
    );
    // Together: a lone node waits for a quorum of its voters before it answers anything.
    await Promise.all(nodes.map((n) => startKafka(n.control, READY_TIMEOUT_MS)));
  } catch (e) {
    unregister();
    killAll();
    await Promise.all(proxies.map((p) => p.close()));
    throw e;
  }

  const metadata = async <T>(read: (a: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> => {
    const a = admin().admin();
    try {
      await a.connect();
      return await read(a);
    } finally {
      await a.disconnect().catch(() => undefined);
    }
  };

  return {
    brokers,
    nodes,
    node,
    admin,
    leaderOf: (topic) =>
      waitFor(
        () =>
          metadata(async (a) => {
            const m = await a.fetchTopicMetadata({ topics: [topic] });
            const leader = m.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader;
            return leader !== undefined && leader >= 0 ? leader : undefined;
          }).catch(() => undefined),
        { timeoutMs: 60_000, intervalMs: 500, what: `a leader for ${topic}` },
      ),
    activeController: () =>
      // KRaft answers Metadata with a random broker as "controller", and the quorum tool is not
      // among the broker's jars: the nodes' own logs say who won the latest election.
      waitFor(
        () => {
          let best: { id: number; epoch: number } | undefined;
          for (const n of nodes) {
            if (readPid(n.control) === undefined) continue;
            const text = existsSync(n.control.logFile) ? readFileSync(n.control.logFile, 'utf8') : '';
            for (const m of text.matchAll(/Completed transition to Leader\(localReplicaKey=ReplicaKey\(id=(\d+),.*?epoch=(\d+)/g)) {
              const epoch = Number(m[2]);
              if (!best || epoch > best.epoch) best = { id: Number(m[1]), epoch };
            }
          }
          return best?.id;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: 'an active controller' },
      ),
    kill: async (id) => {
      const c = node(id).control;
      const pid = readPid(c);
      if (pid === undefined) return;
      signal(pid, 'SIGCONT');
      signal(pid, 'SIGKILL');
      await waitFor(() => !pidAlive(pid), { timeoutMs: 10_000, intervalMs: 50, what: `node ${id} (pid ${pid}) to die` });
      rmSync(c.pidFile, { force: true });
    },
    start: (id) => startKafka(node(id).control, READY_TIMEOUT_MS),
    startAll: async () => {
      const down = nodes.filter((n) => {
        const pid = readPid(n.control);
        return pid === undefined || !pidAlive(pid);
      });
      await Promise.all(down.map((n) => startKafka(n.control, READY_TIMEOUT_MS)));
      for (const n of nodes) {
        const pid = readPid(n.control);
        if (pid !== undefined) signal(pid, 'SIGCONT');
        n.proxy.setDown(false);
        n.proxy.setDelay(0);
      }
    },
    pause: (id) => {
      const pid = readPid(node(id).control);
      if (pid !== undefined) signal(pid, 'SIGSTOP');
    },
    resume: (id) => {
      const pid = readPid(node(id).control);
      if (pid !== undefined) signal(pid, 'SIGCONT');
    },
    healed: async (topics, timeoutMs = 120_000) => {
      await waitFor(
        () =>
          metadata(async (a) => {
            const m = await a.fetchTopicMetadata({ topics: [...topics] });
            return m.topics.every((t) => t.partitions.every((p) => p.isr.length === SIZE)) ? true : undefined;
          }).catch(() => undefined),
        { timeoutMs, intervalMs: 1000, what: `every replica of ${topics.join(', ')} back in sync` },
      );
    },
    destroy: async () => {
      unregister();
      for (const n of nodes) {
        const pid = readPid(n.control);
        if (pid !== undefined) signal(pid, 'SIGCONT');
      }
      await Promise.allSettled(nodes.map((n) => stopKafka(n.control)));
      await Promise.all(proxies.map((p) => p.close()));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

function nodeProperties(id: number, dir: string, ports: { client: number; internal: number; controller: number }, proxyPort: number, voters: string): string {
  return `# cdc test harness: node ${id} of a 3-node KRaft cluster
process.roles=broker,controller
node.id=${id}
controller.quorum.voters=${voters}
listeners=CLIENT://127.0.0.1:${ports.client},INTERNAL://127.0.0.1:${ports.internal},CONTROLLER://127.0.0.1:${ports.controller}
advertised.listeners=CLIENT://127.0.0.1:${proxyPort},INTERNAL://127.0.0.1:${ports.internal}
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT
log.dirs=${join(dir, 'data')}
${sharedBrokerProperties(3)}default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
# A node that stops answering leaves the ISR and loses its broker registration within seconds.
broker.session.timeout.ms=9000
broker.heartbeat.interval.ms=2000
replica.lag.time.max.ms=10000
`;
}
