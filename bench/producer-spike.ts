/**
 * The Kafka client spike of issue 13: the same records, shaped like `cdc start`'s (a JSON key, a
 * ~300-byte JSON change), into the same single-node broker, with each client configured as the
 * delivery contract needs (idempotent producer, acks=all), appended in requests of `perRequest`
 * records, `inFlight` of them awaited at a time. Prints records/s per variant; not part of
 * `npm run bench`'s figures (a comparison of libraries, not of cdc).
 *
 *   tsc -p tsconfig.bench.json && node dist-bench/bench/producer-spike.js [--kafka host:port] [--records N] [--clients kafkajs,kafkajs-partition,platformatic]
 *
 * @platformatic/kafka is the 1.x line (1.35.0), whose engines include Node ≥ 20.19.4: it falls back
 * to its own Promise.withResolvers on Node 20, so no polyfill (2.x needed one and Node 22).
 *
 * Every run checks what the topic holds afterwards (its end offset against the records sent): an
 * idempotent producer that sends two requests with the same sequence numbers gets the second
 * acknowledged as a duplicate and written nowhere, which a records/s figure alone would not show.
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

/** The Kafka error codes inside a failed send (the library nests them in AggregateErrors). */
function protocolErrors(e: unknown): string {
  const codes = new Set<string>();
  const walk = (x: unknown, depth: number): void => {
    if (typeof x !== 'object' || x === null || depth > 6) return;
    const f = x as { apiId?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
    if (typeof f.apiId === 'string') codes.add(f.apiId);
    if (Array.isArray(f.errors)) for (const inner of f.errors as unknown[]) walk(inner, depth + 1);
    walk(f.cause, depth + 1);
  };
  walk(e, 0);
  return codes.size > 0 ? [...codes].join(', ') : e instanceof Error ? e.message : String(e);
}

async function main(): Promise<void> {
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
  /** The topic's end offset against the records sent: "" when they match, else what is missing. */
  const check = async (topic: string, sent: number): Promise<string> => {
    const high = Number((await admin.fetchTopicOffsets(topic))[0]?.high ?? 0);
    return high === sent ? '' : ` — TOPIC HOLDS ${high} OF ${sent} RECORDS`;
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
      const lost = await check(topic, n + 20_000);
      results.push(`kafkajs 2.2.4${partition ? ', partition 0' : '             '} ${String(perRequest).padStart(5)} records/request, ${inFlight} in flight: ${rate} records/s${lost}`);
      process.stderr.write(results.at(-1) + '\n');
    }
    for (const [perRequest, inFlight] of [[3000, 1], [3000, 3], [1000, 1], [1000, 3]] as const) {
      if (!clients.includes('platformatic')) continue;
      const topic = await newTopic();
      const producer = new Producer({ clientId: 'spike', bootstrapBrokers: [broker], idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false });
      const send = (batch: Msg[]) => producer.send({ messages: batch.map((m) => ({ topic, partition: 0, key: m.key, value: m.value })) });
      const label = `@platformatic/kafka 1.35.0   ${String(perRequest).padStart(5)} records/request, ${inFlight} in flight:`;
      try {
        await drive(records.slice(0, 20_000), perRequest, inFlight, send);
        const rate = await drive(records, perRequest, inFlight, send);
        results.push(`${label} ${rate} records/s${await check(topic, n + 20_000)}`);
      } catch (e) {
        // Two sends at once read the same sequence numbers (the library advances them on the ack):
        // the broker refuses the second (OUT_OF_ORDER_SEQUENCE_NUMBER) or takes it as a duplicate.
        results.push(`${label} FAILED: ${protocolErrors(e)}`);
      } finally {
        // Forced: the sends still in flight after a failure would hold a plain close.
        await new Promise<void>((resolve) => producer.close(true, () => resolve()));
      }
      process.stderr.write(results.at(-1) + '\n');
    }
  } finally {
    await admin.disconnect();
    if (started) await destroyKafka(started);
  }
  process.stdout.write(results.join('\n') + '\n');
}

// Exits when done: a producer that failed can leave a socket or timer that holds the event loop.
main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
