/**
 * What starting a PostgreSQL on this machine needs from it: the server binaries and a free port.
 * The demo's throwaway cluster uses these, and so do the tests and the benchmark (services/), so
 * all of them find the same binaries. .ci/run has the same search in shell.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Where the PostgreSQL server binaries (initdb, pg_ctl) are: `CDC_PG_BINDIR`, else
 * `pg_config --bindir`, else the newest `/usr/lib/postgresql/N/bin`, because Debian keeps them off
 * PATH and `pg_config` comes from libpq-dev, which a machine with the server may lack. `bindir` is
 * undefined when none has them; `searched` says where it looked, for the caller's error.
 */
export function findPgBindir(): { bindir: string | undefined; searched: string[] } {
  const searched: string[] = [];
  const fromEnv = process.env['CDC_PG_BINDIR'];
  if (fromEnv) searched.push(fromEnv);
  try {
    searched.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: 'pipe' }).trim());
  } catch {
    // pg_config absent: fall through to the Debian layout.
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) searched.push(join(debian, v, 'bin'));
  }
  return { bindir: searched.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))), searched };
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now. The OS picks it, so two callers in
 * parallel get different ones; the short window before the server binds it is accepted.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
