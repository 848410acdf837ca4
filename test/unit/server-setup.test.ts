import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPgBindir, freePort } from '../../cli/demo/server-setup.js';

describe('local PostgreSQL setup', () => {
  const saved = process.env['CDC_PG_BINDIR'];
  afterEach(() => {
    if (saved === undefined) delete process.env['CDC_PG_BINDIR'];
    else process.env['CDC_PG_BINDIR'] = saved;
  });

  it('takes CDC_PG_BINDIR first, and only a directory with initdb and pg_ctl', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-bindir-'));
    try {
      writeFileSync(join(dir, 'initdb'), '');
      process.env['CDC_PG_BINDIR'] = dir;
      expect(findPgBindir().searched[0]).toBe(dir);
      expect(findPgBindir().bindir).not.toBe(dir); // no pg_ctl yet
      writeFileSync(join(dir, 'pg_ctl'), '');
      expect(findPgBindir().bindir).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives a port that can be listened on', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
