/**
 * The services around `cdc` failing: the broker restarting or gone for a while, PostgreSQL
 * crashing (pg_ctl -m immediate), connections cut or slowed, the replication slot lost, and a busy
 * database whose captured tables are idle. Each test ends with the replica equal to the source.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  services,
  sql,
  startPrivateKafka,
  startPrivatePostgres,
  startProxy,
  uniqueName,
  waitFor,
  type PrivateKafka,
  type PrivatePostgres,
  type TestDatabase,
} from '../harness/index.js';
import { LOAD_SCHEMA, LOAD_TABLES, startLoad } from './support/load.js';
import { Pipeline } from './support/pipeline.js';

const dir = mkdtempSync(join(tmpdir(), 'cdc-faults-svc-'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function pipeline(name: string, pgUrl: string, log: string): Pipeline {
  const p = new Pipeline({ pgUrl, log, prefix: uniqueName('s'), slot: uniqueName('slot'), dir: mkdtempSync(join(dir, name)), tables: LOAD_TABLES });
  cleanups.push(() => p.killAll());
  return p;
}

async function database(name: string): Promise<TestDatabase> {
  const db = await createDatabase(name);
  cleanups.push(() => db.drop());
  await sql(db.url, LOAD_SCHEMA);
  return db;
}

/** How many warning lines a process has logged on stderr (JSON or text), of those matching `msg`. */
function warnings(stderr: string, msg = /./): number {
  return stderr.split('\n').filter((line) => /"level":"warn"|^cdc warn /.test(line) && msg.test(line)).length;
}

describe('the log failing', () => {
  it('waits out a broker restart and a broker gone until both sides retry, losing and reordering nothing', async () => {
    const kafka: PrivateKafka = await startPrivateKafka();
    cleanups.push(() => kafka.destroy());
    const db = await database('kafka_down');
    const p = pipeline('kafka', db.url, `kafka://${kafka.brokers}`);
    const source = p.start();
    await source.waitForOutput(/streaming changes/, 60_000);
    const sink = p.sink('r');
    await p.converged('r'); // both running before the faults: a log missing at start is a usage error (exit 2)
    const load = startLoad(db.url);
    await waitFor(() => load.committed > 50, { timeoutMs: 60_000, what: 'writes' });
    await kafka.restart();
    await waitFor(() => load.committed > 150, { timeoutMs: 60_000, what: 'writes after the broker restart' });
    await kafka.stop();
    const warned = { source: warnings(source.stderr()), sink: warnings(sink.stderr()) };
    const before = load.committed;
    await waitFor(() => load.committed > before + 100, { timeoutMs: 60_000, what: 'writes while the broker is down' });
    // The outage lasts until both sides are waiting it out: the source has failed appends and
    // retried more than once, and the sink has warned that it cannot read the log.
    await waitFor(() => warnings(source.stderr(), /retrying/) > warned.source + 1 && warnings(sink.stderr()) > warned.sink, {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: 'the source retrying appends and the sink warning, with the broker down',
    });
    await kafka.start();
    await waitFor(() => load.committed > before + 300, { timeoutMs: 60_000, what: 'writes after the outage' });
    await load.stop();
    await p.converged('r', 180_000);
    expect(source.stderr()).toMatch(/retrying/);
    await p.stop(sink);
    await p.stop(source);
  }, 400_000);
});

