import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDatabase, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { cleanUp } from './support/clean-up.js';

const SCHEMA = `
CREATE TABLE docs (lang text, n int, title text NOT NULL, body text, price numeric(20,4), at timestamptz, ok boolean, raw bytea, score float8, tags text[],
                   PRIMARY KEY (lang, n));
INSERT INTO docs SELECT (ARRAY['de','En','en','Ω','z','ÄÖ'])[1 + g % 6], g, 'title ' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE repeat('x', g % 50) END,
                        g * 1.0001, timestamptz '2026-01-01 00:00:00.5+00' + g * interval '1 minute 1 microsecond', g % 2 = 0,
                        decode(lpad(to_hex(g), 6, '0'), 'hex'), CASE WHEN g = 7 THEN 'NaN'::float8 ELSE g / 3.0 END, ARRAY['a', 'b' || g, NULL]
  FROM generate_series(1, 5000) g;
CREATE TABLE counters (id bigint PRIMARY KEY, v bigint);
INSERT INTO counters SELECT g, g * 9007199254740 FROM generate_series(1, 3000) g;
-- Keyed by timestamptz, whole and half seconds: the replica's text ('…:00Z', '…:00.5Z') sorts
-- differently from PostgreSQL's ('…:00+00', '…:00.5+00'), which verify must allow for.
CREATE TABLE events (at timestamptz PRIMARY KEY, v int);
INSERT INTO events SELECT timestamptz '2026-01-01 00:00:00+00' + (g / 2) * interval '1 second' + (g % 2) * interval '0.5 second', g FROM generate_series(1, 5000) g;
`;

