/**
 * `cdc` on a 3-node KRaft cluster (replication factor 3, min.insync.replicas 2, no unclean
 * elections) while nodes fail under a write load: a partition leader killed and restarted, then a
 * second node; the active controller killed; a node paused past its session timeout; a node cut off
 * from `cdc` by the network. After each: `cdc start` and the sink never stopped, the followed
 * replica and one bootstrapped afresh equal the source, and no key's changes were reordered.
 *
 * `CDC_CLUSTER_ROUNDS=N` repeats the first scenario N times (the issue's 10-out-of-10 run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, services, sql, startProxy, uniqueName, waitFor, type CliProcess, type FaultProxy, type TestDatabase } from '../harness/index.js';
import { startKafkaCluster, type KafkaCluster } from '../harness/kafka-cluster.js';
import { reorderedKeys, watch } from './support/cluster-checks.js';
import { LOAD_SCHEMA, LOAD_TABLES, startLoad, type Load } from './support/load.js';
import { initPgbench, PGBENCH_TABLES, startPgbench } from './support/pgbench.js';
import { Pipeline } from './support/pipeline.js';

const rounds = Number(process.env['CDC_CLUSTER_ROUNDS'] ?? '1');
const dir = mkdtempSync(join(tmpdir(), 'cdc-cluster-'));
const cleanups: (() => Promise<void>)[] = [];
let cluster: KafkaCluster;

beforeAll(async () => {
  cluster = await startKafkaCluster();
  cleanups.push(() => cluster.destroy());
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  db: TestDatabase;
  p: Pipeline;
  source: CliProcess;
  sink: CliProcess;
  load: Load;
  topics: string[];
  alive: () => void;
}

/**
 * A database under load, `cdc start` and a following sink on the cluster, all running. With
 * `pgProxy`, `cdc` reaches PostgreSQL through it (the load does not).
 */
async function running(name: string, o: { pgProxy?: FaultProxy; pgbench?: boolean } = {}): Promise<Running> {
  const { pgProxy } = o;
  // Each test starts from a whole cluster, whatever the one before left behind.
  await cluster.startAll();
  const db = await createDatabase(name);
  cleanups.push(() => db.drop());
  if (o.pgbench) await initPgbench(db.url);
  else await sql(db.url, LOAD_SCHEMA);
  const tables = o.pgbench ? PGBENCH_TABLES : LOAD_TABLES;
  const prefix = uniqueName('c');
  const pgUrl = new URL(db.url);
  if (pgProxy) pgUrl.port = String(pgProxy.port);
  const p = new Pipeline({ pgUrl: pgUrl.toString(), log: `kafka://${cluster.brokers}`, prefix, slot: uniqueName('slot'), dir: mkdtempSync(join(dir, name)), tables });
  cleanups.push(() => p.killAll());
  // CDC_TEST_LOG_DIR keeps every process's log of this file, for reading a failure afterwards.
  const logDir = process.env['CDC_TEST_LOG_DIR'];
  if (logDir) cleanups.push(async () => p.dumpLogs(logDir, name));
  // A fault must be waited out, not end the process: the window is far longer than any test.
  const env = { CDC_RETRY_WINDOW_MS: '600000', CDC_LOG_LEVEL: process.env['CDC_TEST_CLI_LOG_LEVEL'] ?? 'info' };
  const source = p.start(env);
  await source.waitForOutput(/streaming changes/, 90_000);
  const sink = p.sink('r', env);
  await p.converged('r', 120_000);
  // pgbench as the issue ran it (4 clients); rate-limited unless repeated on purpose, so that a CI
  // run with other test files beside it converges in minutes.
  const load = o.pgbench ? startPgbench(db.url, { clients: 4, ...(rounds > 1 ? {} : { rate: 400 }) }) : startLoad(db.url);
  await waitFor(() => load.committed > 30, { timeoutMs: 60_000, what: 'writes' });
  const watched = [watch(source), watch(sink)];
  const alive = (): void => {
    const ended = watched.filter((w) => w.ended).map((w) => w.label);
    expect(ended, `${ended.join(', ')} ended:\n${source.stderr().slice(-3000)}\n${sink.stderr().slice(-3000)}`).toEqual([]);
  };
  return { db, p, source, sink, load, topics: tables.map((t) => `${prefix}.${t.source}`), alive };
}

