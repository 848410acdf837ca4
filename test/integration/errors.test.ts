import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, runCliToEnd, services, sql, startPrivatePostgres, uniqueName, type PrivatePostgres, type TestDatabase } from '../harness/index.js';
import { freePort } from '../../services/index.js';

function withPassword(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

describe('bad input: a clear error, exit code 2, no stack trace, no secret', () => {
  let db: TestDatabase;
  let dir: string;
  const kafka = `kafka://${services().kafkaBrokers}`;
  const secret = 'S3cret-Pa55word';

  /** Runs the CLI and checks what every bad-input case must satisfy. */
  async function expectUsageError(args: string[], message: RegExp, hint: RegExp, env: Record<string, string> = {}): Promise<string> {
    const r = await runCliToEnd(args, { env, timeoutMs: 60_000 });
    const output = r.stdout + r.stderr;
    expect(r.code, output).toBe(2);
    expect(r.stderr).toMatch(/^error: /m);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(new RegExp(`^Try: .*${hint.source}`, 'm'));
    expect(output).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
    expect(output).not.toContain(secret);
    expect(output).not.toContain(new URL(services().pgAdminUrl).password);
    return r.stderr;
  }

  beforeAll(async () => {
    db = await createDatabase('errors');
    dir = mkdtempSync(join(tmpdir(), 'cdc-errors-'));
    await sql(db.url, 'CREATE TABLE t (id int PRIMARY KEY)');
  });

  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a malformed PostgreSQL URL', async () => {
    await expectUsageError(['start', '--pg', `postgres://u:${secret}@host:notaport/db`, '--log', kafka], /--pg postgres:\/\/u:\*\*\*@host:notaport\/db is not a valid URL/, /postgres:\/\/user:password@host/);
    await expectUsageError(['start', '--pg', `mysql://u:${secret}@host/db`, '--log', kafka], /is not a PostgreSQL URL/, /postgres:\/\//);
  });

  it('no PostgreSQL URL at all, and the CDC_PG_URL fallback', async () => {
    await expectUsageError(['start', '--log', kafka], /no PostgreSQL URL given/, /CDC_PG_URL/);
    await expectUsageError(['start', '--log', kafka], /cannot connect to PostgreSQL at 127\.0\.0\.1:1\/db/, /PostgreSQL is running/, { CDC_PG_URL: `postgres://u:${secret}@127.0.0.1:1/db` });
  });

  it('PostgreSQL unreachable', async () => {
    const port = await freePort();
    await expectUsageError(['start', '--pg', `postgres://postgres:${secret}@127.0.0.1:${port}/db`, '--log', kafka], new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/db`), /host and port/);
  });

  it('a wrong password', async () => {
    const url = withPassword(db.url, 'postgres', secret);
    await expectUsageError(['start', '--pg', url, '--log', kafka], /rejected the password for postgres/, /check the password/);
  });

  it('a role without the REPLICATION privilege', async () => {
    const role = uniqueName('norep');
    await sql(db.url, `CREATE ROLE ${role} LOGIN PASSWORD '${secret}'`);
    await sql(db.url, `GRANT SELECT ON t TO ${role}`);
    await expectUsageError(['start', '--pg', withPassword(db.url, role, secret), '--log', kafka], new RegExp(`role ${role} lacks the REPLICATION privilege`), new RegExp(`ALTER ROLE "${role}" WITH REPLICATION`));
  });

  it('wal_level not logical, with how to set it', async () => {
    let pg: PrivatePostgres | undefined;
    try {
      pg = await startPrivatePostgres();
      await sql(pg.adminUrl, 'ALTER SYSTEM SET wal_level = replica');
      await pg.restart();
      const [row] = await sql<{ wal_level: string }>(pg.adminUrl, 'SHOW wal_level');
      expect(row?.wal_level).toBe('replica');
      await expectUsageError(['start', '--pg', pg.adminUrl, '--log', kafka], /wal_level=replica; logical replication needs wal_level=logical/, /ALTER SYSTEM SET wal_level = logical.*restart/);
    } finally {
      await pg?.destroy();
    }
  });

  it('Kafka unreachable', async () => {
    const port = await freePort();
    await expectUsageError(['start', '--pg', db.url, '--log', `kafka://127.0.0.1:${port}`], new RegExp(`cannot reach Kafka at 127\\.0\\.0\\.1:${port}`), /broker is running/);
    await expectUsageError(['bootstrap', 'r', '--log', `kafka://127.0.0.1:${port}`, '--replica', join(dir, 'k.db')], /cannot reach Kafka/, /broker is running/);
  });

  it('an unknown --log scheme', async () => {
    await expectUsageError(['start', '--pg', db.url, '--log', 'nats://127.0.0.1:4222'], /unknown log scheme "nats:\/\/"/, /kafka:\/\/host:9092/);
  });

  it('a replica path whose directory does not exist', async () => {
    const missing = join(dir, 'no', 'such', 'dir', 'r.db');
    await expectUsageError(['bootstrap', 'r', '--log', kafka, '--replica', missing], /the directory of --replica .* does not exist/, /mkdir -p/);
    await expectUsageError(['sink', 'r', '--log', kafka, '--replica', missing], /does not exist/, /mkdir -p/);
  });

  it('a log without cdc topics for the prefix, leaving no replica file behind', async () => {
    const replica = join(dir, 'empty.db');
    await expectUsageError(['bootstrap', 'r', '--log', kafka, '--replica', replica, '--topic-prefix', uniqueName('none')], /has no cdc topics with prefix none_/, /run cdc start/);
    expect(existsSync(replica)).toBe(false);
  });

  it('an unknown table in --tables', async () => {
    await expectUsageError(['start', '--pg', db.url, '--log', kafka, '--tables', 'public.t,public.nope,other.t', '--slot', uniqueName('s')], /does not have: public\.nope, other\.t/, /schema\.table/);
  });

  it('an unknown command or option', async () => {
    await expectUsageError(['strat'], /Unknown argument|Did you mean/i, /cdc --help/);
    await expectUsageError(['start', '--pgg', 'x'], /Unknown arguments?: pgg/i, /cdc --help/);
  });
});
