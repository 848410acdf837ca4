/**
 * PostgreSQL's own load generator, as users try `cdc` with it: `pgbench -i` tables (history given
 * a key, since `cdc` captures keyed tables only) and a TPC-B-like run of N clients for S seconds.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pgBindir } from '../../../services/index.js';
import { sql } from '../../harness/index.js';
import type { TableSpec } from './compare.js';
import type { Load } from './load.js';

export const PGBENCH_TABLES: TableSpec[] = [
  { source: 'public.pgbench_accounts', replica: 'pgbench_accounts', key: ['aid'], columns: { aid: 'int', bid: 'int', abalance: 'int', filler: 'text' } },
  { source: 'public.pgbench_branches', replica: 'pgbench_branches', key: ['bid'], columns: { bid: 'int', bbalance: 'int', filler: 'text' } },
  { source: 'public.pgbench_tellers', replica: 'pgbench_tellers', key: ['tid'], columns: { tid: 'int', bid: 'int', tbalance: 'int', filler: 'text' } },
  { source: 'public.pgbench_history', replica: 'pgbench_history', key: ['id'], columns: { id: 'int', tid: 'int', bid: 'int', aid: 'int', delta: 'int', mtime: 'text', filler: 'text' } },
];

function pgbench(url: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(pgBindir(), 'pgbench'), [...args, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench ${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`))));
  });
}

/** `pgbench -i` at scale 1 (100,000 accounts), and a key on pgbench_history. */
export async function initPgbench(url: string): Promise<void> {
  await pgbench(url, ['-i', '-s', '1', '-q']);
  await sql(url, 'ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY');
}

/**
 * `clients` pgbench clients (at most `rate` transactions/s in all when given) until stopped, as a
 * {@link Load}: `committed` adds up pgbench's per-second progress reports.
 */
export function startPgbench(url: string, o: { clients: number; rate?: number }): Load {
  const args = ['-c', String(o.clients), '-j', '2', '-T', '3600', '-n', '-P', '1', ...(o.rate ? ['-R', String(o.rate)] : [])];
  const child = spawn(join(pgBindir(), 'pgbench'), [...args, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let committed = 0;
  let tail = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('error', () => undefined);
  const read = (d: Buffer): void => {
    tail = (tail + d.toString()).slice(-4000);
    for (const m of d.toString().matchAll(/progress: [\d.]+ s, ([\d.]+) tps/g)) committed += Math.round(Number(m[1]));
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  return {
    get committed() {
      return committed;
    },
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      if (committed === 0) throw new Error(`pgbench committed nothing:\n${tail}`);
      return committed;
    },
  };
}