describe('PostgreSQL failing', () => {
  it('reconnects after PostgreSQL crashes (pg_ctl -m immediate) and after connections are cut or slowed', async () => {
    const pg: PrivatePostgres = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const admin = new URL(pg.adminUrl);
    await sql(pg.adminUrl, 'CREATE DATABASE faults');
    admin.pathname = '/faults';
    await sql(admin.toString(), LOAD_SCHEMA);
    const proxy = await startProxy('127.0.0.1', Number(admin.port));
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(admin.toString());
    viaProxy.port = String(proxy.port);

    const p = pipeline('pg', viaProxy.toString(), `kafka://${services().kafkaBrokers}`);
    const source = p.start();
    await source.waitForOutput(/streaming changes/, 60_000);
    const sink = p.sink('r');
    const load = startLoad(admin.toString());
    await waitFor(() => load.committed > 50, { timeoutMs: 60_000, what: 'writes' });

    await pg.restart('immediate');
    await waitFor(() => load.committed > 200, { timeoutMs: 60_000, what: 'writes after the crash' });
    proxy.cut();
    await waitFor(() => load.committed > 300, { timeoutMs: 60_000, what: 'writes after the cut' });
    proxy.setDelay(50);
    await waitFor(() => load.committed > 400, { timeoutMs: 60_000, what: 'writes with a slow link' });
    proxy.setDelay(0);
    proxy.setDown(true);
    const downAt = load.committed;
    await waitFor(() => load.committed > downAt + 100, { timeoutMs: 60_000, what: 'writes while cdc cannot reach PostgreSQL' });
    proxy.setDown(false);
    await load.stop();
    await p.converged('r', 180_000);
    expect(proxy.accepted).toBeGreaterThan(4); // it did reconnect
    await p.stop(sink);
    await p.stop(source);
  });
});

describe('the replication slot', () => {
  it('a dropped slot stops cdc start with a clear message, and --resnapshot repairs the gap, deletes included', async () => {
    const db = await database('lost_slot');
    const p = pipeline('slot', db.url, `kafka://${services().kafkaBrokers}`);
    let source = p.start();
    await source.waitForOutput(/streaming changes/, 60_000);
    const sink = p.sink('r');
    await p.converged('r');
    await p.stop(source);

    // The slot goes away while cdc start is down, and the source changes meanwhile.
    await sql(db.url, 'SELECT pg_drop_replication_slot($1)', [p.o.slot]);
    await sql(db.url, "DELETE FROM events WHERE id % 3 = 0; UPDATE acct SET note = 'changed in the gap'; INSERT INTO events (acct, amount) VALUES (1, 42)");

    source = p.start();
    const refused = await source.exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: replication slot \w+ no longer exists, but the log holds its snapshot: changes made since its last confirmed position may be missing/);
    expect(refused.stderr).toMatch(/Try: run cdc start --resnapshot/);

    source = p.start({}, ['--resnapshot']);
    await source.waitForOutput(/streaming changes/, 60_000);
    expect(source.stderr()).toMatch(/tombstones for keys the table no longer has.*"tombstones":\d+/);
    await p.converged('r'); // the replica that followed all along converges, deletes included
    const fresh = p.sink('fresh');
    await p.converged('fresh');
    await p.stop(fresh);
    await p.stop(sink);
    await p.stop(source);
  });

  it('keeps up while captured tables are idle and 200 MB are written elsewhere', async () => {
    const db = await database('idle');
    await sql(db.url, 'CREATE TABLE noise (id bigint, payload text)'); // keyless: not captured
    const p = pipeline('idle', db.url, `kafka://${services().kafkaBrokers}`);
    const source = p.start();
    await source.waitForOutput(/streaming changes/, 60_000);
    for (let i = 0; i < 20; i++) await sql(db.url, "INSERT INTO noise SELECT g, repeat(md5(g::text), 300) FROM generate_series(1, 1000) g"); // ~10 MB each
    const [{ written } = { written: '0' }] = await sql<{ written: string }>(db.url, 'SELECT pg_current_wal_lsn()::text AS written');
    let lag = Number.MAX_SAFE_INTEGER;
    await waitFor(
      async () => {
        const [r] = await sql<{ lag: string }>(db.url, 'SELECT pg_wal_lsn_diff($1::pg_lsn, confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $2', [written, p.o.slot]);
        lag = Number(r?.lag ?? Number.MAX_SAFE_INTEGER);
        return lag <= 0;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `the slot to confirm past the 200 MB (lag ${lag} bytes)` },
    );
    await p.stop(source);
  });
});
