/**
 * TLS to PostgreSQL: a private cluster with ssl=on and a certificate from a throwaway CA made with
 * openssl here; `cdc start` with sslmode=verify-full and that CA streams, and with another CA it
 * fails at once with exit 2 and a message that names the problem and the fix.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliToEnd, sql, startPrivatePostgres, uniqueName, type PrivatePostgres } from '../harness/index.js';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA (ca.crt, ca.key) in `dir`, named `name`. */
function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

describe('TLS to PostgreSQL', () => {
  let pg: PrivatePostgres;
  let dir: string;
  let url: string;
  let password: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cdc-tls-'));
    makeCa(dir, 'ca');
    makeCa(dir, 'otherca');
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt');

    pg = await startPrivatePostgres();
    // The server reads server.crt and server.key from its data directory; the key must belong to
    // the server's OS user and be private to it.
    const data = pg.control.dataDir;
    for (const f of ['server.crt', 'server.key']) {
      copyFileSync(join(dir, f), join(data, f));
      if (pg.control.osUser) {
        const id = (flag: string): number => Number(execFileSync('id', [flag, pg.control.osUser as string], { encoding: 'utf8' }).trim());
        chownSync(join(data, f), id('-u'), id('-g'));
      }
    }
    execFileSync('chmod', ['600', join(data, 'server.key')]);
    await sql(pg.adminUrl, 'ALTER SYSTEM SET ssl = on');
    await pg.restart();
    await sql(pg.adminUrl, 'CREATE TABLE t (id int PRIMARY KEY, v text)');
    await sql(pg.adminUrl, "INSERT INTO t VALUES (1, 'a')");
    const u = new URL(pg.adminUrl);
    password = decodeURIComponent(u.password);
    writeFileSync(join(dir, 'pgpass'), password + '\n', { mode: 0o600 });
    u.password = '';
    url = u.toString();
  });

  afterAll(async () => {
    await pg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('streams over verify-full TLS with the CA given by --pg-ca, and the server sees TLS', async () => {
    const slot = uniqueName('tls');
    const proc = runCli(['start', '--pg', url, '--pg-password-file', join(dir, 'pgpass'), '--pg-ca', join(dir, 'ca.crt'), '--log', join(dir, 'log'), '--slot', slot]);
    try {
      await proc.waitForOutput(/streaming changes/, 60_000);
      const rows = await sql<{ ssl: boolean }>(pg.adminUrl, "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'cdc'");
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.ssl)).toBe(true);
    } finally {
      proc.kill('SIGTERM');
    }
    const r = await proc.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(password);
  });

  it('also takes sslmode and sslrootcert in the URL', async () => {
    const u = new URL(pg.adminUrl);
    u.searchParams.set('sslmode', 'verify-full');
    u.searchParams.set('sslrootcert', join(dir, 'ca.crt'));
    const r = await runCliToEnd(['config', 'print', '--pg', u.toString()]);
    expect(r.code, r.stderr).toBe(0);
    const proc = runCli(['start', '--pg', u.toString(), '--log', join(dir, 'log2'), '--slot', uniqueName('tls')]);
    await proc.waitForOutput(/streaming changes/, 60_000).finally(() => proc.kill('SIGTERM'));
    expect((await proc.exited).code).toBe(0);
  });

  it('fails with exit 2 and a clear message when the CA is the wrong one', async () => {
    const r = await runCliToEnd(['start', '--pg', url, '--pg-password-file', join(dir, 'pgpass'), '--pg-ca', join(dir, 'otherca.crt'), '--log', join(dir, 'log3'), '--slot', uniqueName('tls')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: PostgreSQL at 127\.0\.0\.1:\d+\/postgres presented a certificate that is not signed by a trusted CA/m);
    expect(r.stderr).toMatch(/^Try: pass the CA that signed the server certificate with --pg-ca FILE/m);
    expect(r.stdout + r.stderr).not.toContain(password);
  });
});
