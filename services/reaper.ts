/**
 * Synchronous cleanups that must run however this process ends. vitest ends a fork worker with
 * SIGTERM, which skips `exit` handlers, so SIGTERM runs them too and then dies as it would have.
 */
const cleanups = new Set<() => void>();
let installed = false;

/** Registers `fn` to run once at process exit or SIGTERM; returns a function that unregisters it. */
export function onProcessEnd(fn: () => void): () => void {
  install();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

function runAll(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // Best effort: one failed cleanup must not stop the others.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  // Prepended: a listener that calls process.exit() (vitest has one) skips those after it.
  process.prependListener('exit', runAll);
  const onTerm = (): void => {
    runAll();
    // Our listener suppressed the default action; restore it unless someone else handles SIGTERM.
    if (process.listenerCount('SIGTERM') === 1) {
      process.off('SIGTERM', onTerm);
      process.kill(process.pid, 'SIGTERM');
    }
  };
  process.on('SIGTERM', onTerm);
}
