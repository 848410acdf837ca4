/**
 * The one retry path: exponential backoff with full jitter, retrying only what {@link isRetriable}
 * (or a caller's own classifier) says may help, abort-aware while it waits. Two shapes of the same
 * thing: `retry()` for one call, and {@link RetryWindow} for a loop that runs for a long time and
 * must survive outages (cdc start, a sink): its window counts consecutive failures, reset by a
 * success. Every retry loop in `cdc` goes through one of them, so their behaviour is the same and
 * bounded: by a number of attempts, by a window of time since the first failure, or both.
 */
import { CdcError, isRetriable, messageOf } from './errors.js';
import type { ErrorCode } from './error-codes.js';

/** The wait before the attempt after `attempt` failures (1-based): full jitter up to an exponential cap. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.round(Math.random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 20)));
}

export interface RetryOptions {
  /** Attempts in all, the first included (default: unbounded, so give a window). */
  attempts?: number;
  /** Give up once this long has passed since the first failure (ms). */
  windowMs?: number;
  baseMs?: number;
  maxMs?: number;
  /** Which failures are worth another attempt; default: CdcErrors marked retriable. */
  retriable?: (e: unknown) => boolean;
  /** Called before each wait, for logging and for repairs (a new connection) before the next try. */
  onRetry?: (e: unknown, attempt: number, delayMs: number) => void | Promise<void>;
  /** Ends the waiting at once: the last failure is thrown. */
  signal?: AbortSignal;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 10_000;
  const attempts = options.attempts ?? Number.POSITIVE_INFINITY;
  const retriable = options.retriable ?? isRetriable;
  let firstFailure: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      firstFailure ??= Date.now();
      const outOfTime = options.windowMs !== undefined && Date.now() - firstFailure >= options.windowMs;
      if (attempt >= attempts || outOfTime || !retriable(e) || options.signal?.aborted) throw e;
      const delay = backoffMs(attempt, base, max);
      await options.onRetry?.(e, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryWindowOptions {
  /** How long consecutive failures are waited out before giving up (ms). */
  windowMs: number;
  /** The code and words of the error thrown on giving up (`<what> gave up after N s of failures`). */
  giveUp: { code: ErrorCode; what: string; hint: string };
  /** Ends the waiting at once (the wait resolves; the caller sees the abort). */
  signal: AbortSignal;
  baseMs?: number;
  maxMs?: number;
}

/** Waits out failures of a long-running loop; see the file comment. */
export class RetryWindow {
  private failingSince: number | null = null;
  private attempt = 0;
  constructor(private readonly options: RetryWindowOptions) {}

  /** A success: the next failure starts a new window. */
  succeeded(): void {
    this.failingSince = null;
    this.attempt = 0;
  }

  /**
   * After a failure: rethrows it when it is not worth waiting out (or the signal aborted), throws
   * the give-up error once the window is spent, else waits (`onWait` is told how long first).
   */
  async failed(e: unknown, onWait: (delayMs: number) => void): Promise<void> {
    if (this.options.signal.aborted || !isRetriable(e)) throw e;
    this.failingSince ??= Date.now();
    const { windowMs, giveUp } = this.options;
    if (Date.now() - this.failingSince > windowMs) {
      throw new CdcError(giveUp.code, `${giveUp.what} gave up after ${Math.round(windowMs / 1000)} s of failures: ${messageOf(e)}`, { hint: giveUp.hint, cause: e });
    }
    const delay = backoffMs(++this.attempt, this.options.baseMs ?? 500, this.options.maxMs ?? 15_000);
    onWait(delay);
    await sleep(delay, this.options.signal);
  }
}
