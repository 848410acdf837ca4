import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../common/index.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SerialQueue', () => {
  it('starts a job only after the one before it settled, in call order', async () => {
    const q = new SerialQueue();
    const events: string[] = [];
    const first = deferred();
    const a = q.run(async () => {
      events.push('a start');
      await first.promise;
      events.push('a end');
    });
    const b = q.run(async () => {
      events.push('b start');
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['a start']);
    first.resolve();
    await Promise.all([a, b]);
    expect(events).toEqual(['a start', 'a end', 'b start']);
  });

  it('a failed job fails its own caller and does not stop the next', async () => {
    const q = new SerialQueue();
    const failing = q.run(() => Promise.reject(new Error('boom')));
    const next = q.run(() => Promise.resolve(7));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe(7);
  });

  it('idle waits for every job queued so far', async () => {
    const q = new SerialQueue();
    const gate = deferred();
    let done = false;
    void q.run(async () => {
      await gate.promise;
      done = true;
    });
    const idle = q.idle().then(() => done);
    gate.resolve();
    await expect(idle).resolves.toBe(true);
  });
});
