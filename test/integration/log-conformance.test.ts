/**
 * One conformance suite, run against every TopicLog: the embedded log and Kafka must keep the same
 * promises (compaction/topic-log.ts), so everything above them works the same on both.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/index.js';
import { DirLog, KafkaLog, readToEnd, type LogRecord, type TopicLog, type TopicSettings } from '../../compaction/index.js';
import { services, uniqueName, waitFor } from '../harness/index.js';

interface Subject {
  log: TopicLog;
  /**
   * Makes compaction happen now where the log allows it. Kafka's cleaner runs on its own, but
   * removes a tombstone only in a pass after the one that first saw it, and cleans a log only while
   * it is dirty: so it gets one more copy of a record it already has, which changes no state.
   */
  compact(topic: string, again: { key: string; value: string }): Promise<number>;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const FAST_COMPACTION: TopicSettings = { deleteRetentionMs: 100, segmentMs: 100, minCompactionLagMs: 0, segmentBytes: 4096, minCleanableDirtyRatio: 0.01 };

const subjects: [string, () => Subject][] = [
  [
    'embedded log',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cdc-conformance-'));
      dirs.push(dir);
      const log = new DirLog({ path: join(dir, 'log'), logger: silentLogger, segmentBytes: 4096, cleanerIntervalMs: 60_000, pollMs: 10 });
      return { log, compact: async () => (await log.compactNow(), 0) };
    },
  ],
  [
    'Kafka',
    () => {
      const log = new KafkaLog({ brokers: [services().kafkaBrokers], logger: silentLogger });
      return { log, compact: async (topic, again) => (await log.append([rec(topic, again.key, again.value)]), 1) };
    },
  ],
];

const rec = (topic: string, key: string, value: string | null) => ({ topic, key: Buffer.from(key), value: value === null ? null : Buffer.from(value) });
const text = (r: LogRecord) => [r.key.toString(), r.value === null ? null : r.value.toString()];

async function readAll(log: TopicLog, topic: string, from = 0n): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  await readToEnd(log, new Map([[topic, from]]), (b) => void out.push(...b.records));
  return out;
}

