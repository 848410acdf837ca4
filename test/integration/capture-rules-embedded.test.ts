/**
 * Column exclusion and masking on the embedded log, set through a config file and CDC_MASK_KEY:
 * no byte of any file of the log directory, and no byte of the replica file, holds an excluded or
 * masked value (or the key), from the snapshot or the stream. And `cdc resnapshot` beside a
 * `cdc start` writing the embedded log: it reads the embedded log's state while the writer runs.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, runCli, runCliToEnd, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { cleanUp } from './support/clean-up.js';

const MASK_KEY = 'embedded-mask-key-5e1d0c9b8a7f';
const SECRETS = ['TOKEN-SNAPSHOT-1', 'TOKEN-STREAM-2', 'card-4111-snap', 'card-4222-stream', 'Plain-Surname-A', 'Plain-Surname-B', MASK_KEY];

/** The bytes of every file under `dir`, as latin1 text (any byte sequence survives). */
function bytesUnder(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? bytesUnder(join(dir, e.name)) : readFileSync(join(dir, e.name)).toString('latin1')))
    .join('\n');
}

describe('capture rules on the embedded log, from a config file', () => {
  let db: TestDatabase;
  let dir: string;
  const running: CliProcess[] = [];

  beforeAll(async () => {
    db = await createDatabase('capemb');
    dir = mkdtempSync(join(tmpdir(), 'cdc-capture-embedded-'));
    await sql(
      db.url,
      `CREATE TABLE people (id int PRIMARY KEY, surname text, token text, card text, age int);
       INSERT INTO people VALUES (1, 'Plain-Surname-A', 'TOKEN-SNAPSHOT-1', 'card-4111-snap', 30);`,
    );
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('no excluded or masked value is in any byte of the log directory or the replica file', async () => {
    const log = join(dir, 'log');
    const replica = join(dir, 'replica.db');
    const config = join(dir, 'cdc.yaml');
    writeFileSync(config, `exclude-columns: [people.token]\nmask-columns: [people.card=hash, people.surname=redact]\n`);
    const env = { CDC_MASK_KEY: MASK_KEY, CDC_LOG_SEGMENT_BYTES: String(64 * 1024) };
    const source = runCli(['start', '--pg', db.url, '--log', log, '--slot', uniqueName('slot'), '--config', config], { env });
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);
    await sql(db.url, `INSERT INTO people VALUES (2, 'Plain-Surname-B', 'TOKEN-STREAM-2', 'card-4222-stream', 40); UPDATE people SET age = 31 WHERE id = 1`);
    const sink = runCli(['bootstrap', 'emb', '--log', log, '--replica', replica, '--follow']);
    running.push(sink);
    const rows = await waitFor(
      () => {
        try {
          const file = new Database(replica, { readonly: true, fileMustExist: true });
          try {
            const all = file.prepare('SELECT * FROM people ORDER BY id').all() as Record<string, unknown>[];
            return all.length === 2 && all[0]?.['age'] === 31 ? all : undefined;
          } finally {
            file.close();
          }
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'both people in the replica' },
    );
    expect(Object.keys(rows[0] ?? {})).toEqual(['id', 'surname', 'card', 'age']);
    expect(rows.map((r) => r['surname'])).toEqual(['***', '***']);
    expect(rows.map((r) => String(r['card']))).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/), expect.stringMatching(/^[0-9a-f]{64}$/)]);
    for (const p of running) {
      p.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
    }
    const bytes = bytesUnder(log) + readFileSync(replica).toString('latin1');
    expect(bytes).toContain(String(rows[1]?.['card']));
    for (const s of SECRETS) expect(bytes.includes(s), `${s} in the log or replica`).toBe(false);
    for (const p of running) expect(p.stderr()).not.toContain(MASK_KEY);
  });

  it('cdc resnapshot reads a table again beside a cdc start on the embedded log, masking the rows it reads', async () => {
    const log = join(dir, 'log2');
    const slot = uniqueName('slot');
    const source = runCli(['start', '--pg', db.url, '--log', log, '--slot', slot, '--exclude-columns', 'people.token', '--mask-columns', 'people.card=redact,people.surname=redact'], { env: { CDC_MASK_KEY: MASK_KEY } });
    running.push(source);
    await source.waitForOutput(/streaming changes/, 60_000);
    const r = await runCliToEnd(['resnapshot', '--pg', db.url, '--log', log, '--slot', slot, '--tables', 'people']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/public\.people: read again \(2 rows\)/);
    await source.waitForOutput(/reading tables again on request/, 10_000);
    source.kill('SIGTERM');
    expect((await source.exited).code).toBe(0);
    const bytes = bytesUnder(log);
    for (const s of SECRETS) expect(bytes.includes(s), `${s} in the log`).toBe(false);
  });
});
