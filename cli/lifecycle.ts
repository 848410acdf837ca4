/**
 * Process lifecycle for long-running commands: the first SIGINT/SIGTERM asks the command to stop
 * cleanly (flush, confirm, close); a second one exits at once. A clean stop has 10 s: past that
 * (the log or PostgreSQL does not answer) the process exits 1 with a message that says what was not
 * confirmed, because an orchestrator would SIGKILL it soon anyway and say nothing.
 */
import type { Logger } from '../common/index.js';

/** How long a clean stop may take before the process gives up on it. */
export const STOP_GRACE_MS = 10_000;

export interface StopOptions {
  /** Says what is still unconfirmed, for the message when the grace period runs out. */
  unfinished?: () => string;
  graceMs?: number;
}

export function stopSignal(logger: Logger, options: StopOptions = {}): AbortSignal {
  const controller = new AbortController();
  let first = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    // Tools such as `timeout` signal the child and its process group: the same signal twice within
    // a moment is one request, not an impatient operator.
    if (controller.signal.aborted && Date.now() - first < 1000) return;
    if (controller.signal.aborted) {
      logger.warn(`second ${sig}: exiting without a clean stop`, { code: 'STOP_FORCED' });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    logger.info(`${sig} received: stopping cleanly (send it again to force)`);
    first = Date.now();
    const grace = options.graceMs ?? STOP_GRACE_MS;
    // unref: a stop that finishes in time must not wait for this timer.
    setTimeout(() => {
      const what = options.unfinished?.() ?? 'positions may not be confirmed';
      logger.error(`clean stop did not finish within ${grace / 1000} s: ${what}`, { code: 'STOP_TIMEOUT' });
      process.exit(1);
    }, grace).unref();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