describe('bootstrap progress and --follow, cdc verify and cdc status', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];
  const prefix = uniqueName('vs');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const replica = (): string => join(dir, 'followed.db');

  beforeAll(async () => {
    db = await createDatabase('verify');
    dir = mkdtempSync(join(tmpdir(), 'cdc-verify-'));
    await sql(db.url, SCHEMA);
    const start = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix]);
    running.push(start);
    await start.waitForOutput(/streaming changes/, 60_000);
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('bootstrap --follow prints plain progress lines off a terminal, then follows the log', async () => {
    const follower = runCli(['bootstrap', 'app', '--log', kafka, '--replica', replica(), '--topic-prefix', prefix, '--follow']);
    running.push(follower);
    await follower.waitForOutput(/bootstrap caught up; following/, 60_000);
    expect(follower.stderr()).toMatch(/"msg":"bootstrap progress","records":\d+,"records_per_s":\d+/);
    await sql(db.url, "UPDATE docs SET title = 'changed' WHERE n = 1; INSERT INTO counters VALUES (999999, -1)");
    await waitFor(() => {
      const r = new Database(replica(), { readonly: true });
      try {
        return r.prepare('SELECT 1 FROM counters WHERE id = 999999').get() !== undefined;
      } finally {
        r.close();
      }
    }, { timeoutMs: 60_000, what: 'the follower to apply a new change' });
  });

  it('verify exits 0 on an equal replica, whatever the key order or value type', async () => {
    const r = await runCliToEnd(['verify', '--pg', db.url, '--replica', replica(), '--settle', '30'], { timeoutMs: 90_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^docs: equal \(5000 rows, \d+ chunks\)$/m);
    expect(r.stdout).toMatch(/^counters: equal \(3001 rows/m);
    expect(r.stdout).toMatch(/^events: equal \(5000 rows, 3 chunks\)$/m);
  });

  it('verify exits 1 and names the tables and key ranges that differ', async () => {
    const copy = join(dir, 'tampered.db');
    // A consistent copy of the live replica, write-ahead log included.
    const live = new Database(replica(), { readonly: true });
    live.exec(`VACUUM INTO '${copy.replace(/'/g, "''")}'`);
    live.close();
    const t = new Database(copy);
    t.exec("UPDATE docs SET title = 'wrong' WHERE lang = 'z' AND n = 4; DELETE FROM counters WHERE id = 2500; INSERT INTO counters VALUES (5000000, 1)");
    t.pragma('wal_checkpoint(TRUNCATE)');
    t.close();
    const r = await runCliToEnd(['verify', '--pg', db.url, '--replica', copy, '--settle', '0'], { timeoutMs: 90_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout.match(/^docs: differs .*\(source 2000 rows, replica 2000 rows\)$/gm)).toHaveLength(1);
    expect(r.stdout).toMatch(/^counters: differs after \{"id":"2000"\} up to \{"id":"999999"\} \(source 1001 rows, replica 1000 rows\)$/m);
    expect(r.stdout).toMatch(/^counters: differs after \{"id":"999999"\} to the last key \(source 0 rows, replica 1 rows\)$/m);
    expect(r.stderr).toMatch(/^error: the replica .* differs from the source in counters, docs/m);
    expect(r.stderr).toMatch(/^Try: .*cdc rebuild app/m);
    // --tables narrows the comparison to the tables named.
    const only = await runCliToEnd(['verify', '--pg', db.url, '--replica', copy, '--settle', '0', '--tables', 'public.docs'], { timeoutMs: 90_000 });
    expect(only.code).toBe(1);
    expect(only.stdout).not.toMatch(/counters/);
  });

  it('status reports the slot lag, the topics\' end offsets, and each replica\'s offsets, lag and position', async () => {
    // A second replica, stopped behind the log.
    const behind = join(dir, 'behind.db');
    const boot = await runCliToEnd(['bootstrap', 'behind', '--log', kafka, '--replica', behind, '--topic-prefix', prefix]);
    expect(boot.code, boot.stderr).toBe(0);
    await sql(db.url, 'UPDATE counters SET v = v + 1 WHERE id <= 10');
    const topic = `${prefix}.public.counters`;
    const report = await waitFor(async () => {
      const r = await runCliToEnd(['status', '--pg', db.url, '--log', kafka, '--replica', replica(), behind, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as {
        source: { slots: { slot: string; lagBytes: string | null; active: boolean; confirmedFlushLsn: string }[] };
        log: { topics: Record<string, string> };
        replicas: { path: string; lsn: string | null; topics: { topic: string; nextOffset: string }[]; lagRecords: Record<string, string>; idleSeconds: Record<string, number> }[];
      };
      const followed = j.replicas.find((x) => x.path === replica());
      return followed?.lagRecords[topic] === '0' && j.replicas.find((x) => x.path === behind)?.lagRecords[topic] === '11' ? j : undefined;
    }, { timeoutMs: 60_000, what: 'the follower caught up and the stopped replica 11 records behind (10 rows and the end mark of their transaction)' });
    const s = report.source.slots.find((x) => x.slot === slot);
    expect(s?.active).toBe(true);
    expect(s?.lagBytes).toMatch(/^\d+$/);
    expect(BigInt(report.log.topics[topic] ?? '0')).toBeGreaterThan(3000n);
    for (const r of report.replicas) expect(r.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(report.replicas.find((x) => x.path === behind)?.idleSeconds[topic]).toBeGreaterThanOrEqual(0);
    expect(report.replicas.find((x) => x.path === replica())?.idleSeconds[topic]).toBeUndefined();

    const human = await runCliToEnd(['status', '--pg', db.url, '--log', kafka, '--replica', replica(), behind]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^  slot ${slot} \\(active\\): confirmed .* lag \\d+ bytes`, 'm'));
    // A replica behind says how long nothing was applied: a stuck sink shows here, not only in its log.
    expect(human.stdout).toMatch(new RegExp(`^  ${topic.replace(/\./g, '\\.')}: applied up to offset \\d+, 11 records behind, (last applied \\d+ s ago|STALLED: nothing applied for \\d+ s)`, 'm'));
    expect(human.stdout).not.toMatch(/, 0 records behind, (last applied|STALLED)/);
    expect(human.stdout).toMatch(/^  reflects source position [0-9A-F]+\/[0-9A-F]+/m);
  });
});
