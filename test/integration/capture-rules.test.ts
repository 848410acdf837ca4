/**
 * What to capture, on real PostgreSQL and Kafka with a following replica: an excluded column and
 * masked columns never appear in any byte of any topic (every topic of the prefix is scanned,
 * schema and state topics included), the replica has the right columns and masked values; a row
 * filter applies to the snapshot and the stream, a row moving out of it becomes a tombstone and
 * leaves the replica, moving back in re-creates it; a filter PostgreSQL would enforce on the
 * application's UPDATEs, or a key column excluded, is refused at start; and a changed setting is
 * reported at the next start and followed by the replica.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, kafkaClient, runCli, runCliToEnd, services, sql, uniqueName, waitFor, type CliProcess, type TestDatabase } from '../harness/index.js';
import { readTopic } from './support/topic.js';
import { cleanUp } from './support/clean-up.js';

const MASK_KEY = 'test-mask-key-7f3a9c1e5b2d8f4a6c0e';
/** Values that must never reach the log in plain text. */
const SECRETS = ['SSN-111-11-PLAIN', 'SSN-222-22-PLAIN', 'SSN-333-33-PLAIN', 'ann.secret@example.com', 'ann.new.secret@example.com', 'bob.secret@example.com', 'carol.secret@example.com', 'Annabel-Plainname', 'Bobby-Plainname', 'Carol-Plainname', '555-0101-PLAIN', '555-0303-PLAIN', 'generated-domain-plain', MASK_KEY];

const hmac = (value: string): string => createHmac('sha256', MASK_KEY).update(value, 'utf8').digest('hex');