/** More writes committed, at least `ms` later: the fault lasts while the load goes on. */
async function writesFor(r: Running, ms: number): Promise<void> {
  const from = r.load.committed;
  const since = Date.now();
  await waitFor(() => (Date.now() - since >= ms && r.load.committed > from ? true : undefined), { timeoutMs: ms + 60_000, intervalMs: 250, what: `writes during ${ms} ms` });
}

/** Stops the load and checks everything the tests promise. */
async function settled(r: Running): Promise<void> {
  await r.load.stop();
  await cluster.healed(r.topics);
  await r.p.converged('r', 240_000);
  r.alive();
  // A replica built now from offset zero sees what compaction will keep: the latest of every key.
  const fresh = r.p.sink('fresh');
  await r.p.converged('fresh', 240_000);
  for (const t of r.topics) expect(await reorderedKeys(cluster.brokers, t)).toEqual([]);
  await r.p.stop(fresh);
  await r.p.stop(r.sink);
  await r.p.stop(r.source);
}

describe('a 3-node Kafka cluster losing nodes under load', () => {
  for (let round = 1; round <= rounds; round++) {
    it(`a partition leader killed and restarted 15 s later, then a second node likewise${rounds > 1 ? ` (round ${round})` : ''}`, async () => {
      const r = await running(`leaders${round}`, { pgbench: true });
      const first = await cluster.leaderOf(r.topics[3] as string);
      await cluster.kill(first);
      await writesFor(r, 15_000);
      await cluster.start(first);
      await cluster.healed(r.topics);
      await writesFor(r, 3000);
      const candidates = cluster.nodes.map((n) => n.id).filter((id) => id !== first);
      const leader = await cluster.leaderOf(r.topics[0] as string);
      const second = candidates.includes(leader) ? leader : (candidates[0] as number);
      await cluster.kill(second);
      await writesFor(r, 15_000);
      await cluster.start(second);
      await writesFor(r, 3000);
      await settled(r);
    }, 900_000);
  }

  it('the active controller killed and restarted', async () => {
    const r = await running('controller');
    const controller = await cluster.activeController();
    await cluster.kill(controller);
    await writesFor(r, 10_000);
    await cluster.start(controller);
    await writesFor(r, 3000);
    await settled(r);
  }, 900_000);

  it('a partition leader paused (SIGSTOP) past its session timeout, then resumed', async () => {
    const r = await running('paused');
    const leader = await cluster.leaderOf(r.topics[1] as string);
    cluster.pause(leader);
    try {
      await writesFor(r, 15_000);
    } finally {
      cluster.resume(leader);
    }
    await writesFor(r, 3000);
    await settled(r);
  }, 900_000);

  it('a partition leader cut off from cdc by the network for 15 s', async () => {
    const r = await running('cut');
    const leader = await cluster.leaderOf(r.topics[1] as string);
    cluster.node(leader).proxy.setDown(true);
    try {
      await writesFor(r, 15_000);
    } finally {
      cluster.node(leader).proxy.setDown(false);
    }
    await writesFor(r, 3000);
    await settled(r);
  }, 900_000);

  it('a run of cdc start that fails while Kafka stalls is fenced: nothing of it lands after the next run has appended', async () => {
    const pgProxy = await startProxy('127.0.0.1', Number(new URL(services().pgAdminUrl).port));
    cleanups.push(() => pgProxy.close());
    const r = await running('fenced', { pgProxy });
    // Appends pile up behind a stalled cluster; then the run loses PostgreSQL and a new run starts.
    for (const n of cluster.nodes) n.proxy.setDelay(8000);
    try {
      await writesFor(r, 2000);
      pgProxy.cut();
      await writesFor(r, 4000);
    } finally {
      for (const n of cluster.nodes) n.proxy.setDelay(0);
    }
    await writesFor(r, 8000);
    await settled(r);
    expect(r.source.stderr()).toMatch(/retrying/);
  }, 900_000);
});
