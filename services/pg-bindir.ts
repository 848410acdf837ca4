import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the PostgreSQL server binaries are: `CDC_PG_BINDIR`, else `pg_config --bindir`, else the
 * newest `/usr/lib/postgresql/N/bin`, because Debian keeps them off PATH and `pg_config` comes from
 * libpq-dev, which a machine with the server may lack.
 */
export function pgBindir(): string {
  const candidates: string[] = [];
  const fromEnv = process.env['CDC_PG_BINDIR'];
  if (fromEnv) candidates.push(fromEnv);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: 'pipe' }).trim());
  } catch {
    // pg_config absent: fall through to the Debian layout.
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(debian, v, 'bin'));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found) {
    throw new Error(
      `PostgreSQL server binaries not found (looked in: ${candidates.join(', ') || 'nothing'}). ` +
        'Install them (apt-get install postgresql), set CDC_PG_BINDIR, or set CDC_TEST_PG_URL.',
    );
  }
  return found;
}
