/** The cdc CLI as a child process, with its CPU time and peak resident memory read from Linux /proc. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onProcessEnd } from '../services/index.js';
import { ProcessMeter } from './proc.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** A running `cdc …`. */
export interface CdcChild {
  done: Promise<{ code: number | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
  /** Everything it printed on stderr so far (JSON log lines, since stderr is not a terminal). */
  stderr(): string;
  /** The kernel's high-water mark of its resident set (VmHWM), in MB; kept after it exits. */
  peakRssMb(): number;
  /** CPU seconds (user + system) it has used so far; the last sample once it has exited. */
  cpuSeconds(): number;
  /** When it was spawned, on the `performance.now()` clock. */
  startedAt: number;
}

/** Starts `cdc args…`; extra Node flags (e.g. `--cpu-prof`) come from CDC_BENCH_NODE_FLAGS. */
export function cdc(args: string[]): CdcChild {
  const nodeFlags = (process.env['CDC_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0);
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // VmHWM is a high-water mark kept by the kernel, so sampling only has to catch it before exit.
  const meter = new ProcessMeter(child.pid ?? -1);
  // A bench that fails half-way must not leave cdc processes behind on the slot or the log.
  const unregister = onProcessEnd(() => void child.kill('SIGKILL'));
  return {
    done: new Promise((resolve) => child.on('exit', (code) => (meter.stop(), unregister(), resolve({ code, stderr })))),
    kill: (s) => void child.kill(s),
    stderr: () => stderr,
    peakRssMb: () => meter.peakRssMb(),
    cpuSeconds: () => meter.cpuSeconds(),
    startedAt,
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
