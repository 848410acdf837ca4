/**
 * Stopping when the log is gone: `cdc start` has records the log never acked, so a clean stop
 * cannot finish. It must still end within the 10 s bound, exit 1 and say what was not confirmed;
 * and a second signal must end it at once. The slot keeps the unconfirmed changes (nothing lost).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, runCli, sql, startPrivateKafka, uniqueName, waitFor, type CliProcess, type PrivateKafka, type TestDatabase } from '../harness/index.js';
import { announcedPort, sample, scrape } from './support/prometheus.js';

describe('stopping with the log unreachable', () => {
  let db: TestDatabase;
  let kafka: PrivateKafka;
  let dir: string;
  const running: CliProcess[] = [];

  beforeAll(async () => {
    [db, kafka] = await Promise.all([createDatabase('stop'), startPrivateKafka()]);
    dir = mkdtempSync(join(tmpdir(), 'cdc-stop-'));
    await sql(db.url, 'CREATE TABLE t (id int PRIMARY KEY, v text)');
  });

  afterAll(async () => {
    for (const p of running) p.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await kafka?.destroy();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends within the bound with exit 1 and what was not confirmed; a second signal forces exit', async () => {
    const start = (name: string): CliProcess => {
      const p = runCli(['start', '--pg', db.url, '--log', `kafka://${kafka.brokers}`, '--slot', name, '--topic-prefix', name, '--metrics-port', '0', '--table-poll-ms', '200']);
      running.push(p);
      return p;
    };
    const [a, b] = [uniqueName('stopa'), uniqueName('stopb')];
    // One after the other: a broker this fresh can fail concurrent topic creation.
    const pa = start(a);
    await pa.waitForOutput(/streaming changes/, 60_000);
    const pb = start(b);
    await pb.waitForOutput(/streaming changes/, 60_000);
    const ports = [announcedPort(pa.stderr()), announcedPort(pb.stderr())];

    await kafka.stop();
    await sql(db.url, "INSERT INTO t SELECT g, 'v' FROM generate_series(1, 50) g");
    // Both hold the 50 changes and cannot get them acked.
    for (const [i, p] of [pa, pb].entries()) {
      await waitFor(async () => /log append failed; retrying/.test(p.stderr()) || (sample(await scrape(ports[i] as number), 'cdc_log_append_inflight_records') ?? 0) > 0, {
        timeoutMs: 60_000,
        what: 'an append the log does not ack',
      });
    }

    const t0 = Date.now();
    pa.kill('SIGTERM');
    pb.kill('SIGTERM');
    await pb.waitForOutput(/stopping cleanly/);
    // Two signals within a second count as one (process-group signalling); an operator's second is
    // later. So signal again until one is taken as the second: not before a second, at once after.
    let exitedAt = 0;
    void pb.exited.then(() => (exitedAt = Date.now()));
    await waitFor(
      () => {
        if (exitedAt === 0) pb.kill('SIGTERM');
        return exitedAt !== 0;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'a repeated SIGTERM to force the exit' },
    );
    const rb = await pb.exited;
    expect(rb.code).toBe(143);
    expect(exitedAt - t0).toBeGreaterThanOrEqual(1000);
    expect(exitedAt - t0).toBeLessThan(3000);
    expect(rb.stderr).toMatch(/second SIGTERM: exiting without a clean stop/);

    const ra = await pa.exited;
    const stopMs = Date.now() - t0;
    console.log(`[stop] SIGTERM with the log down: exit ${ra.code} after ${stopMs} ms`);
    expect(ra.code, ra.stderr).toBe(1);
    expect(stopMs).toBeGreaterThanOrEqual(9_500);
    expect(stopMs).toBeLessThan(12_000);
    expect(ra.stderr).toMatch(/clean stop did not finish within 10 s: \d+ records handed to kafka:\/\/\S+ were not acked, so slot \S+ was not confirmed past them/);
    expect(ra.stderr).toMatch(/"code":"STOP_TIMEOUT"/);

    // The slot still holds the changes: the next start reads them again.
    const left = await sql(db.url, `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`, [a, a]);
    expect(left[0]?.['n']).toBeGreaterThan(0);
  });
});
