import { describe, expect, it } from 'vitest';
import { CdcError, retry } from '../../common/index.js';

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
