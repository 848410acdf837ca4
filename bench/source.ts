/**
 * Source throughput on one workload shape: `rows` inserts committed `perTx` at a time, decoded
 * from the same WAL by pg_recvlogical (pgoutput, to /dev/null: the server-side ceiling) and by
 * `cdc start` catching up into the log until the slot is confirmed past the last commit.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { cdc, stop, until } from './child.js';
import { createRunDb, query } from './db.js';
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
}

/**
 * Both readers start cold after the WAL is written. cdc is timed from its "streaming changes"
 * line (Node start-up, preflight and connecting excluded, as pg_recvlogical's are negligible) to
 * the slot's confirmed_flush_lsn passing the end of the WAL.
 */
export async function benchSource(adminUrl: string, log: string, label: string, rows: number, perTx: number): Promise<{ figures: SourceFigures; topicPrefix: string }> {
  const db = await createRunDb(adminUrl, `${label}_tx${perTx}`);
  try {
    // The first start creates the slot (and topics) on the empty table, then stops.
    const args = ['start', '--pg', db.url, '--log', log, '--slot', db.name, '--topic-prefix', db.name, '--table-poll-ms', '600000'];
    const first = cdc(args);
    await until('cdc start to stream', () => /streaming changes|error:/.test(first.stderr()), 120_000);
    if (!/streaming changes/.test(first.stderr())) throw new Error(`cdc start failed: ${first.stderr()}`);
    await stop(first);

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
    try {
      await until('cdc start to confirm the WAL', async () => {
        if (/error:/.test(source.stderr())) throw new Error(`cdc start failed: ${source.stderr()}`);
        const r = await poll.query<{ ok: boolean }>('SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $2', [lsn, db.name]);
        return r.rows[0]?.ok === true;
      });
    } finally {
      await poll.end();
    }
    const cdcSeconds = (performance.now() - t0) / 1000;
    await stop(source);
    const figures: SourceFigures = {
      rows,
      per_tx: perTx,
      cdc_seconds: round(cdcSeconds),
      recvlogical_seconds: round(recvSeconds),
      source_rows_per_s: Math.round(rows / cdcSeconds),
      recvlogical_rows_per_s: Math.round(rows / recvSeconds),
      peak_rss_mb: source.peakRssMb(),
    };
    return { figures, topicPrefix: db.name };
  } finally {
    await db.drop();
  }
}

function round(s: number): number {
  return Number(s.toFixed(3));
}
