/**
 * The operator's view of `cdc start` and `cdc sink`: metrics that move under load, health that
 * turns ready when streaming / following, a SIGTERM that stops in well under 10 s with every change
 * confirmed to the slot, and no password in any output.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { announcedPort, health, sample, scrape } from './support/prometheus.js';
import { cleanUp } from './support/clean-up.js';

describe('operations: metrics, health, clean stop, redaction', () => {
  let db: TestDatabase;
  let dir: string;
  let password: string;
  let urlWithoutPassword: string;
  const running: CliProcess[] = [];
  const prefix = uniqueName('ops');
  const slot = uniqueName('ops');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const items = { table: 'public.items' };

  beforeAll(async () => {
    db = await createDatabase('ops');
    dir = mkdtempSync(join(tmpdir(), 'cdc-ops-'));
    await sql(db.url, 'CREATE TABLE items (id int PRIMARY KEY, v text)');
    await sql(db.url, "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g");
    await sql(db.url, 'CREATE TABLE keyless (v text)');
    const u = new URL(db.url);
    password = decodeURIComponent(u.password);
    u.password = '';
    urlWithoutPassword = u.toString();
    writeFileSync(join(dir, 'pgpass'), password + '\n', { mode: 0o600 });
  });

  afterAll(() => cleanUp({ running, db, dir }));

  const cli = (args: string[], env: Record<string, string> = {}): CliProcess => {
    const p = runCli(args, { env });
    running.push(p);
    return p;
  };

  it('config print shows where each value came from and never the password', async () => {
    writeFileSync(join(dir, 'cdc.yaml'), `pg: ${db.url}\nslot: from_file\ntopic-prefix: from_file\n`);
    const r = await runCliToEnd(['config', 'print', '--config', join(dir, 'cdc.yaml'), '--topic-prefix', 'from_flag', '--log', kafka], {
      env: { CDC_SLOT: 'from_env', CDC_KAFKA_PASSWORD: 'kafka-secret-1' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^topic-prefix\s+from_flag\s+flag --topic-prefix$/m);
    expect(r.stdout).toMatch(/^slot\s+from_env\s+env CDC_SLOT$/m);
    expect(r.stdout).toMatch(/^pg\s+postgres:\/\/postgres:\*\*\*@\S+\s+file .*cdc\.yaml$/m);
    expect(r.stdout).toMatch(/^kafka-password\s+\*\*\*\s+env CDC_KAFKA_PASSWORD$/m);
    expect(r.stdout + r.stderr).not.toContain(password);
    expect(r.stdout + r.stderr).not.toContain('kafka-secret-1');

    const bad = await runCliToEnd(['start', '--config', join(dir, 'cdc.yaml'), '--log', kafka], { env: { CDC_METRICS_PORT: 'ninety' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --metrics-port ninety \(CDC_METRICS_PORT\) is not a TCP port/m);
    expect(bad.stderr).toMatch(/^Try: pass --metrics-port/m);
  });

  it('serves metrics that move under load, health that turns ready, and stops cleanly on SIGTERM', async () => {
    const start = cli(['start', '--pg', urlWithoutPassword, '--pg-password-file', join(dir, 'pgpass'), '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--metrics-port', '0']);
    const port = await waitFor(async () => /serving metrics/.test(start.stderr()) && announcedPort(start.stderr()), { what: 'the metrics port' });
    expect((await health(port)).status).toBe(200);
    const ready = await waitFor(async () => {
      const h = await health(port, '/healthz/ready');
      return h.status === 200 && h.body;
    }, { timeoutMs: 60_000, what: 'cdc start to be ready' });
    expect(ready).toEqual({ live: true, ready: true, state: 'streaming' });

    const before = await scrape(port);
    expect(sample(before, 'cdc_snapshot_rows_total', items)).toBe(100);
    expect(sample(before, 'cdc_snapshot_tables_done_total')).toBe(1);
    expect(sample(before, 'cdc_ready')).toBe(1);
    expect(sample(before, 'cdc_errors_total', { code: 'TABLE_KEYLESS' })).toBe(1);
    expect(sample(before, 'cdc_slot_lag_bytes', { slot })).toBeGreaterThanOrEqual(0);
    const writtenBefore = sample(before, 'cdc_log_records_written_total', items) ?? 0;
    const bytesBefore = sample(before, 'cdc_log_bytes_written_total', items) ?? 0;
    expect(writtenBefore).toBeGreaterThanOrEqual(100);

    // Under load: three transactions, 1 100 changes.
    await sql(db.url, "INSERT INTO items SELECT g, 'w' || g FROM generate_series(101, 600) g");
    await sql(db.url, "UPDATE items SET v = v || '!' WHERE id <= 500");
    await sql(db.url, 'DELETE FROM items WHERE id > 500');
    const after = await waitFor(async () => {
      const text = await scrape(port);
      return (sample(text, 'cdc_log_records_written_total', items) ?? 0) >= writtenBefore + 1100 && text;
    }, { timeoutMs: 60_000, what: 'the 1 100 changes in the records-written counter' });
    expect(sample(after, 'cdc_log_bytes_written_total', items)).toBeGreaterThan(bytesBefore);
    expect(sample(after, 'cdc_commit_to_log_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'cdc_log_append_seconds_count')).toBeGreaterThan(sample(before, 'cdc_log_append_seconds_count') ?? 0);
    expect(sample(after, 'cdc_snapshot_rows_total', items)).toBe(100); // streamed changes are not snapshot rows

    // A sink following the topics, with metrics of its own.
    const replica = join(dir, 'replica.db');
    const sink = cli(['bootstrap', 'ops', '--log', kafka, '--replica', replica, '--topic-prefix', prefix, '--follow', '--metrics-port', '0']);
    const sinkPort = await waitFor(async () => /serving metrics/.test(sink.stderr()) && announcedPort(sink.stderr()), { what: 'the sink metrics port' });
    await waitFor(async () => (await health(sinkPort, '/healthz/ready')).status === 200, { timeoutMs: 60_000, what: 'the sink to be ready' });
    const s1 = await waitFor(async () => {
      const text = await scrape(sinkPort);
      return sample(text, 'cdc_sink_lag_records', { replica: 'ops', table: 'public.items' }) === 0 && text;
    }, { timeoutMs: 60_000, what: 'sink lag 0' });
    const applied1 = sample(s1, 'cdc_sink_records_applied_total', { replica: 'ops', table: 'public.items' }) ?? 0;
    expect(applied1).toBeGreaterThanOrEqual(600);
    expect(sample(s1, 'cdc_log_records_read_total', items)).toBe(applied1);
    expect(sample(s1, 'cdc_sink_apply_seconds_count', { replica: 'ops' })).toBeGreaterThan(0);
    await sql(db.url, "INSERT INTO items SELECT g, 'x' || g FROM generate_series(1001, 1200) g");
    const s2 = await waitFor(async () => {
      const text = await scrape(sinkPort);
      return (sample(text, 'cdc_sink_records_applied_total', { replica: 'ops', table: 'public.items' }) ?? 0) >= applied1 + 200 && text;
    }, { timeoutMs: 60_000, what: 'the sink to apply 200 more' });
    expect(sample(s2, 'cdc_sink_lag_seconds', { replica: 'ops' })).toBeGreaterThanOrEqual(0);

    // SIGTERM: a clean stop, in well under 10 s, exit 0, every change before it confirmed.
    await waitFor(async () => (sample(await scrape(port), 'cdc_log_records_written_total', items) ?? 0) >= writtenBefore + 1300, { what: 'the last 200 changes in the log' });
    const t0 = Date.now();
    start.kill('SIGTERM');
    const r = await start.exited;
    const stopMs = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(stopMs).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/"msg":"stopped"/);
    await waitFor(async () => (await sql(db.adminUrl, 'SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]))[0]?.['active'] === false, { what: 'the slot to be released' });
    // Nothing of this database is left unconfirmed in the slot: a restart would re-read nothing.
    const left = await sql(db.url, `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`, [slot, slot]);
    expect(left[0]?.['n']).toBe(0);

    const s0 = Date.now();
    sink.kill('SIGTERM');
    const sr = await sink.exited;
    expect(sr.code, sr.stderr).toBe(0);
    expect(Date.now() - s0).toBeLessThan(10_000);
    console.log(`[ops] SIGTERM to exit: cdc start ${stopMs} ms, cdc sink ${Date.now() - s0} ms`);

    for (const p of [r, sr]) expect(p.stdout + p.stderr).not.toContain(password);
  });
});
