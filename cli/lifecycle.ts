/**
 * Process lifecycle for long-running commands: the first SIGINT/SIGTERM asks the command to stop
 * cleanly (flush, confirm, close); a second one exits at once.
 */
import type { Logger } from '../common/index.js';

export function stopSignal(logger: Logger): AbortSignal {
  const controller = new AbortController();
  let first = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    // Tools such as `timeout` signal the child and its process group: the same signal twice within
    // a moment is one request, not an impatient operator.
    if (controller.signal.aborted && Date.now() - first < 1000) return;
    if (controller.signal.aborted) {
      logger.warn(`second ${sig}: exiting without a clean stop`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    logger.info(`${sig} received: stopping cleanly (send it again to force)`);
    first = Date.now();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
