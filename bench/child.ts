/** The cdc CLI as a child process, with its peak resident memory read from Linux /proc. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onProcessEnd } from '../services/index.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** A running `cdc …`. */
export interface CdcChild {
  done: Promise<{ code: number | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
  /** Everything it printed on stderr so far (JSON log lines, since stderr is not a terminal). */
  stderr(): string;
  /** The kernel's high-water mark of its resident set (VmHWM), in MB; kept after it exits. */
  peakRssMb(): number;
}

/** Starts `cdc args…`; extra Node flags (e.g. `--cpu-prof`) come from CDC_BENCH_NODE_FLAGS. */
export function cdc(args: string[]): CdcChild {
  const nodeFlags = (process.env['CDC_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0);
  const child = spawn(process.execPath, [...nodeFlags, CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let peakKb = 0;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // VmHWM is a high-water mark kept by the kernel, so sampling only has to catch it before exit.
  const sample = (): void => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      peakKb = Math.max(peakKb, kb);
    } catch {
      // The process ended between samples.
    }
  };
  const timer = setInterval(sample, 50);
  // A bench that fails half-way must not leave cdc processes behind on the slot or the log.
  const unregister = onProcessEnd(() => void child.kill('SIGKILL'));
  return {
    done: new Promise((resolve) => child.on('exit', (code) => (clearInterval(timer), unregister(), resolve({ code, stderr })))),
    kill: (s) => void child.kill(s),
    stderr: () => stderr,
    peakRssMb: () => Math.round(peakKb / 1024),
  };
}

/** Polls `fn` every 20 ms until it is true; a condition that never comes is an error, not a hang. */
export async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 900_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops a child with SIGTERM (a clean stop, as a user's Ctrl-C) and waits for it. */
export async function stop(c: CdcChild): Promise<void> {
  c.kill('SIGTERM');
  await c.done;
}
