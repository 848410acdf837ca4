/** Runs `cdc start` and sinks as real processes for one test, and tells when a replica has caught up. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli, waitFor, type CliProcess } from '../../harness/index.js';
import { differences, type TableSpec } from './compare.js';

export interface PipelineOptions {
  pgUrl: string;
  log: string;
  prefix: string;
  slot: string;
  dir: string;
  tables: TableSpec[];
}

export class Pipeline {
  private readonly processes: CliProcess[] = [];
  constructor(readonly o: PipelineOptions) {}

  start(env: Record<string, string> = {}, extra: string[] = []): CliProcess {
    const p = runCli(['start', '--pg', this.o.pgUrl, '--log', this.o.log, '--slot', this.o.slot, '--topic-prefix', this.o.prefix, ...extra], { env: { CDC_RETRY_WINDOW_MS: '120000', ...env } });
    this.processes.push(p);
    return p;
  }

  /** A sink that bootstraps the replica if it is new and then follows. */
  sink(name: string, env: Record<string, string> = {}, existing = false): CliProcess {
    const args = existing ? ['sink', name] : ['bootstrap', name, '--follow'];
    const p = runCli([...args, '--log', this.o.log, '--replica', this.replica(name), '--topic-prefix', this.o.prefix], { env });
    this.processes.push(p);
    return p;
  }

  replica(name: string): string {
    return join(this.o.dir, `${name}.db`);
  }

  /** Waits until the replica equals the source; fails with the first differences. */
  async converged(name: string, timeoutMs = 90_000): Promise<void> {
    try {
      await waitFor(async () => ((await differences(this.o.pgUrl, this.replica(name), this.o.tables)).length === 0 ? true : undefined), {
        timeoutMs,
        intervalMs: 250,
        what: `replica ${name} to equal the source`,
      });
    } catch (e) {
      const diffs = await differences(this.o.pgUrl, this.replica(name), this.o.tables);
      const tails = this.processes.map((p, i) => `--- process ${i} (pid ${p.pid}) stderr tail:\n${p.stderr().slice(-1500)}`).join('\n');
      throw new Error(`${(e as Error).message}; ${diffs.length} differences, first: ${diffs.slice(0, 5).join(' | ')}\n${tails}`);
    }
  }

  /** SIGTERM, and the process must stop cleanly. */
  async stop(p: CliProcess): Promise<void> {
    p.kill('SIGTERM');
    const r = await p.exited;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
  }

  /** Writes each process's stderr into `dir` (for reading a failed run after the fact). */
  dumpLogs(dir: string, label: string): void {
    mkdirSync(dir, { recursive: true });
    this.processes.forEach((p, i) => writeFileSync(join(dir, `${label}-${i}-pid${p.pid}.log`), p.stderr()));
  }

  async killAll(): Promise<void> {
    for (const p of this.processes) p.kill('SIGKILL');
    await Promise.all(this.processes.map((p) => p.exited));
  }
}
