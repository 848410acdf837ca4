/**
 * Source throughput on one workload shape: `rows` inserts committed `perTx` at a time, decoded
 * from the same WAL by pg_recvlogical (pgoutput, to /dev/null: the server-side ceiling) and by
 * `cdc start` catching up into the log until the slot is confirmed past the last commit; with
 * `--vs debezium`, then by Debezium (bench/debezium.ts) from a slot of its own on the same WAL.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { cdc, stop, until } from './child.js';
import { createRunDb, query } from './db.js';
import { prepareDebezium, runDebezium, type DebeziumFigures, type DebeziumSide } from './debezium.js';
import { pgClientBinary } from './services.js';

/** One workload's figures. */
export interface SourceFigures {
  rows: number;
  per_tx: number;
  cdc_seconds: number;
  recvlogical_seconds: number;
  source_rows_per_s: number;
  recvlogical_rows_per_s: number;
  /** Peak RSS of this `cdc start`, MB. */
  peak_rss_mb: number;
  /** CPU seconds (utime + stime) of this `cdc start` from its start until the WAL was confirmed. */
  cdc_cpu_seconds: number;
  /** The part of `cdc_cpu_seconds` spent after its "streaming changes" line (the timed catch-up). */
  cdc_catchup_cpu_seconds: number;
  /** Process start until the WAL was confirmed: Node start-up, preflight and connecting included. */
  cdc_wall_seconds: number;
  /** Debezium on the same WAL at its defaults, with `--vs debezium` on Kafka. */
  debezium?: DebeziumFigures;
  /** Debezium on the same WAL with throughput settings, with `--debezium-tuned` too. */
  debezium_tuned?: DebeziumFigures;
}

/**
 * Both readers start cold after the WAL is written. cdc is timed from its "streaming changes"
 * line (Node start-up, preflight and connecting excluded, as pg_recvlogical's are negligible) to
 * the slot's confirmed_flush_lsn passing the end of the WAL.
 */
export async function benchSource(adminUrl: string, log: string, label: string, rows: number, perTx: number, debezium?: DebeziumSide): Promise<{ figures: SourceFigures; topicPrefix: string }> {
  const db = await createRunDb(adminUrl, `${label}_tx${perTx}`);
  try {
    // The first start creates the slot (and topics) on the empty table, then stops.
    const args = ['start', '--pg', db.url, '--log', log, '--slot', db.name, '--topic-prefix', db.name, '--table-poll-ms', '600000'];
    const first = cdc(args);
    await until('cdc start to stream', () => /streaming changes|error:/.test(first.stderr()), 120_000);
    if (!/streaming changes/.test(first.stderr())) throw new Error(`cdc start failed: ${first.stderr()}`);
    await stop(first);

    if (debezium) await prepareDebezium(debezium, db);
    await query(db.url, `SELECT pg_create_logical_replication_slot('${db.name}_base', 'pgoutput')`);
    await query(db.url, `CALL fill(1, ${rows}, ${perTx})`);
    const [{ lsn } = { lsn: '' }] = await query(db.url, 'SELECT pg_current_wal_lsn()::text AS lsn');

    const u = new URL(db.url);
    let t0 = performance.now();
    execFileSync(
      pgClientBinary('pg_recvlogical'),
      ['-d', db.url, '--slot', `${db.name}_base`, '--start', '-o', 'proto_version=1', '-o', `publication_names=${db.name}`, '--endpos', lsn, '-f', '/dev/null', '--no-loop'],
      { stdio: 'ignore', env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
    );
    const recvSeconds = (performance.now() - t0) / 1000;
    await query(db.url, `SELECT pg_drop_replication_slot('${db.name}_base')`);

    const source = cdc(args);
    await until('cdc start to stream', () => /streaming changes|error:/.test(source.stderr()), 120_000);
    // One connection for the polls: a new one every 20 ms would load the 2 cores being measured.
    const poll = new pg.Client({ connectionString: db.url });
    await poll.connect();
    t0 = performance.now();
    const cpu0 = source.cpuSeconds();
    try {
      await until('cdc start to confirm the WAL', async () => {
        if (/error:/.test(source.stderr())) throw new Error(`cdc start failed: ${source.stderr()}`);
        const r = await poll.query<{ ok: boolean }>('SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $2', [lsn, db.name]);
        return r.rows[0]?.ok === true;
      });
    } finally {
      await poll.end();
    }
    const t1 = performance.now();
    const cdcSeconds = (t1 - t0) / 1000;
    const cpu = source.cpuSeconds();
    await stop(source);
    // After cdc, never beside it: the two share the 2 cores being measured.
    const vs = debezium?.variants.includes('defaults') ? await runDebezium(debezium, db, rows, 'defaults') : undefined;
    const vsTuned = debezium?.variants.includes('tuned') ? await runDebezium(debezium, db, rows, 'tuned') : undefined;
    const figures: SourceFigures = {
      rows,
      per_tx: perTx,
      cdc_seconds: round(cdcSeconds),
      recvlogical_seconds: round(recvSeconds),
      source_rows_per_s: Math.round(rows / cdcSeconds),
      recvlogical_rows_per_s: Math.round(rows / recvSeconds),
      peak_rss_mb: source.peakRssMb(),
      cdc_cpu_seconds: round(cpu),
      cdc_catchup_cpu_seconds: round(cpu - cpu0),
      cdc_wall_seconds: round((t1 - source.startedAt) / 1000),
      ...(vs ? { debezium: vs } : {}),
      ...(vsTuned ? { debezium_tuned: vsTuned } : {}),
    };
    return { figures, topicPrefix: db.name };
  } finally {
    await db.drop();
  }
}

function round(s: number): number {
  return Number(s.toFixed(3));
}
