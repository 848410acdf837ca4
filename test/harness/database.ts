import { uniqueName } from './names.js';
import { services } from './services-context.js';
import { ident, sql } from './sql.js';
import { waitFor } from '../../services/index.js';

/** A database of its own for one test, on the shared cluster. */
export interface TestDatabase {
  name: string;
  /** Superuser URL to this database, password inline. */
  url: string;
  /** Superuser URL to the cluster's `postgres` database. */
  adminUrl: string;
  /** Drops the database's replication slots (ending whoever holds them), then the database. */
  drop(): Promise<void>;
}

/** Creates a fresh database named `uniqueName(prefix)` on the test cluster. */
export async function createDatabase(prefix = 'db'): Promise<TestDatabase> {
  const adminUrl = services().pgAdminUrl;
  const name = uniqueName(prefix);
  await sql(adminUrl, `CREATE DATABASE ${ident(name)}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), adminUrl, drop: () => dropDatabase(adminUrl, name) };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  // A slot blocks DROP DATABASE, and an active one cannot be dropped, and a CLI still running may
  // reconnect and take it again: so terminate and drop until none is left.
  await waitFor(
    async () => {
      await sql(
        adminUrl,
        `SELECT pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots
          WHERE database = $1 AND active_pid IS NOT NULL`,
        [name],
      );
      await sql(
        adminUrl,
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
          WHERE database = $1 AND NOT active`,
        [name],
      );
      const left = await sql(adminUrl, 'SELECT 1 FROM pg_replication_slots WHERE database = $1', [name]);
      return left.length === 0;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `replication slots of database ${name} to be dropped` },
  );
  await sql(adminUrl, `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
}
