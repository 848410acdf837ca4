import { findPgBindir } from '../cli/demo/server-setup.js';

/**
 * Where the PostgreSQL server binaries are, by the product's own search (cli/demo/server-setup.ts,
 * which `cdc demo` uses too); throws, saying where it looked and what to do, when none has them.
 */
export function pgBindir(): string {
  const { bindir, searched } = findPgBindir();
  if (!bindir) {
    throw new Error(
      `PostgreSQL server binaries not found (looked in: ${searched.join(', ') || 'nothing'}). ` +
        'Install them (apt-get install postgresql), set CDC_PG_BINDIR, or set CDC_TEST_PG_URL.',
    );
  }
  return bindir;
}
