import { execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

/** What a finished command printed. */
export interface ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end and rejects, with everything it printed, when it exits non-zero:
 * the harness's setup commands (initdb, pg_ctl, mvn, StorageTool) explain failures only there.
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err) {
          const out = `${stdout}${stderr}`.trim().split('\n').slice(-40).join('\n');
          reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${out}`, { cause: err }));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/**
 * Whether `pid` is a live process. A zombie counts as dead: a broker restarted from a test worker
 * outlives that worker and may be reparented to an init that never reaps it.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the parenthesised command name, which may itself contain spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** Current size of a file, 0 if it does not exist: where a new launch's log will begin. */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * What a log gained since `offset`, condensed for an error message: its ERROR/FATAL lines first
 * (the cause, which a shutdown that follows would push out of a plain tail), then its last lines.
 */
export function logSince(file: string, offset: number, lines = 30): string {
  let text: string;
  try {
    const size = fileSize(file);
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, size - offset));
      readSync(fd, buf, 0, buf.length, offset);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return `(no log at ${file}: ${err instanceof Error ? err.message : String(err)})`;
  }
  const all = text.trimEnd().split('\n');
  const errors = all.filter((l) => /\b(ERROR|FATAL)\b|Exception:/.test(l)).slice(0, 10);
  const head = errors.length > 0 ? `${errors.join('\n')}\n--- last lines ---\n` : '';
  return `${head}${all.slice(-lines).join('\n')}`;
}
