import { describe, expect, it, vi } from 'vitest';
import { CdcError, isRetriable, retry, RetryWindow } from '../../common/index.js';

const transient = (): CdcError => new CdcError('STREAM_ENDED', 'not now', { retriable: true });

describe('retry: one helper, bounded by attempts, by a window, and by an abort', () => {
  it('retries what is retriable until it succeeds, repairing before each new try', async () => {
    let calls = 0;
    const repairs: number[] = [];
    const got = await retry(
      async () => {
        if (++calls < 4) throw transient();
        return 'ok';
      },
      { attempts: 10, baseMs: 1, maxMs: 2, onRetry: (_e, attempt) => void repairs.push(attempt) },
    );
    expect(got).toBe('ok');
    expect(calls).toBe(4);
    expect(repairs).toEqual([1, 2, 3]);
  });

  it('throws what is not retriable at once', async () => {
    let calls = 0;
    const final = new CdcError('SOURCE_FAILED', 'never');
    await expect(retry(async () => (calls++, Promise.reject(final)), { attempts: 10, baseMs: 1 })).rejects.toBe(final);
    expect(calls).toBe(1);
  });

  it('gives up after the attempts, or once the window since the first failure is spent', async () => {
    let calls = 0;
    await expect(retry(async () => (calls++, Promise.reject(transient())), { attempts: 3, baseMs: 1, maxMs: 1 })).rejects.toThrow('not now');
    expect(calls).toBe(3);
    calls = 0;
    const started = Date.now();
    await expect(retry(async () => (calls++, Promise.reject(transient())), { windowMs: 150, baseMs: 5, maxMs: 20 })).rejects.toThrow('not now');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(calls).toBeGreaterThan(3);
  });

  it('stops waiting the moment its signal aborts', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    await expect(retry(async () => (calls++, Promise.reject(transient())), { windowMs: 60_000, baseMs: 10_000, maxMs: 10_000, signal: controller.signal })).rejects.toThrow('not now');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(calls).toBeLessThanOrEqual(2);
  });
});

describe('RetryWindow: how a long-running loop waits out an outage', () => {
  const window = (windowMs: number, signal = new AbortController().signal): RetryWindow =>
    new RetryWindow({ windowMs, giveUp: { code: 'SINK_GAVE_UP', what: 'the sink', hint: 'check the log' }, signal, baseMs: 1, maxMs: 2 });

  it('waits after a retriable failure, and gives up with its own code once the failures outlast the window', async () => {
    const w = window(100);
    const waits: number[] = [];
    await w.failed(transient(), (d) => void waits.push(d));
    expect(waits).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 120));
    const given = await w.failed(transient(), () => undefined).catch((e: unknown) => e);
    expect(given).toBeInstanceOf(CdcError);
    expect((given as CdcError).code).toBe('SINK_GAVE_UP');
    expect((given as CdcError).message).toMatch(/^the sink gave up after 0 s of failures: not now/);
  });

  it('a success starts the window again', async () => {
    const w = window(100);
    await w.failed(transient(), () => undefined);
    await new Promise((r) => setTimeout(r, 120));
    w.succeeded();
    await expect(w.failed(transient(), () => undefined)).resolves.toBeUndefined();
  });

  it('rethrows what is not retriable, and ends a wait the moment its signal aborts', async () => {
    const final = new CdcError('SOURCE_FAILED', 'never');
    await expect(window(60_000).failed(final, () => undefined)).rejects.toBe(final);
    const controller = new AbortController();
    const w = new RetryWindow({ windowMs: 60_000, giveUp: { code: 'SINK_GAVE_UP', what: 'the sink', hint: '' }, signal: controller.signal, baseMs: 30_000, maxMs: 30_000 });
    // The jitter drawn at its largest: a 30 s wait, which the abort must cut short.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999);
    try {
      const started = Date.now();
      let delay = 0;
      const waiting = w.failed(transient(), (d) => void (delay = d));
      setTimeout(() => controller.abort(), 50);
      await waiting;
      expect(delay).toBeGreaterThan(29_000);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      random.mockRestore();
    }
  });
});

describe('isRetriable: the one classifier', () => {
  it('takes a CdcError at its word, or its cause when the boundary left it undecided', () => {
    expect(isRetriable(transient())).toBe(true);
    expect(isRetriable(new CdcError('SOURCE_FAILED', 'x'))).toBe(false);
    expect(isRetriable(new CdcError('SOURCE_FAILED', 'x', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }))).toBe(true);
  });

  it('says yes to network failures and PostgreSQL going away, no to bugs and bad SQL', () => {
    const withCode = (code: string): Error => Object.assign(new Error(code), { code });
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', '08006', '57P01', '53300']) expect([code, isRetriable(withCode(code))]).toEqual([code, true]);
    for (const code of ['42P01', '42501', 'SQLITE_CORRUPT', '']) expect([code, isRetriable(withCode(code))]).toEqual([code, false]);
    expect(isRetriable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isRetriable(new TypeError('x is undefined'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
  });
});
