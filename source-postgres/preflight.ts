/**
 * Checks that make `cdc start` fail at once, with the fix, instead of half-way through: logical
 * WAL, a PostgreSQL that can send cdc its own WAL barriers (14+, see tables.ts), and a role
 * allowed to replicate.
 */
import type pg from 'pg';
import { CdcError } from '../common/index.js';

/** pgoutput's `messages` option, which carries the table-poll barriers, arrived in PostgreSQL 14. */
const MIN_SERVER_VERSION = 140000;

/** Fails with exit code 2 and the fix when PostgreSQL cannot serve `cdc start`. */
export async function preflight(client: pg.Client): Promise<void> {
  const version = await client.query<{ v: string; text: string }>("SELECT current_setting('server_version_num') AS v, current_setting('server_version') AS text");
  const num = Number(version.rows[0]?.v ?? '0');
  if (num < MIN_SERVER_VERSION) {
    throw new CdcError('PG_TOO_OLD', `PostgreSQL ${version.rows[0]?.text ?? 'unknown'} is too old: cdc start needs PostgreSQL 14 or later`, {
      exitCode: 2,
      hint: 'upgrade PostgreSQL to 14 or later (pgoutput must support the messages option)',
    });
  }
  const wal = await client.query<{ wal_level: string }>('SHOW wal_level');
  const level = wal.rows[0]?.wal_level;
  if (level !== 'logical') {
    throw new CdcError('PG_WAL_LEVEL', `PostgreSQL has wal_level=${level ?? 'unknown'}; logical replication needs wal_level=logical`, {
      exitCode: 2,
      hint: 'run ALTER SYSTEM SET wal_level = logical; as a superuser and restart PostgreSQL (or set wal_level = logical in postgresql.conf)',
    });
  }
  const role = await client.query<{ name: string; ok: string }>(
    'SELECT rolname AS name, (rolreplication OR rolsuper)::text AS ok FROM pg_roles WHERE rolname = current_user',
  );
  const row = role.rows[0];
  if (!row || row.ok !== 'true') {
    const name = row?.name ?? 'the current role';
    throw new CdcError('PG_NO_REPLICATION', `role ${name} lacks the REPLICATION privilege that logical replication needs`, {
      exitCode: 2,
      hint: `run ALTER ROLE "${name.replace(/"/g, '""')}" WITH REPLICATION; as a superuser (see docs/operations.md for a least-privilege role)`,
    });
  }
}
