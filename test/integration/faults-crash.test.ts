/**
 * Nothing lost, nothing diverged, whatever moment a process dies. Each test kills `cdc start` or
 * a sink — at a named crash point (CDC_CRASH_AT, an in-process SIGKILL) or with kill -9 from
 * outside — under a concurrent write load, restarts it, and ends by comparing the replica with the
 * source value for value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { LOAD_SCHEMA, LOAD_TABLES, startLoad } from './support/load.js';
import { Pipeline } from './support/pipeline.js';

const dir = mkdtempSync(join(tmpdir(), 'cdc-faults-'));
const dbs: TestDatabase[] = [];
const pipelines: Pipeline[] = [];
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.killAll()));
  for (const db of dbs) await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function setup(name: string): Promise<Pipeline> {
  const db = await createDatabase(name);
  dbs.push(db);
  await sql(db.url, LOAD_SCHEMA);
  const p = new Pipeline({ pgUrl: db.url, log: `kafka://${services().kafkaBrokers}`, prefix: uniqueName('f'), slot: uniqueName('slot'), dir: mkdtempSync(join(dir, name)), tables: LOAD_TABLES });
  pipelines.push(p);
  return p;
}

/** The process died by SIGKILL (a crash point or kill -9), not by an error of its own. */
async function killed(p: CliProcess): Promise<void> {
  const r = await p.exited;
  expect(r.signal, `expected a SIGKILL death; exit ${r.code}; stderr: ${r.stderr.slice(-1500)}`).toBe('SIGKILL');
}

describe('crash points in cdc start', () => {
  for (const [point, nth] of [
    ['after-append', 3],
    ['mid-transaction', 40],
  ] as const) {
    it(`${point}: the log acked records whose position was not confirmed; a restart resends, the replica equals the source`, async () => {
      const p = await setup(point.replace('-', '_'));
      let source = p.start();
      await source.waitForOutput(/streaming changes/, 60_000);
      const follower = p.sink('r');
      await p.converged('r');
      await p.stop(source);
      const load = startLoad(p.o.pgUrl);
      source = p.start({ CDC_CRASH_AT: `${point}:${nth}` });
      await killed(source);
      const before = load.committed;
      await waitFor(() => load.committed > before + 50, { timeoutMs: 60_000, what: 'writes while cdc start is dead' });
      source = p.start();
      await source.waitForOutput(/streaming changes/, 60_000);
      await waitFor(() => load.committed > before + 150, { timeoutMs: 60_000, what: 'writes after the restart' });
      await load.stop();
      await p.converged('r');
      await p.stop(follower);
      await p.stop(source);
    });
  }

  it('snapshot-chunk: a snapshot killed half-way resumes after the last chunk, not at zero, and ends consistent with the stream', async () => {
    const p = await setup('snapshot_crash');
    await sql(p.o.pgUrl, 'INSERT INTO events (acct, amount) SELECT g % 200 + 1, g FROM generate_series(1, 40000) g'); // 60,000 rows: six chunks
    const load = startLoad(p.o.pgUrl);
    let source = p.start({ CDC_CRASH_AT: 'snapshot-chunk:4' });
    await killed(source);
    source = p.start();
    const resumed = await source.waitForOutput(/"msg":"snapshot resumes","table":"public.events","after_rows":(\d+)/, 60_000);
    expect(Number(resumed[1])).toBeGreaterThanOrEqual(20_000); // at least the chunks whose progress was durable
    await source.waitForOutput(/streaming changes/, 60_000);
    await load.stop();
    const follower = p.sink('r');
    await p.converged('r');
    await p.stop(follower);
    await p.stop(source);
  });
});

describe('crash points and kill -9 in sinks and cdc start', () => {
  it('sink-mid-transaction: rows applied but not committed are applied again after a restart', async () => {
    const p = await setup('sink_crash');
    const source = p.start();
    await source.waitForOutput(/streaming changes/, 60_000);
    const load = startLoad(p.o.pgUrl);
    let sink = p.sink('r', { CDC_CRASH_AT: 'sink-mid-transaction:5' });
    await killed(sink);
    sink = p.sink('r', {}, true);
    await waitFor(() => load.committed > 200, { timeoutMs: 60_000, what: 'writes' });
    await load.stop();
    await p.converged('r');
    await p.stop(sink);
    await p.stop(source);
  });

  it('kill -9 of cdc start and of the sink at random moments under load, three times each', async () => {
    const p = await setup('kill9');
    let source = p.start();
    await source.waitForOutput(/streaming changes/, 60_000);
    let sink = p.sink('r');
    // The replica must exist before the kills: a bootstrap killed while it creates the file leaves
    // no replica for `cdc sink` to resume (that case needs cdc bootstrap again, not a resume).
    await p.converged('r');
    const load = startLoad(p.o.pgUrl);
    for (let round = 0; round < 3; round++) {
      const at = load.committed + 30 + Math.floor(Math.random() * 60);
      await waitFor(() => load.committed >= at, { timeoutMs: 60_000, what: 'writes before the kill' });
      source.kill('SIGKILL');
      await killed(source);
      source = p.start();
      await source.waitForOutput(/streaming changes/, 60_000);
      const at2 = load.committed + 30 + Math.floor(Math.random() * 60);
      await waitFor(() => load.committed >= at2, { timeoutMs: 60_000, what: 'writes before killing the sink' });
      sink.kill('SIGKILL');
      await killed(sink);
      sink = p.sink('r', {}, true);
    }
    await load.stop();
    await p.converged('r');
    await p.stop(sink);
    await p.stop(source);
  });
});
