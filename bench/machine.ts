/** What the figures were measured on, for the report: they mean nothing without it. */
import { cpus, release, totalmem } from 'node:os';
import { query } from './db.js';

/** The machine, the runtimes and the services' versions. */
export interface Machine {
  cpus: number;
  cpu_model: string;
  mem_gb: number;
  kernel: string;
  node: string;
  postgres: string;
  kafka: string | null;
}

export async function describeMachine(pgUrl: string, kafka: string | null): Promise<Machine> {
  const [v] = await query(pgUrl, 'SHOW server_version');
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    mem_gb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    postgres: v?.['server_version'] ?? 'unknown',
    kafka,
  };
}