describe.each(subjects)('TopicLog conformance: %s', (_name, make) => {
  const { log, compact } = make();
  afterAll(() => log.close());

  it('an acked append is readable from offset 0, in order, with dense offsets and the end offset after it', async () => {
    const topic = uniqueName('t');
    await log.connect();
    await log.ensureTopics([topic]);
    expect((await log.endOffsets([topic])).get(topic)).toBe(0n);
    await log.append([rec(topic, 'a', '1'), rec(topic, 'b', '2')]);
    await log.append([rec(topic, 'a', '3')]);
    expect((await log.endOffsets([topic])).get(topic)).toBe(3n);
    const all = await readAll(log, topic);
    expect(all.map((r) => r.offset)).toEqual([0n, 1n, 2n]);
    expect(all.map(text)).toEqual([['a', '1'], ['b', '2'], ['a', '3']]);
    expect(await log.listTopics(topic)).toEqual([topic]);
  });

  it('reads from a given offset, and keeps binary keys and values exact', async () => {
    const topic = uniqueName('t');
    await log.ensureTopics([topic]);
    const bytes = Buffer.from([0, 255, 10, 13, 0]);
    await log.append([rec(topic, 'x', 'first'), { topic, key: bytes, value: bytes }, rec(topic, 'z', 'third')]);
    const tail = await readAll(log, topic, 1n);
    expect(tail.map((r) => r.offset)).toEqual([1n, 2n]);
    expect(tail[0]?.key.equals(bytes)).toBe(true);
    expect(tail[0]?.value?.equals(bytes)).toBe(true);
  });

  it('reads a tombstone back as a null value', async () => {
    const topic = uniqueName('t');
    await log.ensureTopics([topic]);
    await log.append([rec(topic, 'k', 'v'), rec(topic, 'k', null)]);
    expect((await readAll(log, topic)).map(text)).toEqual([['k', 'v'], ['k', null]]);
  });

  it('keeps the order of each key across many appends and topics', async () => {
    const t1 = uniqueName('t');
    const t2 = uniqueName('t');
    await log.ensureTopics([t1, t2]);
    for (let round = 0; round < 20; round++) {
      await log.append(Array.from({ length: 10 }, (_, k) => rec(k % 2 ? t1 : t2, `k${k}`, String(round))));
    }
    for (const t of [t1, t2]) {
      const seen = new Map<string, number>();
      for (const r of await readAll(log, t)) {
        const [k, v] = text(r) as [string, string];
        expect(Number(v)).toBeGreaterThan(seen.get(k) ?? -1);
        seen.set(k, Number(v));
      }
      expect([...seen.values()].every((v) => v === 19)).toBe(true);
    }
  });

  it('appends started without waiting for each other land in call order (a writer keeps several in flight)', async () => {
    const t1 = uniqueName('t');
    const t2 = uniqueName('t');
    await log.ensureTopics([t1, t2]);
    const appends: Promise<void>[] = [];
    for (let round = 0; round < 30; round++) {
      appends.push(log.append(Array.from({ length: 50 }, (_, k) => rec(k % 2 ? t1 : t2, `k${k % 5}`, String(round)))));
    }
    await Promise.all(appends);
    for (const t of [t1, t2]) {
      const rounds = (await readAll(log, t)).map((r) => Number(r.value?.toString()));
      expect(rounds).toHaveLength(30 * 25);
      expect(rounds).toEqual([...rounds].sort((a, b) => a - b));
    }
  });


  it('appends started together, each larger than one request, land whole and in call order, nothing acknowledged twice or dropped', async () => {
    // Kafka sends an append over 768 KiB as several produce requests. The idempotent producer must
    // have one request of a partition on the wire at a time: two at once carry the same sequence
    // numbers (compaction/kafka-producer.ts), and the broker refuses the second or, taking it for a
    // duplicate, acknowledges records it never wrote — a count short of what was appended.
    const t1 = uniqueName('t');
    const t2 = uniqueName('t');
    await log.ensureTopics([t1, t2]);
    const pad = 'x'.repeat(600);
    const appends: Promise<void>[] = [];
    for (let round = 0; round < 6; round++) {
      appends.push(log.append(Array.from({ length: 3000 }, (_, k) => rec(k % 2 ? t1 : t2, `k${k}`, `${round} ${k} ${pad}`))));
    }
    await Promise.all(appends);
    for (const [t, parity] of [[t1, 1], [t2, 0]] as const) {
      const got = (await readAll(log, t)).map((r) => r.value?.toString().split(' ').slice(0, 2).join(' '));
      const want = Array.from({ length: 6 }, (_, round) => Array.from({ length: 3000 }, (_, k) => k).filter((k) => k % 2 === parity).map((k) => `${round} ${k}`)).flat();
      expect(got).toEqual(want);
    }
  });
  it('a consumer follows records appended after it started, and two consumers read at once', async () => {
    const topic = uniqueName('t');
    await log.ensureTopics([topic]);
    const got: string[][] = [[], []];
    const consumers = await Promise.all(
      got.map((sink) => log.consume({ from: new Map([[topic, 0n]]), onBatch: async (b) => void sink.push(...b.records.map((r) => r.value?.toString() ?? 'null')) })),
    );
    try {
      for (let i = 0; i < 5; i++) await log.append([rec(topic, `k${i}`, `v${i}`)]);
      await waitFor(() => got.every((g) => g.length === 5), { timeoutMs: 30_000, what: 'both consumers to see 5 records' });
      expect(got[0]).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
      expect(got[1]).toEqual(got[0]);
    } finally {
      await Promise.all(consumers.map((c) => c.stop()));
    }
  });

  it('describes a topic it created: one partition, compacted, with the settings given; an absent topic is left out', async () => {
    const topic = uniqueName('d');
    await log.ensureTopics([topic], { deleteRetentionMs: 123_000, segmentMs: 456_000, minCompactionLagMs: 7_000 });
    const described = await log.describeTopics([topic, uniqueName('absent')]);
    expect([...described.keys()]).toEqual([topic]);
    const d = described.get(topic);
    expect(d?.partitions).toBe(1);
    expect(d?.configs.get('cleanup.policy')).toBe('compact');
    expect(d?.configs.get('delete.retention.ms')).toBe('123000');
    expect(d?.configs.get('min.compaction.lag.ms')).toBe('7000');
  });

  it('finds the first record appended at or after a time, and the end offset when there is none', async () => {
    const topic = uniqueName('o');
    await log.ensureTopics([topic]);
    await log.append([rec(topic, 'a', '1'), rec(topic, 'b', '2'), rec(topic, 'c', '3')]);
    await new Promise((r) => setTimeout(r, 50));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    await log.append([rec(topic, 'd', '4'), rec(topic, 'e', '5')]);
    expect(await log.offsetAtTime(topic, between)).toBe(3n);
    expect(await log.offsetAtTime(topic, 0)).toBe(0n);
    expect(await log.offsetAtTime(topic, Date.now() + 60_000)).toBe(5n);
  });

  it('a paused topic hands over nothing until resumed, then goes on where it stopped, with nothing skipped or repeated', async () => {
    const a = uniqueName('pa');
    const b = uniqueName('pb');
    await log.ensureTopics([a, b]);
    const got = new Map<string, string[]>([[a, []], [b, []]]);
    let pauseNow = true;
    let c: Awaited<ReturnType<TopicLog['consume']>> | undefined;
    const consumption = await log.consume({
      from: new Map([[a, 0n], [b, 0n]]),
      onBatch: async (batch) => {
        got.get(batch.topic)?.push(...batch.records.map((r) => r.value?.toString() ?? 'null'));
        // Paused from inside onBatch, as the sink does, after the first batch of `a`.
        if (batch.topic === a && pauseNow) {
          pauseNow = false;
          c?.pause(a);
        }
      },
    });
    c = consumption;
    try {
      await log.append([rec(a, 'k0', 'a0')]);
      await waitFor(() => got.get(a)?.length === 1, { timeoutMs: 30_000, what: 'the first record of a' });
      for (let i = 1; i < 50; i++) await log.append([rec(a, `k${i}`, `a${i}`), rec(b, `k${i}`, `b${i}`)]);
      await waitFor(() => got.get(b)?.length === 49, { timeoutMs: 30_000, what: 'b to be read while a is paused' });
      // Kafka fetches every half second or so: a paused topic would have shown its records by now.
      await new Promise((r) => setTimeout(r, 1500));
      expect(got.get(a)).toEqual(['a0']);
      consumption.resume(a);
      await waitFor(() => got.get(a)?.length === 50, { timeoutMs: 30_000, what: 'a to be read after resume' });
      expect(got.get(a)).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
      expect(got.get(b)).toEqual(Array.from({ length: 49 }, (_, i) => `b${i + 1}`));
    } finally {
      await consumption.stop();
    }
  });

  it('compaction keeps the latest record of every key and drops tombstones after their retention', async () => {
    const topic = uniqueName('t');
    await log.ensureTopics([topic], FAST_COMPACTION);
    const keys = 50;
    const rounds = 40;
    for (let round = 0; round < rounds; round++) {
      await log.append(Array.from({ length: keys }, (_, k) => rec(topic, `key-${k}`, `round ${round} ${'x'.repeat(40)}`)));
    }
    await log.append(Array.from({ length: 10 }, (_, k) => rec(topic, `key-${k}`, null))); // delete 10 keys
    // Records after the deletes, so the tombstones' segment closes and can be cleaned.
    for (let i = 0; i < 100; i++) await log.append([rec(topic, 'filler', String(i).padEnd(200, '.'))]);
    const expected = new Map<string, string>();
    for (let k = 10; k < keys; k++) expected.set(`key-${k}`, `round ${rounds - 1} ${'x'.repeat(40)}`);
    expected.set('filler', '99'.padEnd(200, '.'));
    const written = keys * rounds + 10 + 100;

    let records: LogRecord[] = [];
    let extra = 0;
    await waitFor(
      async () => {
        extra += await compact(topic, { key: 'filler', value: '99'.padEnd(200, '.') });
        records = await readAll(log, topic);
        return records.length < written / 4 && !records.some((r) => r.value === null);
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `${topic} to be compacted` },
    );
    // Replaying what is left gives exactly the final state: the latest value of every live key.
    const state = new Map<string, string>();
    for (const r of records) {
      const [k, v] = text(r) as [string, string | null];
      if (v === null) state.delete(k);
      else state.set(k, v);
    }
    expect(state).toEqual(expected);
    // Offsets never change: they still increase, with gaps, and the end offset is what was written.
    const offsets = records.map((r) => r.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
    expect((await log.endOffsets([topic])).get(topic)).toBe(BigInt(written + extra));
  });
});
