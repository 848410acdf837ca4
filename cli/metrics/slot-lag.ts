/**
 * Slot lag in bytes, read at scrape time on a connection of its own: how much WAL PostgreSQL keeps
 * for this slot. It grows while the log is down or slow, and is the number to alert on before the
 * server's disk fills.
 */
import type pg from 'pg';
import { connectPg, slotStatus } from '../../source-postgres/index.js';
import type { Metrics } from './registry.js';

/** A refresher for `cdc_slot_lag_bytes`; `close()` ends its connection. */
export function slotLag(pgUrl: string, slot: string, metrics: Metrics): { refresh(): Promise<void>; close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  return {
    async refresh() {
      if (closed) return;
      client ??= await connectPg(pgUrl);
      try {
        // The same reading as `cdc status` (slot-status.ts owns the query).
        const lag = (await slotStatus(client)).find((s) => s.slot === slot)?.lagBytes;
        if (lag !== undefined && lag !== null) metrics.slotLagBytes.set({ slot }, Number(lag));
      } catch (e) {
        // A broken connection is opened again at the next scrape.
        const old = client;
        client = undefined;
        await old.end().catch(() => undefined);
        throw e;
      }
    },
    async close() {
      closed = true;
      await client?.end().catch(() => undefined);
    },
  };
}
