import { describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/names.js';
import { waitFor } from '../../services/wait.js';

describe('uniqueName', () => {
  it('is a lowercase identifier that never repeats', () => {
    const names = Array.from({ length: 500 }, () => uniqueName('My-Table.x'));
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^my_table_x_[a-z0-9_]+$/);
    expect(uniqueName('9lives')).toMatch(/^x9lives_/);
    expect(uniqueName('a'.repeat(200)).length).toBeLessThanOrEqual(50);
  });
});

describe('waitFor', () => {
  it('returns the first value that is not undefined, null or false', async () => {
    let calls = 0;
    const v = await waitFor(() => (++calls >= 3 ? 0 : undefined), { intervalMs: 1 });
    expect(v).toBe(0);
    expect(calls).toBe(3);
  });

  it('names what it waited for and the last error on timeout', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('still booting');
        },
        { timeoutMs: 30, intervalMs: 5, what: 'the broker' },
      ),
    ).rejects.toThrow(/waiting for the broker; last error: still booting/);
  });
});
