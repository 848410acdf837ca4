/**
 * `npm run bench`: how fast `cdc` is, each figure next to a baseline measured in the same run on
 * the same machine (see docs/benchmarks.md for the method and the JSON keys):
 *
 *   source     cdc start catching up N rows of WAL, in transactions of 1, of 1,000 and in one
 *              transaction  vs  pg_recvlogical decoding the same WAL with pgoutput
 *   bootstrap  cdc bootstrap replaying the one-transaction topic (N records) into a new replica
 *              vs  a raw better-sqlite3 upsert of N rows in one transaction
 *   e2e        commit in PostgreSQL to row visible in the replica at 5,000 rows/s
 *   memory     peak RSS of cdc start (one-transaction workload) and of cdc bootstrap
 *   append     the embedded log's fsync'd appends  vs  a plain file append with fdatasync
 *
 * on the embedded log and on Kafka. Services: the ones named, else started here (test harness).
 * `--vs debezium` (off by default; needs Kafka among --logs, Java 17 and mvn) also runs Kafka Connect
 * standalone with the Debezium PostgreSQL connector on each source workload's WAL, after cdc, into
 * the same broker: its rows/s, CPU seconds and peak RSS beside cdc's (bench/debezium.ts; the jars
 * are fetched from Maven Central into ~/.cache/cdc/debezium-3.6.1 on first use). `--debezium-tuned`
 * adds a second Debezium run per workload with throughput settings (bench/debezium.ts, TUNED_*).
 *   npm run bench -- [--quick] [--json out.json] [--chart out.svg] [--pg URL] [--kafka host:port]
 *                    [--rows N] [--single-rows N] [--e2e-seconds S] [--logs embedded,kafka]
 *                    [--vs debezium [--debezium-tuned]]
 *   npm run bench -- --bootstrap-only N [--logs kafka] [--json out.json]   (a bootstrap of N records alone, e.g. 10M; embedded log unless --logs kafka)
 *   npm run bench -- --source-only [--rows N] [--logs …]      (the source workloads alone, ratios on stdout)
 *   npm run bench -- --e2e-only [--e2e-seconds S] [--logs …]  (the end-to-end latency alone, per log)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchAppend } from './append.js';
import { benchBigBootstrap } from './big-bootstrap.js';
import { rawUpsert } from './bootstrap.js';
import { drawChart } from './chart.js';
import { benchLatency } from './latency.js';
import { CONNECT_JVM_FLAGS, javaVersion, TUNED_CONNECTOR, TUNED_WORKER, type DebeziumSide } from './debezium.js';
import { CONNECT_VERSION, DEBEZIUM_VERSION, ensureDebeziumJars } from './debezium-jars.js';
import { runLog, runSources, type LogFigures } from './log-run.js';
import { describeMachine } from './machine.js';
import { report, type BenchResult } from './report.js';
import { benchKafka, benchPostgres, type BenchService } from './services.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function num(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`error: --${name} ${v} is not a positive integer\nTry: --${name} 100000\n`);
    process.exit(2);
  }
  return n;
}

const progress = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function main(): Promise<void> {
  // `--chart-from in.json --chart out.svg` redraws a chart from an earlier run's JSON.
  const chartFrom = arg('chart-from');
  if (chartFrom) {
    const out = arg('chart') ?? chartFrom.replace(/\.json$/, '') + '.svg';
    writeFileSync(out, drawChart(JSON.parse(readFileSync(chartFrom, 'utf8')) as BenchResult));
    progress(`chart written to ${out}`);
    return;
  }
  if (arg('bootstrap-only') !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-bench-'));
    // `--logs kafka`: the topic in Kafka (started here unless --kafka names one) instead of an embedded log.
    const kafka = arg('logs') === 'kafka' ? await benchKafka(arg('kafka') ?? process.env['CDC_BENCH_KAFKA']) : undefined;
    try {
      const result = await benchBigBootstrap(dir, num('bootstrap-only', 10_000_000), progress, kafka?.address);
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      const json = arg('json');
      if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
    } finally {
      await kafka?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const quick = process.argv.includes('--quick');
  const rows = num('rows', quick ? 100_000 : 1_000_000);
  const singleRows = num('single-rows', quick ? 20_000 : rows);
  const e2eSeconds = num('e2e-seconds', quick ? 30 : 60);
  const logs = (arg('logs') ?? 'embedded,kafka').split(',');
  const json = arg('json');
  const chart = arg('chart') ?? (json ? json.replace(/\.json$/, '') + '.svg' : undefined);
  const vs = arg('vs');
  const tuned = process.argv.includes('--debezium-tuned');
  if (tuned && vs !== 'debezium') {
    process.stderr.write('error: --debezium-tuned is a second Debezium run beside --vs debezium\nTry: --vs debezium --debezium-tuned\n');
    process.exit(2);
  }
  if (vs !== undefined && vs !== 'debezium') {
    process.stderr.write(`error: --vs ${vs} is not a known comparison\nTry: --vs debezium\n`);
    process.exit(2);
  }
  if (vs === 'debezium' && !logs.includes('kafka')) {
    process.stderr.write(`error: --vs debezium compares on Kafka, but --logs ${logs.join(',')} leaves it out\nTry: --logs kafka --vs debezium\n`);
    process.exit(2);
  }

  const dir = mkdtempSync(join(tmpdir(), 'cdc-bench-'));
  const services: BenchService[] = [];
  try {
    progress('starting services (PostgreSQL, Kafka) unless named');
    const pgService = await benchPostgres(arg('pg') ?? process.env['CDC_BENCH_PG_URL']);
    services.push(pgService);
    let kafkaAddress: string | null = null;
    if (logs.includes('kafka')) {
      const k = await benchKafka(arg('kafka') ?? process.env['CDC_BENCH_KAFKA']);
      services.push(k);
      kafkaAddress = k.address;
    }
    let debezium: DebeziumSide | undefined;
    if (vs === 'debezium' && kafkaAddress) {
      progress(`Kafka Connect ${CONNECT_VERSION} and Debezium ${DEBEZIUM_VERSION} jars (fetched with mvn on first use)`);
      debezium = { jarDir: await ensureDebeziumJars(), kafka: kafkaAddress, dir, variants: tuned ? ['defaults', 'tuned'] : ['defaults'] };
    }
    if (process.argv.includes('--e2e-only')) {
      // The end-to-end latency alone, per log: what to iterate on when working on the tail.
      const out: Record<string, unknown> = {};
      for (const l of [...(logs.includes('embedded') ? [{ log: join(dir, 'log'), label: 'embedded' }] : []), ...(kafkaAddress ? [{ log: `kafka://${kafkaAddress}`, label: 'kafka' }] : [])]) {
        progress(`end to end on the ${l.label} log, ${e2eSeconds} s at 5,000 rows/s`);
        out[l.label] = await benchLatency(pgService.address, l.log, l.label, 5000, e2eSeconds, dir);
      }
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      if (json) writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
      return;
    }
    if (process.argv.includes('--source-only')) {
      const common = { adminUrl: pgService.address, rows, singleRows, e2eRowsPerS: 5000, e2eSeconds, dir, progress };
      const runs = [...(logs.includes('embedded') ? [{ log: join(dir, 'log'), label: 'embedded' as const }] : []), ...(kafkaAddress ? [{ log: `kafka://${kafkaAddress}`, label: 'kafka' as const, ...(debezium ? { debezium } : {}) }] : [])];
      const out: Record<string, unknown> = {};
      for (const l of runs) out[l.label] = (await runSources({ ...common, ...l })).source;
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      if (json) writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
      return;
    }
    const machine = await describeMachine(pgService.address, kafkaAddress ? '3.9.1 (KRaft, single node)' : null);
    const upsert = rawUpsert(join(dir, 'raw.db'), rows);
    progress(`raw better-sqlite3 upsert, ${rows} rows: ${upsert} rows/s`);
    const common = { adminUrl: pgService.address, rows, singleRows, e2eRowsPerS: 5000, e2eSeconds, dir, progress };
    const perLog: { embedded?: LogFigures; kafka?: LogFigures } = {};
    if (logs.includes('embedded')) perLog.embedded = await runLog({ ...common, log: join(dir, 'log'), label: 'embedded' });
    if (kafkaAddress) perLog.kafka = await runLog({ ...common, log: `kafka://${kafkaAddress}`, label: 'kafka', ...(debezium ? { debezium } : {}) });
    const append = await benchAppend(dir, Math.min(rows * 2, 1_000_000), 5000);
    const headline = perLog.kafka ?? perLog.embedded;
    if (!headline) throw new Error(`--logs ${logs.join(',')} names no log (embedded, kafka)`);
    const withBaseline = (f: LogFigures) => ({ ...f, sqlite_upsert_rows_per_s: upsert });
    const result: BenchResult = {
      quick,
      rows,
      single_rows: singleRows,
      e2e_seconds: e2eSeconds,
      e2e_offered_rows_per_s: 5000,
      headline_log: perLog.kafka ? 'kafka' : 'embedded',
      source_rows_per_s: headline.source_rows_per_s,
      recvlogical_rows_per_s: headline.recvlogical_rows_per_s,
      bootstrap_rows_per_s: headline.bootstrap_rows_per_s,
      sqlite_upsert_rows_per_s: upsert,
      e2e_p50_ms: headline.e2e_p50_ms,
      e2e_p99_ms: headline.e2e_p99_ms,
      e2e_max_ms: headline.e2e_max_ms,
      peak_rss_mb: headline.peak_rss_mb,
      ...(perLog.embedded ? { embedded: withBaseline(perLog.embedded) } : {}),
      ...(perLog.kafka ? { kafka: withBaseline(perLog.kafka) } : {}),
      ...(debezium && perLog.kafka?.debezium_rows_per_s !== undefined
        ? {
            vs_debezium: {
              debezium: DEBEZIUM_VERSION,
              kafka_connect: CONNECT_VERSION,
              java: await javaVersion(),
              jvm_flags: CONNECT_JVM_FLAGS.join(' '),
              debezium_rows_per_s: perLog.kafka.debezium_rows_per_s,
              ...(perLog.kafka.debezium_tuned_rows_per_s !== undefined
                ? { debezium_tuned_rows_per_s: perLog.kafka.debezium_tuned_rows_per_s, tuned_settings: [...TUNED_WORKER, ...TUNED_CONNECTOR].join(' ') }
                : {}),
              source_rows_per_s: perLog.kafka.source_rows_per_s,
            },
          }
        : {}),
      append,
      machine,
      services: { postgres: pgService.origin, kafka: services[1]?.origin ?? null },
    };
    process.stdout.write(report(result));
    if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
    if (chart) {
      writeFileSync(chart, drawChart(result));
      progress(`chart written to ${chart}`);
    }
  } finally {
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
