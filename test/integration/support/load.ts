/**
 * A steady write load for fault tests: small transactions of inserts, updates and deletes, and now
 * and then a COPY (whose rows share WAL records, so several changes carry one LSN). It survives
 * PostgreSQL going away: it reconnects and goes on.
 */
import pg from 'pg';
import type { TableSpec } from './compare.js';

export const LOAD_SCHEMA = `
CREATE TABLE acct (id bigint PRIMARY KEY, balance bigint NOT NULL, note text);
CREATE TABLE events (id bigserial PRIMARY KEY, acct bigint NOT NULL DEFAULT 1, amount int NOT NULL, at timestamptz NOT NULL DEFAULT now());
INSERT INTO acct SELECT g, 0, 'acct ' || g FROM generate_series(1, 200) g;
INSERT INTO events (acct, amount) SELECT g % 200 + 1, g FROM generate_series(1, 20000) g;
`;

export const LOAD_TABLES: TableSpec[] = [
  { source: 'public.acct', replica: 'acct', key: ['id'], columns: { id: 'int', balance: 'int', note: 'text' } },
  { source: 'public.events', replica: 'events', key: ['id'], columns: { id: 'int', acct: 'int', amount: 'int', at: 'timestamptz' } },
];

export interface Load {
  /** Transactions committed so far. */
  readonly committed: number;
  stop(): Promise<number>;
}

export function startLoad(url: string): Load {
  let running = true;
  let committed = 0;
  const loop = (async () => {
    let client: pg.Client | undefined;
    for (let i = 0; running; i++) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: url });
          client.on('error', () => undefined);
          await client.connect();
        }
        await client.query('BEGIN');
        await client.query('INSERT INTO events (acct, amount) VALUES ($1, $2), ($1, $3), ($4, $2)', [1 + (i % 200), i, -i, 1 + ((i * 7) % 200)]);
        await client.query('UPDATE acct SET balance = balance + $2, note = $3 WHERE id = $1', [1 + (i % 200), i, `tx ${i}`]);
        if (i % 5 === 0) await client.query('DELETE FROM events WHERE id = (SELECT min(id) FROM events)');
        if (i % 50 === 0) await client.query("COPY events (amount) FROM PROGRAM 'seq 1 200'");
        await client.query('COMMIT');
        committed++;
      } catch {
        // PostgreSQL went away (a fault under test): start over on a new connection.
        await client?.end().catch(() => undefined);
        client = undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await client?.end().catch(() => undefined);
  })();
  return {
    get committed() {
      return committed;
    },
    stop: async () => {
      running = false;
      await loop;
      return committed;
    },
  };
}
