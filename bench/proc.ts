/**
 * What a child process cost, read from Linux /proc: CPU seconds (utime + stime of
 * /proc/<pid>/stat) and peak resident memory (VmHWM of /proc/<pid>/status). The same reading for
 * `cdc` (Node) and for the Debezium comparison's Connect JVM, so their figures compare like with like.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time a process has used, in clock ticks. */
export interface CpuTicks {
  utime: number;
  stime: number;
}

/**
 * utime and stime from the text of /proc/<pid>/stat (fields 14 and 15, proc(5)). The second field
 * is the command name in parentheses and may itself hold spaces and ')', so fields are counted
 * from the last ')'.
 */
export function parseProcStat(text: string): CpuTicks {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // After ')' come field 3 (state), 4, …: utime is field 14, the 12th of these.
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) throw new Error(`no utime/stime in /proc/<pid>/stat: ${text.slice(0, 80)}`);
  return { utime, stime };
}

/** VmHWM from the text of /proc/<pid>/status, in kB; 0 when absent (a kernel thread, a zombie). */
export function parseVmHwmKb(text: string): number {
  return Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(text)?.[1] ?? 0);
}

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime and stime: 100 on every Linux we know, asked of getconf once. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * Samples one process every 50 ms so that its last figures survive its exit (/proc/<pid> goes
 * with it); `cpuSeconds` and `peakRssMb` read afresh while it runs.
 */
export class ProcessMeter {
  private peakKb = 0;
  private cpu = 0;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
    this.sample();
  }

  /** utime + stime so far, in seconds (the last sample once the process has ended). */
  cpuSeconds(): number {
    this.sample();
    return this.cpu;
  }

  /** The kernel's high-water mark of the resident set, MB (kept after the process ends). */
  peakRssMb(): number {
    this.sample();
    return Math.round(this.peakKb / 1024);
  }

  /** Stops sampling, to be called when the process has exited (its pid may then be reused). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private sample(): void {
    if (this.stopped) return;
    try {
      const t = parseProcStat(readFileSync(`/proc/${this.pid}/stat`, 'utf8'));
      this.cpu = (t.utime + t.stime) / clockTicksPerSecond();
      this.peakKb = Math.max(this.peakKb, parseVmHwmKb(readFileSync(`/proc/${this.pid}/status`, 'utf8')));
    } catch {
      // The process ended between samples: the last figures stand.
    }
  }
}
