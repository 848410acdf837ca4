/**
 * How far behind the source each logical replication slot of the database is: in bytes of WAL
 * the slot still holds, and in time as PostgreSQL measures it for a connected reader
 * (`pg_stat_replication.flush_lag`: how long ago the WAL the reader last confirmed was written).
 * A slot nobody reads has no time lag to measure; its byte lag keeps growing.
 */
import type pg from 'pg';

/** One slot's lag. */
export interface SlotStatus {
  slot: string;
  plugin: string | null;
  active: boolean;
  /** The position confirmed durable by the reader (`X/Y`), null before the first confirmation. */
  confirmedFlushLsn: string | null;
  /** The server's current WAL position. */
  currentLsn: string;
  /** WAL bytes between the confirmed position and the current one. */
  lagBytes: bigint | null;
  /** flush_lag of the connected reader in seconds; null when not connected or not measured. */
  lagSeconds: number | null;
  walStatus: string | null;
}

/** The logical slots of the connected database. */
export async function slotStatus(client: pg.Client): Promise<SlotStatus[]> {
  const res = await client.query<{ slot_name: string; plugin: string | null; active: string; confirmed: string | null; current: string; lag: string | null; lag_s: string | null; wal_status: string | null }>(
    `SELECT s.slot_name, s.plugin, s.active::text AS active, s.confirmed_flush_lsn::text AS confirmed,
            pg_current_wal_lsn()::text AS current,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS lag,
            extract(epoch FROM r.flush_lag)::text AS lag_s, s.wal_status
       FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
      WHERE s.slot_type = 'logical' AND s.database = current_database()
      ORDER BY s.slot_name`,
  );
  return res.rows.map((r) => ({
    slot: r.slot_name,
    plugin: r.plugin,
    active: r.active === 'true',
    confirmedFlushLsn: r.confirmed,
    currentLsn: r.current,
    lagBytes: r.lag === null ? null : BigInt(r.lag.split('.')[0] as string),
    lagSeconds: r.lag_s === null ? (r.active === 'true' && r.lag === '0' ? 0 : null) : Number(r.lag_s),
    walStatus: r.wal_status,
  }));
}
