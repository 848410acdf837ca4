/**
 * Process lifecycle for long-running commands: the first SIGINT/SIGTERM asks the command to stop
 * cleanly (flush, confirm, close); a second one exits at once.
 */
import type { Logger } from '../common/index.js';

export function stopSignal(logger: Logger): AbortSignal {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      logger.warn(`second ${sig}: exiting without a clean stop`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    logger.info(`${sig} received: stopping cleanly (send it again to force)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
