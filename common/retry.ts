/**
 * The one retry helper: exponential backoff with full jitter, retrying only what says it is
 * retriable. Every retry loop in `cdc` goes through it, so their behaviour is the same and bounded:
 * by a number of attempts, by a window of time since the first failure, or both.
 */
import { isRetriable } from './errors.js';

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
      const delay = Math.random() * Math.min(max, base * 2 ** Math.min(attempt - 1, 20));
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
