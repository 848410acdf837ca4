/**
 * docs/create-cdc-role.sql does what docs/security.md says: the role it creates (REPLICATION,
 * SELECT on the captured tables, no superuser, no ownership) can run `cdc start`, and can read no
 * other table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, REPO_ROOT, runCli, runCliToEnd, sql, uniqueName, type TestDatabase } from '../harness/index.js';

describe('the least-privilege role of docs/create-cdc-role.sql', () => {
  let db: TestDatabase;
  let dir: string;
  const role = uniqueName('cdcrole');
  const password = `pw-${role}-x`;

  beforeAll(async () => {
    db = await createDatabase('role');
    dir = mkdtempSync(join(tmpdir(), 'cdc-role-'));
    await sql(db.url, 'CREATE SCHEMA shop; CREATE TABLE shop.orders (id int PRIMARY KEY, v text); CREATE TABLE secrets (id int PRIMARY KEY, v text)');
    await sql(db.url, "INSERT INTO shop.orders VALUES (1, 'a'), (2, 'b')");
    execFileSync('psql', [db.url, '-q', '-v', `cdc_role=${role}`, '-v', `cdc_password=${password}`, '-v', 'tables=shop.orders', '-f', join(REPO_ROOT, 'docs/create-cdc-role.sql')], { stdio: 'pipe' });
  });

  afterAll(async () => {
    await db?.drop();
    await sql(db.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs cdc start, and reads nothing it was not granted', async () => {
    const u = new URL(db.url);
    u.username = role;
    u.password = password;
    const attrs = await sql<{ rolsuper: boolean; rolreplication: boolean }>(db.adminUrl, 'SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = $1', [role]);
    expect(attrs[0]).toEqual({ rolsuper: false, rolreplication: true });
    await expect(sql(u.toString(), 'SELECT * FROM secrets')).rejects.toThrow(/permission denied/);

    const proc = runCli(['start', '--pg', u.toString(), '--log', join(dir, 'log'), '--tables', 'shop.orders', '--slot', role, '--publication', role]);
    try {
      await proc.waitForOutput(/streaming changes/, 60_000);
    } finally {
      proc.kill('SIGTERM');
    }
    const r = await proc.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain(password);
  });

  it('with --row-filter: refuses a publication it may not change that lacks the filter, naming the statement for its owner; uses one its owner filtered', async () => {
    const u = new URL(db.url);
    u.username = role;
    u.password = password;
    const args = ['start', '--pg', u.toString(), '--log', join(dir, 'log-filter'), '--tables', 'shop.orders', '--slot', `${role}_f`, '--publication', role, '--row-filter', 'shop.orders=id > 1'];
    const refused = await runCliToEnd(args);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`as the publication's owner run: ALTER PUBLICATION "${role}" SET TABLE "shop"."orders" WHERE (id > 1)`);
    await sql(db.url, `ALTER PUBLICATION "${role}" SET TABLE shop.orders WHERE (id > 1)`);
    const proc = runCli(args);
    try {
      await proc.waitForOutput(/streaming changes/, 60_000);
    } finally {
      proc.kill('SIGTERM');
    }
    const r = await proc.exited;
    expect(r.code, r.stderr).toBe(0);
  });
});