describe('capture rules: excluded and masked columns, row filters', () => {
  let db: TestDatabase;
  let dir: string;
  let source: CliProcess;
  const running: CliProcess[] = [];
  const prefix = uniqueName('cap');
  const slot = uniqueName('slot');
  const kafka = `kafka://${services().kafkaBrokers}`;
  const replica = (): string => join(dir, 'replica.db');
  const keyFile = (): string => join(dir, 'mask.key');
  const rules = (exclude = 'users.ssn'): string[] => [
    '--exclude-columns', exclude,
    '--mask-columns', 'users.email=hash,public.users.name=redact,users.phone=null,users.domain=redact',
    '--mask-key-file', keyFile(),
    '--row-filter', "orders=status <> 'archived'",
  ];
  const start = (extra: string[]): CliProcess => {
    const p = runCli(['start', '--pg', db.url, '--log', kafka, '--slot', slot, '--topic-prefix', prefix, '--table-poll-ms', '500', ...extra]);
    running.push(p);
    return p;
  };

  /** The replica's rows of `table` by id, or null while the table is not there yet. */
  const rows = (table: string): Map<string, Record<string, unknown>> | null => {
    let file: Database.Database;
    try {
      file = new Database(replica(), { readonly: true, fileMustExist: true });
    } catch {
      return null;
    }
    try {
      const all = file.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[];
      return new Map(all.map((r) => [String(r['id']), r]));
    } catch {
      return null;
    } finally {
      file.close();
    }
  };
  const columns = (table: string): string[] => {
    const file = new Database(replica(), { readonly: true, fileMustExist: true });
    try {
      return (file.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
    } finally {
      file.close();
    }
  };
  const until = <T>(what: string, check: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> =>
    waitFor(async () => check() || undefined, { timeoutMs, intervalMs: 250, what }).catch((e: Error) => {
      throw new Error(`${e.message}\ncdc start:\n${source.stderr().slice(-3000)}\nsink:\n${running[1]?.stderr().slice(-2000) ?? ''}`);
    });

  /** Every record of every topic of the prefix, key and value as text. */
  const allTopicText = async (): Promise<{ topics: string[]; text: string }> => {
    const admin = kafkaClient().admin();
    await admin.connect();
    let topics: string[];
    try {
      topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    } finally {
      await admin.disconnect();
    }
    const parts: string[] = [];
    for (const t of topics) await readTopic(t, (r) => parts.push(r.key, r.value ?? ''));
    return { topics, text: parts.join('\n') };
  };

  beforeAll(async () => {
    db = await createDatabase('capture');
    dir = mkdtempSync(join(tmpdir(), 'cdc-capture-'));
    writeFileSync(keyFile(), `${MASK_KEY}\n`);
    await sql(
      db.url,
      `CREATE TABLE users (id int PRIMARY KEY, name text, email text, ssn text, score int, phone text, domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED);
       INSERT INTO users VALUES (1, 'Annabel-Plainname', 'ann.secret@example.com', 'SSN-111-11-PLAIN', 10, '555-0101-PLAIN'),
                                (2, 'Bobby-Plainname', 'bob.secret@example.com', 'SSN-222-22-PLAIN', 20, NULL);
       INSERT INTO users (id, name, email) VALUES (5, 'Eve', 'eve@generated-domain-plain.test');
       CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, total int, note text);
       ALTER TABLE orders REPLICA IDENTITY FULL;
       INSERT INTO orders VALUES (1, 'open', 10, 'first'), (2, 'archived', 20, 'second'), (3, 'open', 30, 'third');`,
    );
    source = start(rules());
    await source.waitForOutput(/streaming changes/, 90_000);
    running.push(runCli(['bootstrap', 'capture', '--log', kafka, '--replica', replica(), '--topic-prefix', prefix, '--follow']));
  });

  afterAll(() => cleanUp({ running, db, dir }));

  it('the replica has no excluded column, and masked values from the snapshot and the stream', async () => {
    await sql(
      db.url,
      `INSERT INTO users VALUES (3, 'Carol-Plainname', 'carol.secret@example.com', 'SSN-333-33-PLAIN', 30, '555-0303-PLAIN');
       INSERT INTO users VALUES (4, 'Dan', 'carol.secret@example.com', NULL, 40, NULL);
       UPDATE users SET score = 50 WHERE id = 5;
       UPDATE users SET email = 'ann.new.secret@example.com', score = 11 WHERE id = 1;`,
    );
    const users = await until('users 1, 3 and 4 in the replica with the streamed changes', () => {
      const r = rows('users');
      return r && r.get('1')?.['score'] === 11 && r.has('3') && r.has('4') && r.get('5')?.['score'] === 50 ? r : undefined;
    });
    expect(columns('users')).toEqual(['id', 'name', 'email', 'score', 'phone', 'domain']);
    // A stored generated column can be masked like any other, and is no unknown column.
    expect(source.stderr()).not.toContain('CAPTURE_RULE_UNMATCHED');
    expect(users.get('5')?.['domain']).toBe('***');
    // From the snapshot (2) and the stream (1, 3, 4): hash is HMAC-SHA-256 of the text, keyed.
    expect(users.get('2')).toEqual({ id: 2, name: '***', email: hmac('bob.secret@example.com'), score: 20, phone: null, domain: '***' });
    expect(users.get('1')).toEqual({ id: 1, name: '***', email: hmac('ann.new.secret@example.com'), score: 11, phone: null, domain: '***' });
    expect(users.get('3')).toEqual({ id: 3, name: '***', email: hmac('carol.secret@example.com'), score: 30, phone: null, domain: '***' });
    // Equal values, equal hashes: a masked column still joins.
    expect(users.get('4')?.['email']).toBe(users.get('3')?.['email']);
  });

  it('no excluded or masked value, and not the mask key, is in any byte of any topic or in the log output', async () => {
    const { topics, text } = await allTopicText();
    expect(topics).toEqual(expect.arrayContaining([`${prefix}.public.users`, `${prefix}.public.orders`, `${prefix}._schemas`, `${prefix}._state`]));
    expect(text).toContain(hmac('carol.secret@example.com'));
    for (const s of SECRETS) expect(text.includes(s), `${s} in a topic`).toBe(false);
    // The schema records of users never name the excluded column.
    expect(text).not.toMatch(/"name":"ssn"/);
    for (const p of running) expect(p.stderr()).not.toContain(MASK_KEY);
  });

  it('a row filter applies to the snapshot and the stream; a row moving out is a tombstone, moving back in re-creates it', async () => {
    // Snapshot: the archived order was never read.
    const before = await until('orders 1 and 3 in the replica', () => {
      const r = rows('orders');
      return r && r.has('1') && r.has('3') ? r : undefined;
    });
    expect([...before.keys()].sort()).toEqual(['1', '3']);
    await sql(db.url, `UPDATE orders SET status = 'archived' WHERE id = 1`);
    await sql(db.url, `UPDATE orders SET status = 'open', note = 'back' WHERE id = 2`);
    await sql(db.url, `INSERT INTO orders VALUES (4, 'archived', 40, 'never'), (5, 'open', 50, 'fifth')`);
    const after = await until('order 1 gone, 2 and 5 in the replica', () => {
      const r = rows('orders');
      return r && !r.has('1') && r.get('2')?.['note'] === 'back' && r.has('5') ? r : undefined;
    });
    expect([...after.keys()].sort()).toEqual(['2', '3', '5']);
    expect(after.get('2')).toEqual({ id: 2, status: 'open', total: 20, note: 'back' });
    // In the topic: the move out is a tombstone, the order never in the filter is not there.
    const latest = new Map<string, string | null>();
    await readTopic(`${prefix}.public.orders`, (r) => latest.set(r.key, r.value));
    expect(latest.get('{"id":"1"}')).toBeNull();
    expect(latest.has('{"id":"4"}')).toBe(false);
    // Back in: re-created with its current values.
    await sql(db.url, `UPDATE orders SET status = 'open' WHERE id = 1`);
    await until('order 1 back in the replica', () => rows('orders')?.get('1')?.['status'] === 'open');
    // The application's UPDATE and DELETE on the filtered table keep working (REPLICA IDENTITY FULL).
    await sql(db.url, `DELETE FROM orders WHERE id = 5`);
    await until('order 5 deleted from the replica', () => rows('orders')?.has('5') === false);
  });

  it('refuses a row filter on a column outside the replica identity, and an excluded key column, changing nothing', async () => {
    const other = uniqueName('slot');
    const filter = await runCliToEnd(['start', '--pg', db.url, '--log', kafka, '--slot', other, '--topic-prefix', prefix, '--row-filter', 'users=score > 5']);
    expect(filter.code, filter.stderr).toBe(2);
    expect(filter.stderr).toMatch(/row filter of public\.users \(score > 5\) uses score, which is not in its replica identity \(id\).*\[ROW_FILTER_REJECTED\]/);
    expect(filter.stderr).toContain('REPLICA IDENTITY FULL');
    const bad = await runCliToEnd(['start', '--pg', db.url, '--log', kafka, '--slot', other, '--topic-prefix', prefix, '--row-filter', 'users=nosuch > 5']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/row filter of public\.users \(nosuch > 5\) is refused: .*nosuch.*\[ROW_FILTER_REJECTED\]/);
    const key = await runCliToEnd(['start', '--pg', db.url, '--log', kafka, '--slot', other, '--topic-prefix', prefix, '--exclude-columns', 'users.id']);
    expect(key.code, key.stderr).toBe(2);
    expect(key.stderr).toMatch(/public\.users: key column id cannot be excluded or masked \[CAPTURE_KEY_COLUMN\]/);
    // Nothing was left behind: no slot, no publication, and UPDATE on users works.
    const left = await sql(db.url, `SELECT ((SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${other}') + (SELECT count(*) FROM pg_publication WHERE pubname = '${other}'))::int AS n`);
    expect(left[0]).toEqual({ n: 0 });
    await sql(db.url, `UPDATE users SET score = score WHERE id = 2`);
  });

  it('the next start names a changed setting, and the replica follows it', async () => {
    source.kill('SIGTERM');
    expect((await source.exited).code).toBe(0);
    source = start(rules('users.ssn,users.score'));
    await source.waitForOutput(/capture settings changed since the last cdc start of slot \S+: public\.users\.score: now excluded.*CAPTURE_SETTINGS_CHANGED/, 60_000);
    await until('column score dropped from the replica', () => !columns('users').includes('score'));
    await sql(db.url, `UPDATE users SET score = 99, email = 'ann.secret@example.com' WHERE id = 1`);
    await until('the change after the restart in the replica', () => rows('users')?.get('1')?.['email'] === hmac('ann.secret@example.com'));
    // Every key was written again under the new settings: the latest record of each has no score.
    const latest = new Map<string, string | null>();
    // Row records only: the topic's end marks (key "cdc.end") carry no row.
    await readTopic(`${prefix}.public.users`, (r) => void (r.key !== '"cdc.end"' && latest.set(r.key, r.value)));
    expect(latest.size).toBeGreaterThan(0);
    for (const [k, v] of latest) expect(v === null ? {} : (JSON.parse(v) as { after: Record<string, unknown> }).after, k).not.toHaveProperty('score');
  });

  it('cdc verify with the same rules compares masked columns as masked and filtered tables within the filter', async () => {
    const same = await runCliToEnd(['verify', '--pg', db.url, '--replica', replica(), ...rules('users.ssn,users.score')]);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toMatch(/users: equal \(5 rows/);
    expect(same.stdout).toMatch(/orders: equal \(3 rows/);
    // Without them the replica is not the source, and verify says so.
    const plain = await runCliToEnd(['verify', '--pg', db.url, '--replica', replica(), '--settle', '0']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(1);
    expect(plain.stdout).toMatch(/users: differs/);
    expect(plain.stdout).toMatch(/orders: differs/);
    // A wrong key gives other hashes: a difference, never a silent pass.
    writeFileSync(join(dir, 'wrong.key'), 'another key\n');
    const wrong = await runCliToEnd(['verify', '--pg', db.url, '--replica', replica(), '--settle', '0', ...rules('users.ssn,users.score').map((a) => (a === keyFile() ? join(dir, 'wrong.key') : a))]);
    expect(wrong.code, wrong.stdout + wrong.stderr).toBe(1);
    expect(wrong.stdout).toMatch(/users: differs/);
  });
});
