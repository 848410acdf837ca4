import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSize, logSince, run } from './exec.js';
import { pgBindir } from './pg-bindir.js';
import { freePort } from './ports.js';
import type { PgControl } from './types.js';

/** How a running cluster is shut down: `fast` rolls back sessions, `immediate` is a crash. */
export type PgStopMode = 'fast' | 'immediate';

// Host connections must present the password, so a wrong-password test really fails; the unix
// socket stays trusted for the harness's own pg_ctl calls.
const HBA = `local all all trust
local replication all trust
host all all 127.0.0.1/32 scram-sha-256
host replication all 127.0.0.1/32 scram-sha-256
`;

/**
 * Starts a throwaway PostgreSQL cluster (wal_level=logical) in a temp dir on a free port, as the
 * `postgres` OS user when we are root (initdb refuses root). Ready when this resolves.
 *
 * `cdc demo` has its own, smaller one (cli/demo/throwaway-postgres.ts), and both find the server
 * binaries and the port the same way (cli/demo/server-setup.ts). This one stays out of the product:
 * it gives the tests password authentication (they check wrong passwords), crash restarts, control
 * by plain JSON from other processes, and settings for many slots -- nothing a demo needs.
 */
export async function startLocalPostgres(): Promise<PgControl> {
  const bindir = pgBindir();
  const osUser = process.getuid?.() === 0 ? 'postgres' : null;
  const baseDir = mkdtempSync(join(tmpdir(), 'cdc-pg-'));
  const c: PgControl = {
    bindir,
    baseDir,
    dataDir: join(baseDir, 'data'),
    logFile: join(baseDir, 'postgres.log'),
    port: await freePort(),
    password: randomBytes(18).toString('hex'),
    osUser,
  };
  try {
    const owner = osUser ? osUserIds(osUser) : null;
    const pwfile = join(baseDir, 'pwfile');
    writeFileSync(pwfile, `${c.password}\n`, { mode: 0o600 });
    if (owner) {
      chownSync(baseDir, owner.uid, owner.gid);
      chownSync(pwfile, owner.uid, owner.gid);
    }
    await asOwner(c, 'initdb', [
      '-D', c.dataDir, '-U', 'postgres', `--pwfile=${pwfile}`,
      '--auth-local=trust', '--auth-host=scram-sha-256',
      '-E', 'UTF8', '--locale=C', '--no-sync',
    ]);
    rmSync(pwfile);
    appendFileSync(join(c.dataDir, 'postgresql.conf'), serverConf(c));
    writeFileSync(join(c.dataDir, 'pg_hba.conf'), HBA);
    if (owner) chownSync(join(c.dataDir, 'pg_hba.conf'), owner.uid, owner.gid);
    await startPostgres(c);
    return c;
  } catch (err) {
    // pg_ctl may time out on a server that did start; it must not outlive its deleted dir.
    await stopPostgres(c, 'immediate').catch(() => undefined);
    rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }
}

/** Starts a stopped cluster and waits until it accepts connections; a no-op while it runs. */
export async function startPostgres(c: PgControl): Promise<void> {
  if (await isRunning(c)) return;
  const logStart = fileSize(c.logFile);
  try {
    await asOwner(c, 'pg_ctl', ['-D', c.dataDir, '-l', c.logFile, '-w', '-t', '120', 'start']);
  } catch (err) {
    // pg_ctl only says "examine the log output"; the server's log says why.
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`${why}\n--- ${c.logFile} ---\n${logSince(c.logFile, logStart)}`, { cause: err });
  }
}

/** Stops the cluster; a cluster that is already down is not an error. */
export async function stopPostgres(c: PgControl, mode: PgStopMode = 'fast'): Promise<void> {
  try {
    await asOwner(c, 'pg_ctl', ['-D', c.dataDir, '-m', mode, '-w', '-t', '120', 'stop']);
  } catch (err) {
    if (await isRunning(c)) throw err;
  }
}

/** Stops and starts the cluster on the same port and data dir; `immediate` forces crash recovery. */
export async function restartPostgres(c: PgControl, mode: PgStopMode = 'fast'): Promise<void> {
  await stopPostgres(c, mode);
  await startPostgres(c);
}

/** Stops the cluster and deletes everything it had. */
export async function destroyPostgres(c: PgControl): Promise<void> {
  try {
    await stopPostgres(c, 'fast');
  } finally {
    rmSync(c.baseDir, { recursive: true, force: true });
  }
}

/** Synchronous last resort for `process.on('exit')`, where nothing async runs. */
export function destroyPostgresSync(c: PgControl): void {
  const [cmd, args] = ownerCommand(c, 'pg_ctl', ['-D', c.dataDir, '-m', 'immediate', '-w', 'stop']);
  spawnSync(cmd, args, { stdio: 'ignore', cwd: c.baseDir, timeout: 30_000 });
  rmSync(c.baseDir, { recursive: true, force: true });
}

/** Superuser URL with the password inline. */
export function postgresUrl(c: PgControl, database = 'postgres'): string {
  return `postgres://postgres:${c.password}@127.0.0.1:${c.port}/${database}`;
}

async function isRunning(c: PgControl): Promise<boolean> {
  try {
    await asOwner(c, 'pg_ctl', ['-D', c.dataDir, 'status']);
    return true;
  } catch {
    return false;
  }
}

function serverConf(c: PgControl): string {
  return `
# cdc test harness
port = ${c.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${c.baseDir}'
wal_level = logical
max_replication_slots = 64
max_wal_senders = 64
max_connections = 200
fsync = off
full_page_writes = off
# synchronous_commit stays on: with fsync off a commit's flush is only a write(), so "off" saves
# nothing, while it would lose acknowledged commits on an immediate (crash) restart and delay
# logical decoding, which sends only flushed WAL, until the WAL writer's next round.
`;
}

function asOwner(c: PgControl, bin: string, args: string[]): Promise<unknown> {
  const [cmd, fullArgs] = ownerCommand(c, bin, args);
  // cwd must be readable by the postgres user, which the caller's cwd (e.g. /root) may not be.
  return run(cmd, fullArgs, { cwd: c.baseDir, timeoutMs: 180_000 });
}

function ownerCommand(c: PgControl, bin: string, args: string[]): [string, string[]] {
  const path = join(c.bindir, bin);
  return c.osUser ? ['runuser', ['-u', c.osUser, '--', path, ...args]] : [path, args];
}

function osUserIds(user: string): { uid: number; gid: number } {
  const id = (flag: string): number => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0 || !Number.isInteger(gid)) {
    throw new Error(`OS user "${user}" not found; as root, PostgreSQL must run as it (apt-get install postgresql creates it)`);
  }
  return { uid, gid };
}
