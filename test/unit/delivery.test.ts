import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/index.js';
import type { AppendRecord, TopicLog } from '../../compaction/index.js';
import { Delivery } from '../../source-postgres/delivery.js';

/** A log whose appends resolve only when the test says so: durability under the test's control. */
function controllableLog() {
  const calls: { records: readonly AppendRecord[]; ack: () => void; fail: (e: unknown) => void }[] = [];
  const log = {
    append: (records: readonly AppendRecord[]) =>
      new Promise<void>((ack, fail) => {
        calls.push({ records, ack, fail });
      }),
  } as unknown as TopicLog;
  return { log, calls };
}

const rec = (n: number): AppendRecord => ({ topic: 't', key: Buffer.from(String(n)), value: Buffer.from('v') });
const tick = () => new Promise((r) => setImmediate(r));

describe('delivery: an LSN is confirmed only after the log has every record up to it', () => {
  it('confirms a commit only when its batch is acked', async () => {
    const { log, calls } = controllableLog();
    const durable: bigint[] = [];
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l) });
    await d.add([rec(1), rec(2)]);
    d.commit(100n);
    expect(calls).toHaveLength(1);
    expect(durable).toEqual([]);
    calls[0]?.ack();
    await tick();
    expect(durable).toEqual([100n]);
  });

  it('does not confirm a commit whose records are still pending behind an in-flight batch', async () => {
    const { log, calls } = controllableLog();
    const durable: bigint[] = [];
    // One append in flight: the second transaction is pending, not in a second append.
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l), maxInFlight: 1 });
    await d.add([rec(1)]);
    d.commit(100n);
    await d.add([rec(2)]);
    d.commit(200n);
    expect(calls).toHaveLength(1); // the second transaction waits for the first append
    calls[0]?.ack();
    await tick();
    expect(durable).toEqual([100n]);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.records.map((r) => r.key.toString())).toEqual(['2']);
    calls[1]?.ack();
    await tick();
    expect(durable).toEqual([100n, 200n]);
  });

  it('confirms a large transaction only after its last batch, even when the commit finds nothing pending', async () => {
    const { log, calls } = controllableLog();
    const durable: bigint[] = [];
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l), batchRecords: 2 });
    await d.add([rec(1), rec(2)]);
    expect(calls).toHaveLength(1);
    d.commit(300n);
    calls[0]?.ack();
    await tick();
    expect(durable).toEqual([300n]);
  });

  it('never confirms after a failed append, and reports the failure', async () => {
    const { log, calls } = controllableLog();
    const durable: bigint[] = [];
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l) });
    await d.add([rec(1)]);
    d.commit(100n);
    calls[0]?.fail(new Error('broker gone'));
    await tick();
    await expect(d.flush()).rejects.toThrow(/broker gone/);
    expect(durable).toEqual([]);
  });

  it('is not idle after a failed append, so a keepalive cannot confirm past the lost records', async () => {
    const { log, calls } = controllableLog();
    const d = new Delivery({ log, logger: silentLogger, onDurable: () => undefined });
    await d.add([rec(1)]);
    d.commit(100n);
    expect(d.idle).toBe(false);
    calls[0]?.fail(new Error('broker gone'));
    await tick();
    await tick();
    // Nothing pending and nothing in flight, but the records never reached the log.
    expect(d.idle).toBe(false);
  });

  it('is fenced by close: the append under way is aborted and waited for, and nothing is appended after', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const pending: { fail: (e: unknown) => void }[] = [];
    const log = {
      append: (_records: readonly AppendRecord[], options?: { signal?: AbortSignal }) =>
        new Promise<void>((_ack, fail) => {
          signals.push(options?.signal);
          pending.push({ fail });
        }),
    } as unknown as TopicLog;
    const durable: bigint[] = [];
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l) });
    await d.add([rec(1)]);
    d.commit(100n);
    expect(signals).toHaveLength(1);
    let closed = false;
    const closing = d.close().then(() => (closed = true));
    await tick();
    // The log is told to stop waiting out failures, and close waits until the append settles.
    expect(signals[0]?.aborted).toBe(true);
    expect(closed).toBe(false);
    pending[0]?.fail(new Error('aborted'));
    await closing;
    await expect(d.add([rec(2)])).rejects.toThrow();
    d.flush().catch(() => undefined);
    await tick();
    expect(signals).toHaveLength(1);
    expect(durable).toEqual([]);
  });
});
