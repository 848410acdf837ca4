import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onProcessEnd } from '../../services/index.js';

/** The repository root, found from this file (test/harness/cli.ts) so any cwd works. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The compiled CLI; `npm test` runs `tsc` first, so tests exercise what ships. */
export const CLI_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** How a CLI process ended, and everything it printed. */
export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link runCli}. */
export interface CliOptions {
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  /** Working directory; default the repository root. */
  cwd?: string;
}

/** A running `cdc` process. */
export interface CliProcess {
  readonly pid: number | undefined;
  /** Settles when the process has exited and its output is fully read. Never rejects. */
  readonly exited: Promise<CliResult>;
  /** Standard output so far. */
  stdout(): string;
  /** Standard error so far. */
  stderr(): string;
  /** Sends a signal (default SIGTERM); a no-op once it has exited. */
  kill(signal?: NodeJS.Signals): void;
  /**
   * Resolves with the first match of `regex` in stdout, else in stderr, as soon as it appears;
   * rejects, with the output so far, on timeout (default 30 s) or if the process exits first.
   */
  waitForOutput(regex: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** Starts `node dist/cli/main.js ...args`; it is killed when this worker ends, whatever happens. */
export function runCli(args: readonly string[], opts: CliOptions = {}): CliProcess {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} does not exist: build first (npm run build; npm test does)`);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = onProcessEnd(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  let done = false;
  const exited = new Promise<CliResult>((resolve) => {
    const end = (code: number | null, signal: string | null): void => {
      if (done) return;
      done = true;
      unregister();
      notify();
      resolve({ code, signal, stdout: out, stderr: err });
    };
    // 'close', not 'exit': only then is all output read.
    child.once('close', end);
    // A failed spawn may never emit 'close'.
    child.once('error', (e) => {
      err += `\n[harness] ${e.message}\n`;
      if (child.pid === undefined) end(null, null);
    });
  });

  const waitForOutput = (regex: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      // A /g or /y regex keeps lastIndex between calls; a copy without those flags does not.
      const re = new RegExp(regex.source, regex.flags.replace(/[gy]/g, ''));
      const finish = (fn: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        fn();
      };
      const check = (): void => {
        const m = re.exec(out) ?? re.exec(err);
        if (m) finish(() => resolve(m));
        else if (done) finish(() => reject(new Error(`cdc exited before printing ${regex}\n${transcript(out, err)}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`cdc did not print ${regex} within ${timeoutMs} ms\n${transcript(out, err)}`))),
        timeoutMs,
      );
      listeners.add(check);
      check();
    });

  return {
    pid: child.pid,
    exited,
    stdout: () => out,
    stderr: () => err,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (!done) child.kill(signal);
    },
    waitForOutput,
  };
}

/**
 * Runs `cdc ...args` to its end and returns how it ended (a non-zero exit is a result, not an
 * error). Past `timeoutMs` (default 60 s) the process is killed and this throws with its output.
 */
export async function runCliToEnd(args: readonly string[], opts: CliOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  const proc = runCli(args, opts);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    proc.kill('SIGKILL');
    const r = await proc.exited;
    throw new Error(`cdc ${args.join(' ')} did not exit within ${timeoutMs} ms\n${transcript(r.stdout, r.stderr)}`);
  }
  return outcome;
}

function transcript(stdout: string, stderr: string): string {
  return `--- stdout ---\n${stdout.slice(-4000)}\n--- stderr ---\n${stderr.slice(-4000)}`;
}
