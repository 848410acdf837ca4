/**
 * Issue 14's consumer spike: how fast each Kafka client reads the bench's one-transaction topic
 * (records as `cdc start` writes them, gzip-compressed requests) from offset 0 to its end, with
 * nothing applied — the reading alone, which the Kafka bootstrap's profile says dominates it.
 *
 *   consume       KafkaLog.consume (compaction/kafka-consumer.ts) as the branch built has it; at
 *                 26df919, where the spike's first figures were taken (as "kafkajs"), kafkajs'
 *                 consumer in a throwaway group, a batch handed over per fetch
 *   kafkajs-direct kafkajs' consumer as that code used it, without KafkaLog around it
 *   plt-fetch     @platformatic/kafka 1.35.0's Consumer.fetch (no group): one Fetch request at a
 *                 time to the partition's leader, at an offset we hold, records read from its batches
 *
 * Each variant runs in a process of its own (its CPU time and peak RSS are its own), alternating,
 * `--rounds` times, every run checking it read every offset to the topic's end.
 *
 *   tsc -p tsconfig.bench.json && flock /tmp/cdc-bench.lock node dist-bench/bench/spike/kafka-read.js [--records N] [--rounds R] [--variants kafkajs-direct,plt-fetch,consume] [--kafka host:port]
 */
import { spawn } from 'node:child_process';
import kafkajs from 'kafkajs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../common/index.js';
import { KafkaLog } from '../../compaction/kafka-log.js';
import { tableTopic } from '../../compaction/index.js';
import { destroyKafka, startLocalKafka } from '../../services/index.js';
import { writeTopic } from '../big-bootstrap.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Fetch sizes as compaction/kafka-consumer.ts sets them, unless given. */
const PARTITION_BYTES = Number(arg('partition-bytes') ?? 256 << 10);
const FETCH_BYTES = Number(arg('fetch-bytes') ?? 2 << 20);

interface Figures {
  variant: string;
  records: number;
  seconds: number;
  records_per_s: number;
  cpu_s: number;
  /** Share of the wall time the main thread's event loop was busy. */
  main_thread_busy: number;
  peak_rss_mb: number;
  batches: number;
}

/** Reads `topic` of `address` to `end` with one variant, in this process. */
async function readOnce(variant: string, address: string, topic: string, end: bigint): Promise<Figures> {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  let records = 0;
  let batches = 0;
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  if (variant === 'consume') {
    const log = new KafkaLog({ brokers: [address], logger: silentLogger });
    await log.connect();
    let finished!: () => void;
    const reached = new Promise<void>((resolve) => (finished = resolve));
    const c = await log.consume({
      from: new Map([[topic, 0n]]),
      onBatch: (b) => {
        batches++;
        records += b.records.length;
        for (const r of b.records) bytes += r.value?.length ?? 0;
        if (b.nextOffset >= end) finished();
        return Promise.resolve();
      },
    });
    await reached;
    await c.stop();
    await log.close();
  } else if (variant === 'plt-fetch') {
    const { Consumer } = await import('@platformatic/kafka');
    // No group is joined: fetch() only needs the cluster's metadata.
    const consumer = new Consumer({ clientId: 'spike', groupId: `spike-${Date.now()}`, bootstrapBrokers: [address], maxWaitTime: 500, minBytes: 1, maxBytes: FETCH_BYTES });
    const metadata = await consumer.metadata({ topics: [topic] });
    const t = metadata.topics.get(topic);
    if (!t) throw new Error(`no metadata for ${topic}`);
    const part = t.partitions[0];
    if (!part) throw new Error(`no partition 0 in ${topic}`);
    let offset = 0n;
    while (offset < end) {
      const response = await consumer.fetch({
        node: part.leader,
        maxBytes: FETCH_BYTES,
        topics: [{ topicId: t.id, partitions: [{ partition: 0, fetchOffset: offset, currentLeaderEpoch: part.leaderEpoch, lastFetchedEpoch: -1, partitionMaxBytes: PARTITION_BYTES }] }],
      });
      batches++;
      for (const tr of response.responses) {
        for (const p of tr.partitions) {
          for (const batch of p.records ?? []) {
            for (const r of batch.records) {
              const o = batch.firstOffset + BigInt(r.offsetDelta);
              if (o < offset) continue;
              records++;
              bytes += r.value?.length ?? 0;
            }
            offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          }
        }
      }
    }
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  } else if (variant === 'kafkajs-direct') {
    // kafkajs' consumer as compaction/kafka-consumer.ts used it before it moved to Fetch requests
    // (a throwaway group, eachBatch, the same fetch sizes): the spike's "kafkajs" figures were
    // taken through KafkaLog.consume on that code (26df919), which the "consume" variant now is not.
    const kafka = new kafkajs.Kafka({ clientId: 'spike', brokers: [address], logLevel: kafkajs.logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `spike-${Date.now()}`, allowAutoTopicCreation: false, maxBytesPerPartition: PARTITION_BYTES, maxBytes: FETCH_BYTES });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let finished!: () => void;
    const reached = new Promise<void>((resolve) => (finished = resolve));
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        batches++;
        records += batch.messages.length;
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
        if (BigInt(batch.lastOffset()) + 1n >= end) finished();
        return Promise.resolve();
      },
    });
    await reached;
    await consumer.disconnect();
  } else {
    throw new Error(`unknown variant ${variant}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  clearInterval(sampler);
  if (bytes === 0) throw new Error('read no value bytes');
  return {
    variant,
    records,
    seconds: Number(seconds.toFixed(2)),
    records_per_s: Math.round(records / seconds),
    cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    main_thread_busy: Number(elu.utilization.toFixed(3)),
    peak_rss_mb: Math.round(peak / (1 << 20)),
    batches,
  };
}

function child(variant: string, address: string, topic: string, end: bigint): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', variant, '--kafka', address, '--topic', topic, '--end', end.toString(), '--partition-bytes', String(PARTITION_BYTES), '--fetch-bytes', String(FETCH_BYTES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Figures) : reject(new Error(`${variant} exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const childVariant = arg('child');
  if (childVariant) {
    const f = await readOnce(childVariant, arg('kafka') ?? '', arg('topic') ?? '', BigInt(arg('end') ?? '0'));
    process.stdout.write(JSON.stringify(f));
    return;
  }
  const records = Number(arg('records') ?? 1_000_000);
  const rounds = Number(arg('rounds') ?? 2);
  const variants = (arg('variants') ?? 'kafkajs-direct,plt-fetch,consume').split(',');
  const given = arg('kafka');
  const broker = given ? undefined : await startLocalKafka();
  const address = given ?? `127.0.0.1:${broker?.port}`;
  try {
    const prefix = `spike${Date.now()}`;
    process.stderr.write(`writing ${records} records\n`);
    await writeTopic(`kafka://${address}`, prefix, records);
    const topic = tableTopic(prefix, 'public', 'items');
    const log = new KafkaLog({ brokers: [address], logger: silentLogger });
    await log.connect();
    const end = (await log.endOffsets([topic])).get(topic) ?? 0n;
    await log.close();
    process.stderr.write(`topic ${topic}, end offset ${end}; fetch ${PARTITION_BYTES} B per partition, ${FETCH_BYTES} B per fetch\n`);
    for (let round = 0; round < rounds; round++) {
      for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
        const f = await child(v, address, topic, end);
        if (BigInt(f.records) !== end) throw new Error(`${v} read ${f.records} records, the topic holds ${end}`);
        process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${JSON.stringify(f)}\n`);
      }
    }
  } finally {
    if (broker) await destroyKafka(broker);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
