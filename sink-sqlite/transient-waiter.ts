/**
 * How a sink waits out a log that went away: retriable failures (CdcError.retriable) are retried
 * with backoff for up to a window (the resolved CDC_RETRY_WINDOW_MS, default 5 minutes) of
 * consecutive failures; anything else, or a longer outage, ends the sink.
 */
import { CdcError, isRetriable, messageOf, type Logger } from '../common/index.js';

export class TransientWaiter {
  private failingSince: number | null = null;
  private attempt = 0;
  constructor(
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
    private readonly windowMs = 5 * 60_000,
  ) {}

  succeeded(): void {
    this.failingSince = null;
    this.attempt = 0;
  }

  /** Waits before the next try, or rethrows when `e` is not worth waiting out. */
  async failed(e: unknown): Promise<void> {
    if (this.signal.aborted || !isRetriable(e)) throw e;
    this.failingSince ??= Date.now();
    if (Date.now() - this.failingSince > this.windowMs) {
      throw new CdcError('SINK_GAVE_UP', `the sink gave up after ${Math.round(this.windowMs / 1000)} s of failures: ${messageOf(e)}`, {
        hint: 'check the log; the replica keeps its offsets, so cdc sink resumes where it stopped',
        cause: e,
      });
    }
    const delay = Math.round(Math.random() * Math.min(15_000, 500 * 2 ** Math.min(this.attempt++, 5)));
    this.logger.warn('log unreachable; retrying', { error: messageOf(e), retry_in_ms: delay });
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, delay);
      this.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}
