/**
 * The Kafka client spike of issue 13: the same records, shaped like `cdc start`'s (a JSON key, a
 * ~300-byte JSON change), into the same single-node broker, with each client configured as the
 * delivery contract needs (idempotent producer, acks=all), appended in requests of `perRequest`
 * records, `inFlight` of them awaited at a time. Prints records/s per variant; not part of
 * `npm run bench`'s figures (a comparison of libraries, not of cdc).
 *
 *   tsc -p tsconfig.bench.json && node dist-bench/bench/producer-spike.js [--kafka host:port] [--records N] [--clients kafkajs,kafkajs-partition,platformatic]
 *
 * @platformatic/kafka 2.12.1 asks for Node ≥ 22.22 (package.json engines) and calls
 * Promise.withResolvers, absent from Node 20, which cdc supports: the spike adds it so that the
 * library can be measured at all; the product could not without raising its Node floor.
 */
import kafkajs from 'kafkajs';
import { Producer, ProduceAcks } from '@platformatic/kafka';
import { destroyKafka, startLocalKafka } from '../services/index.js';

const { Kafka, logLevel } = kafkajs;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Msg {
  key: Buffer;
  value: Buffer;
}

function makeRecords(n: number): Msg[] {
  const out: Msg[] = [];
  for (let i = 0; i < n; i++) {
    const value = JSON.stringify({ op: 'c', schema_id: '0123456789abcdef', after: { id: String(i), name: `item ${i}`, price: '12.34', note: 'some text of a row '.repeat(4) }, source: { lsn: '0/16B3748', txid: '758', commit_time: '2026-11-27T02:28:22.299527Z', snapshot: false } });
    out.push({ key: Buffer.from(`{"id":"${i}"}`), value: Buffer.from(value) });
  }
  return out;
}

/** Sends `records` in requests of `perRequest`, at most `inFlight` awaited at a time; records/s. */
async function drive(records: Msg[], perRequest: number, inFlight: number, send: (batch: Msg[]) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const running = new Set<Promise<unknown>>();
  for (let i = 0; i < records.length; i += perRequest) {
    const p: Promise<unknown> = send(records.slice(i, i + perRequest)).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= inFlight) await Promise.race(running);
  }
  await Promise.all(running);
  return Math.round(records.length / ((performance.now() - t0) / 1000));
}

/** Promise.withResolvers (Node 22) for @platformatic/kafka on Node 20; the spike only. */
function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  P.withResolvers ??= function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}

async function main(): Promise<void> {
  polyfillWithResolvers();
  const clients = (arg('clients') ?? 'kafkajs,kafkajs-partition,platformatic').split(',');
  const n = Number(arg('records') ?? 300_000);
  const given = arg('kafka');
  const started = given ? undefined : await startLocalKafka();
  const broker = given ?? `127.0.0.1:${started?.port}`;
  const records = makeRecords(n);
  const kafka = new Kafka({ clientId: 'spike', brokers: [broker], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let topicNo = 0;
  const newTopic = async (): Promise<string> => {
    const topic = `spike-${Date.now()}-${topicNo++}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    return topic;
  };
  const results: string[] = [];
  try {
    for (const [perRequest, inFlight, partition] of [[3000, 1, false], [3000, 3, false], [1000, 1, false], [1000, 3, false], [3000, 1, true], [1000, 1, true]] as const) {
      if (!clients.includes(partition ? 'kafkajs-partition' : 'kafkajs')) continue;
      const topic = await newTopic();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      // The partition given skips kafkajs' default partitioner (a murmur2 hash of every key).
      const send = (batch: Msg[]) => producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: partition ? batch.map((m) => ({ ...m, partition: 0 })) : batch }] });
      await drive(records.slice(0, 20_000), perRequest, inFlight, send);
      const rate = await drive(records, perRequest, inFlight, send);
      await producer.disconnect();
      results.push(`kafkajs 2.2.4${partition ? ', partition 0' : '             '} ${String(perRequest).padStart(5)} records/request, ${inFlight} in flight: ${rate} records/s`);
      process.stderr.write(results.at(-1) + '\n');
    }
    for (const [perRequest, inFlight] of [[3000, 1], [3000, 3], [1000, 1], [1000, 3]] as const) {
      if (!clients.includes('platformatic')) continue;
      const topic = await newTopic();
      const producer = new Producer({ clientId: 'spike', bootstrapBrokers: [broker], idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false });
      const send = (batch: Msg[]) => producer.send({ messages: batch.map((m) => ({ topic, partition: 0, key: m.key, value: m.value })) });
      await drive(records.slice(0, 20_000), perRequest, inFlight, send);
      const rate = await drive(records, perRequest, inFlight, send);
      await producer.close();
      results.push(`@platformatic/kafka 2.12.1   ${String(perRequest).padStart(5)} records/request, ${inFlight} in flight: ${rate} records/s`);
      process.stderr.write(results.at(-1) + '\n');
    }
  } finally {
    await admin.disconnect();
    if (started) await destroyKafka(started);
  }
  process.stdout.write(results.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
