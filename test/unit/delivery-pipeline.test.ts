/**
 * Several appends in flight (issue 13): confirmations follow the order of the appends, not of
 * their acks; after a failure, everything from the first append not acked goes again, in order, so
 * that no key's latest record in the log is an older value; close fences every append in flight.
 * A log whose appends the test acks or fails one by one, keeping what each actually wrote.
 */
import { describe, expect, it, vi } from 'vitest';
import { CdcError, silentLogger } from '../../common/index.js';
import type { AppendRecord, TopicLog } from '../../compaction/index.js';
import { Delivery } from '../../source-postgres/delivery.js';

interface Call {
  records: readonly AppendRecord[];
  signal: AbortSignal | undefined;
  /** Writes every record, then resolves. */
  ack: () => void;
  /** Writes the first `written` records (a partial request), then rejects. */
  fail: (written?: number) => void;
}

function pipelinedLog() {
  const calls: Call[] = [];
  /** What the log holds, in order: `key=value`. */
  const written: string[] = [];
  const write = (rs: readonly AppendRecord[]): void => void written.push(...rs.map((r) => `${r.key.toString()}=${r.value?.toString()}`));
  const log = {
    append: (records: readonly AppendRecord[], options?: { signal?: AbortSignal }) =>
      new Promise<void>((resolve, reject) => {
        calls.push({
          records,
          signal: options?.signal,
          ack: () => (write(records), resolve()),
          fail: (n = 0) => (write(records.slice(0, n)), reject(new CdcError('LOG_UNAVAILABLE', 'leader moved', { retriable: true }))),
        });
      }),
  } as unknown as TopicLog;
  /** Each key's latest value in the log, as a reader after compaction would see it. */
  const latest = (): Map<string, string> => new Map(written.map((w) => w.split('=') as [string, string]));
  return { log, calls, written, latest };
}

const rec = (key: string, value: string): AppendRecord => ({ topic: 't', key: Buffer.from(key), value: Buffer.from(value) });
const tick = () => new Promise((r) => setImmediate(r));

/**
 * Three one-row transactions in three appends in flight: k=v1 (LSN 100), k=v2 (200), k=v3 (300).
 * One record makes a full batch, so each goes out at once.
 */
async function threeInFlight(log: TopicLog, durable: bigint[]): Promise<Delivery> {
  const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l), maxInFlight: 3, batchRecords: 1 });
  for (const [v, lsn] of [['v1', 100n], ['v2', 200n], ['v3', 300n]] as const) {
    await d.add([rec('k', v)]);
    d.commit(lsn);
  }
  return d;
}

