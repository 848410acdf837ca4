/**
 * Crash points for the fault-injection suite: `CDC_CRASH_AT=<point>[:<n>]` makes the process kill
 * itself with SIGKILL — no cleanup, no flush, exactly like `kill -9` — the n-th time (default 1st)
 * it passes the named point. Unset, a crash point costs one comparison.
 *
 * Points: after-append (the log acked, the position not yet confirmed), mid-transaction (changes
 * of an open source transaction sent to the log), snapshot-chunk (a snapshot chunk in the log, its
 * progress not yet), sink-mid-transaction (rows applied, the SQLite transaction not committed).
 */
const spec = process.env['CDC_CRASH_AT'];
const [point, nth] = spec ? (spec.split(':') as [string, string | undefined]) : ['', undefined];
const target = Number(nth ?? 1);
let passes = 0;

export function crashPoint(name: string): void {
  if (name !== point) return;
  if (++passes === target) {
    process.stderr.write(`cdc: crash point ${name} reached (${passes}): killing this process\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
