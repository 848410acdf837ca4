/**
 * The one retry helper: exponential backoff with full jitter, retrying only what says it is
 * retriable. Every retry loop in `cdc` goes through it, so their behaviour is the same and bounded.
 */
import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs?: number;
  maxMs?: number;
  /** Which failures are worth another attempt; default: CdcErrors marked retriable. */
  retriable?: (e: unknown) => boolean;
  /** Called before each wait, for logging. */
  onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 10_000;
  const retriable = options.retriable ?? isRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= options.attempts || !retriable(e) || options.signal?.aborted) throw e;
      const delay = Math.random() * Math.min(max, base * 2 ** (attempt - 1));
      options.onRetry?.(e, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
