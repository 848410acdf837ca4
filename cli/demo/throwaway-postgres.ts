/**
 * A PostgreSQL for `cdc demo` when the user names none: a temporary cluster from the machine's
 * server binaries with wal_level=logical on a free local port, removed afterwards. As root, the
 * server runs as the `postgres` OS user (initdb refuses root).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CdcError } from '../../common/index.js';
import { findPgBindir, freePort } from './server-setup.js';

export interface ThrowawayPostgres {
  readonly url: string;
  readonly port: number;
  stop(): void;
}

function bindir(): string {
  const { bindir: found } = findPgBindir();
  if (!found) {
    throw new CdcError('DEMO_NO_POSTGRES', 'no PostgreSQL server binaries found for the demo', {
      exitCode: 2,
      hint: 'install them (apt-get install postgresql), set CDC_PG_BINDIR, or point CDC_PG_URL at a PostgreSQL with wal_level=logical',
    });
  }
  return found;
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = bindir();
  const base = mkdtempSync(join(tmpdir(), 'cdc-demo-pg-'));
  const data = join(base, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    const full = join(bin, cmd);
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { encoding: 'utf8' }) : spawnSync(full, args, { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new CdcError('DEMO_POSTGRES_FAILED', `${cmd} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' ')}`, {
        hint: 'point CDC_PG_URL at a PostgreSQL with wal_level=logical instead',
      });
    }
  };
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new CdcError('DEMO_POSTGRES_FAILED', 'running as root, but there is no postgres OS user to run the server as', { hint: 'run the demo as an ordinary user, or set CDC_PG_URL' });
    chownSync(base, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  const stop = (): void => {
    spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', 'stop'] : ['-D', data, '-m', 'fast', 'stop'], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const options = `-c port=${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${base} -c wal_level=logical -c fsync=off`;
    run('pg_ctl', ['-D', data, '-l', join(base, 'postgres.log'), '-o', options, '-w', 'start']);
  } catch (e) {
    stop();
    throw e;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop };
}
