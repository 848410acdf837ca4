import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCliToEnd } from '../harness/index.js';

describe('cdc demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-demo-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the whole pipeline on a throwaway PostgreSQL and an embedded log, twice in the same directory', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runCliToEnd(['demo', '--dir', join(dir, 'demo'), '--seconds', '1'], { timeoutMs: 120_000, env: { CDC_PG_URL: '' } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/1\. PostgreSQL: started a throwaway server/);
      expect(r.stdout).toMatch(/shop\.orders +equal \(\d+ rows, \d+ chunks\)/);
      expect(r.stdout).toMatch(/shop\.customers +equal \(1000 rows/);
      expect(r.stdout).not.toMatch(/DIFFERENT/);
      expect(r.stderr).toMatch(/shop\.page_views is not captured/);
      const db = new Database(join(dir, 'demo', 'replica.db'), { readonly: true });
      const orders = db.prepare('SELECT count(*) AS n FROM "shop.orders"').get() as { n: number };
      db.close();
      expect(orders.n).toBeGreaterThan(5000);
    }
  });

  it('refuses a directory that is not its own', async () => {
    const r = await runCliToEnd(['demo', '--dir', dir], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists and is not a demo directory/);
  });
});
