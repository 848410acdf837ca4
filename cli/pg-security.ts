/**
 * TLS and the password for PostgreSQL, folded into the one URL that every connection uses (so the
 * source needs no extra parameters). pg reads `sslmode` and `sslrootcert` from the URL itself; note
 * that pg treats `prefer`, `require` and `verify-ca` like `verify-full` unless the URL also says
 * `uselibpqcompat=true` (see docs/security.md).
 */
import { ConfigError, redactUrl } from '../common/index.js';
import type { Env } from './env.js';
import { readCaFile, secretFrom } from './secrets.js';

const SSLMODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/** Flags that change how PostgreSQL is reached. */
export interface PgSecurityFlags {
  pgPasswordFile?: string;
  pgCa?: string;
}

/** The URL with the password (from CDC_PG_PASSWORD or a file) and the CA file (`--pg-ca`) in it. */
export function securePgUrl(url: string, flags: PgSecurityFlags, env: Env): string {
  const u = new URL(url);
  const password = secretFrom(env, flags.pgPasswordFile, 'CDC_PG_PASSWORD', 'CDC_PG_PASSWORD_FILE', 'pg-password-file');
  if (password !== undefined) {
    if (u.password !== '') {
      throw new ConfigError('PG_PASSWORD_TWICE', `--pg ${redactUrl(url)} has a password and one is also given by --pg-password-file or CDC_PG_PASSWORD`, {
        hint: 'keep the password in one place: remove it from the URL, or drop the file / variable',
      });
    }
    u.password = encodeURIComponent(password);
  }
  const ca = flags.pgCa ?? env['CDC_PG_CA'];
  if (ca !== undefined && ca !== '') {
    if (u.searchParams.has('sslrootcert')) {
      throw new ConfigError('PG_CA_TWICE', `--pg-ca ${ca} is given and the URL has sslrootcert= too`, { hint: 'keep one of them' });
    }
    u.searchParams.set('sslrootcert', ca);
    if (!u.searchParams.has('sslmode')) u.searchParams.set('sslmode', 'verify-full');
  }
  const mode = u.searchParams.get('sslmode');
  if (mode !== null && !SSLMODES.includes(mode)) {
    throw new ConfigError('PG_SSLMODE_INVALID', `sslmode=${mode} in --pg is not one of ${SSLMODES.join(', ')}`, { hint: 'use sslmode=verify-full with --pg-ca FILE (or sslrootcert=FILE in the URL)' });
  }
  if (mode === 'disable' && (ca !== undefined && ca !== '')) {
    throw new ConfigError('PG_SSLMODE_INVALID', '--pg-ca is given but the URL says sslmode=disable', { hint: 'use sslmode=verify-full, or drop --pg-ca' });
  }
  const rootcert = u.searchParams.get('sslrootcert');
  // pg reads this file when it connects and would fail there with a bare ENOENT.
  if (rootcert !== null && rootcert !== 'system') readCaFile(rootcert, ca ? '--pg-ca' : 'sslrootcert= in --pg');
  return password === undefined && (ca === undefined || ca === '') ? url : u.toString();
}