describe('delivery with several appends in flight', () => {
  it('keeps up to maxInFlight appends in flight, in order', async () => {
    const { log, calls } = pipelinedLog();
    await threeInFlight(log, []);
    expect(calls.map((c) => c.records.map((r) => r.value?.toString()))).toEqual([['v1'], ['v2'], ['v3']]);
  });

  it('holds at most maxPending records plus maxInFlight appends of batchRecords each while the log is slow', async () => {
    const { log, calls } = pipelinedLog();
    const d = new Delivery({ log, logger: silentLogger, onDurable: () => undefined, maxInFlight: 2, batchRecords: 5, maxPending: 20 });
    // One large transaction from a source faster than the log: `add` waits once the bound is reached.
    let added = 0;
    const adding = (async () => {
      for (; added < 100; added++) await d.add([rec(`k${added}`, 'v')]);
    })();
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    await tick();
    expect(added).toBeLessThanOrEqual(20 + 2 * 5);
    // Acked one at a time: each append that follows is one batch, not the whole backlog at once.
    for (let i = 0; i < 10; i++) {
      const n = calls.length;
      calls[i]?.ack();
      await vi.waitFor(() => expect(calls).toHaveLength(n + 1));
      await tick();
      expect(added - (i + 1) * 5).toBeLessThanOrEqual(20 + 2 * 5);
    }
    expect(calls.map((c) => c.records.length)).toEqual(Array<number>(12).fill(5));
    for (let i = 10; i < 20; i++) {
      calls[i]?.ack();
      await vi.waitFor(() => expect(calls.length).toBeGreaterThan(Math.min(i + 2, 19)));
    }
    await adding;
  });

  it('sends a short batch at a commit only when nothing is in flight: small transactions go out together (group commit)', async () => {
    const { log, calls } = pipelinedLog();
    const durable: bigint[] = [];
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l), maxInFlight: 3 });
    for (const [v, lsn] of [['v1', 100n], ['v2', 200n], ['v3', 300n]] as const) {
      await d.add([rec('k', v)]);
      d.commit(lsn);
    }
    expect(calls.map((c) => c.records.map((r) => r.value?.toString()))).toEqual([['v1']]);
    calls[0]?.ack();
    await tick();
    expect(durable).toEqual([100n]);
    expect(calls.map((c) => c.records.map((r) => r.value?.toString()))).toEqual([['v1'], ['v2', 'v3']]);
    calls[1]?.ack();
    await tick();
    expect(durable).toEqual([100n, 300n]);
  });

  it('confirms LSNs in append order, only once every earlier append is acked, whatever the order of the acks', async () => {
    const { log, calls } = pipelinedLog();
    const durable: bigint[] = [];
    await threeInFlight(log, durable);
    calls[2]?.ack();
    await tick();
    expect(durable).toEqual([]);
    calls[0]?.ack();
    await tick();
    expect(durable).toEqual([100n]);
    calls[1]?.ack();
    await tick();
    expect(durable).toEqual([100n, 200n, 300n]);
  });

  it('confirms a commit whose records all went out in appends still in flight only with the last of them', async () => {
    const { log, calls } = pipelinedLog();
    const durable: bigint[] = [];
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l), maxInFlight: 3, batchRecords: 1 });
    await d.add([rec('a', '1')]);
    await d.add([rec('b', '1')]);
    expect(calls).toHaveLength(2);
    d.commit(500n); // nothing pending: its records are in the two appends in flight
    expect(durable).toEqual([]);
    calls[1]?.ack();
    await tick();
    expect(durable).toEqual([]);
    calls[0]?.ack();
    await tick();
    expect(durable).toEqual([500n]);
  });

  it('after a failure, appends again everything from the first append not acked, in order: no key ends on an older value', async () => {
    const { log, calls, written, latest } = pipelinedLog();
    const durable: bigint[] = [];
    const d = await threeInFlight(log, durable);
    calls[0]?.ack();
    calls[1]?.fail(); // v2 never reached the log …
    calls[2]?.ack(); // … but v3, after it, did
    await tick();
    expect(durable).toEqual([100n]);
    // One append again, after the backoff: v2 and v3, in that order (v2 alone would leave k=v2).
    await vi.waitFor(() => expect(calls).toHaveLength(4), { timeout: 3000 });
    expect(calls[3]?.records.map((r) => r.value?.toString())).toEqual(['v2', 'v3']);
    expect(durable).toEqual([100n]);
    calls[3]?.ack();
    await d.flush();
    expect(durable).toEqual([100n, 200n, 300n]);
    expect(written).toEqual(['k=v1', 'k=v3', 'k=v2', 'k=v3']);
    expect(latest().get('k')).toBe('v3');
    expect(d.idle).toBe(true);
  });

  it('waits for every append in flight to settle before appending again, and starts nothing new meanwhile', async () => {
    const { log, calls } = pipelinedLog();
    const durable: bigint[] = [];
    const d = await threeInFlight(log, durable);
    calls[1]?.fail(1); // a partial write: v2 is in the log, not acked
    await tick();
    await d.add([rec('k', 'v4')]);
    d.commit(400n);
    await new Promise((r) => setTimeout(r, 1200)); // longer than the first backoff
    expect(calls).toHaveLength(3);
    calls[2]?.ack();
    calls[0]?.ack();
    await tick();
    expect(durable).toEqual([100n]);
    await vi.waitFor(() => expect(calls).toHaveLength(4), { timeout: 3000 });
    expect(calls[3]?.records.map((r) => r.value?.toString())).toEqual(['v2', 'v3']);
    calls[3]?.ack();
    await vi.waitFor(() => expect(calls).toHaveLength(5), { timeout: 3000 });
    expect(calls[4]?.records.map((r) => r.value?.toString())).toEqual(['v4']);
    calls[4]?.ack();
    await d.flush();
    expect(durable).toEqual([100n, 200n, 300n, 400n]);
  });

  it('is fenced by close: every append in flight is told to stop and waited for, none is appended again, nothing is confirmed', async () => {
    const { log, calls } = pipelinedLog();
    const durable: bigint[] = [];
    const d = await threeInFlight(log, durable);
    let closed = false;
    const closing = d.close().then(() => (closed = true));
    await tick();
    expect(calls.map((c) => c.signal?.aborted)).toEqual([true, true, true]);
    calls[1]?.fail();
    calls[0]?.fail();
    await tick();
    expect(closed).toBe(false); // the third is still on the wire
    calls[2]?.fail();
    await closing;
    await new Promise((r) => setTimeout(r, 1200));
    expect(calls).toHaveLength(3);
    expect(durable).toEqual([]);
    await expect(d.add([rec('k', 'v5')])).rejects.toThrow();
    expect(d.idle).toBe(false);
  });

  it('is fenced by close until the last append in flight settles, even when those before it succeed', async () => {
    const { log, calls } = pipelinedLog();
    const durable: bigint[] = [];
    const d = await threeInFlight(log, durable);
    let closed = false;
    const closing = d.close().then(() => (closed = true));
    calls[0]?.ack();
    calls[1]?.ack();
    await tick();
    await tick();
    expect(closed).toBe(false);
    calls[2]?.fail();
    await closing;
    expect(calls).toHaveLength(3);
    // Confirming what is acked in order is still true after a close; the failed one never is.
    expect(durable).toEqual([100n, 200n]);
  });

  it('fails the run when the appends again fail for good, confirming nothing after the first failure', async () => {
    const { log, calls } = pipelinedLog();
    const durable: bigint[] = [];
    const d = new Delivery({ log, logger: silentLogger, onDurable: (l) => durable.push(l), maxInFlight: 2 });
    await d.add([rec('k', 'v1')]);
    d.commit(100n);
    calls[0]?.fail();
    // Attempts 2 to 6 fail too, each after its backoff.
    for (let n = 2; n <= 6; n++) {
      await vi.waitFor(() => expect(calls).toHaveLength(n), { timeout: 20_000 });
      calls[n - 1]?.fail();
    }
    await expect(d.failed).rejects.toThrow(/leader moved/);
    expect(durable).toEqual([]);
  }, 60_000);
});
