/**
 * Issue 17 item 11c: after a `cdc start` that crashed between the log's ack and the confirmation to
 * PostgreSQL, the next run streams the unconfirmed transactions again, and the log holds them twice.
 * A replica that already applied them must not be taken back in time by the second copies — not
 * for a moment (a reader polling every millisecond sees only states the source went through, in
 * order), and not for good (a delete sent again must not undo a later insert of the same key).
 *
 * Each transaction i sets row 1 to i and, in the same transaction, deletes row 2 (i even) or
 * inserts it with i (i odd): every state the source goes through has row 2 exactly when row 1 is
 * odd, and then equal to it. On both logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, services, sql, uniqueName, waitFor, type TestDatabase } from '../harness/index.js';
import { Pipeline } from './support/pipeline.js';

const STEPS = 20_000;

for (const kind of ['embedded', 'kafka'] as const) {
  describe(`changes streamed again after a crash (${kind})`, () => {
    let db: TestDatabase;
    let dir: string;
    let p: Pipeline;

    beforeAll(async () => {
      db = await createDatabase('restream');
      dir = mkdtempSync(join(tmpdir(), 'cdc-rs-'));
      const log = kind === 'kafka' ? `kafka://${services().kafkaBrokers}` : join(dir, 'log');
      p = new Pipeline({ pgUrl: db.url, log, prefix: uniqueName('rs'), slot: uniqueName('slot'), dir, tables: [] });
      await sql(db.url, `CREATE TABLE c (id int PRIMARY KEY, n int NOT NULL); INSERT INTO c VALUES (1, 1), (2, 1);
        CREATE PROCEDURE step(first int, last int) LANGUAGE plpgsql AS $$
        BEGIN FOR i IN first..last LOOP
          UPDATE c SET n = i WHERE id = 1;
          IF i % 2 = 0 THEN DELETE FROM c WHERE id = 2; ELSE INSERT INTO c VALUES (2, i); END IF;
          COMMIT;
        END LOOP; END $$;`);
    });

    afterAll(async () => {
      await p?.killAll();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a replica following the log never goes back in time, and ends equal to the source', async () => {
      // The first run makes the slot and reads the table; the transactions are written meanwhile
      // stopped, so that the next run has a backlog to send in several appends.
      const first = p.start();
      await first.waitForOutput(/streaming changes/, 60_000);
      await p.stop(first);
      const replica = p.replica('r');
      p.sink('r');
      await sql(db.url, `CALL step(2, ${STEPS + 1})`);

      const seen: string[] = [];
      let reads = 0;
      let last = 0;
      let polling = true;
      const poller = (async () => {
        let reader: Database.Database | undefined;
        while (polling) {
          await new Promise((r) => setTimeout(r, 1));
          try {
            reader ??= existsSync(replica) ? new Database(replica, { readonly: true, fileMustExist: true }) : undefined;
            const row = reader?.prepare('SELECT (SELECT n FROM c WHERE id = 1) AS n1, (SELECT n FROM c WHERE id = 2) AS n2').get() as { n1: number | null; n2: number | null } | undefined;
            if (!row || row.n1 === null) continue;
            reads++;
            if (row.n1 < last) seen.push(`row 1 went from ${last} back to ${row.n1}`);
            if (row.n1 % 2 === 1 && row.n2 !== row.n1) seen.push(`row 1 is ${row.n1} but row 2 is ${row.n2}`);
            if (row.n1 % 2 === 0 && row.n2 !== null) seen.push(`row 1 is ${row.n1} but row 2 is there (${row.n2})`);
            last = row.n1;
          } catch {
            // The table is not made yet.
          }
        }
        reader?.close();
      })();

      // Killed right after the log acked its third append: those records are in the log, PostgreSQL
      // was not told, and the next run sends them again.
      const crashing = p.start({ CDC_CRASH_AT: 'after-append:3' });
      const crashed = await crashing.exited;
      expect(crashed.signal, crashing.stderr()).toBe('SIGKILL');
      const resumed = p.start();
      await resumed.waitForOutput(/streaming changes/, 60_000);
      await waitFor(() => last === STEPS + 1, { timeoutMs: 120_000, what: `the replica to reach ${STEPS + 1} (at ${last})` });
      polling = false;
      await poller;

      expect(reads).toBeGreaterThan(10);
      expect(seen.slice(0, 10)).toEqual([]);
      const [source] = await sql<{ n1: number; n2: number }>(db.url, 'SELECT (SELECT n FROM c WHERE id = 1) AS n1, (SELECT n FROM c WHERE id = 2) AS n2');
      const final = new Database(replica, { readonly: true });
      expect(final.prepare('SELECT (SELECT n FROM c WHERE id = 1) AS n1, (SELECT n FROM c WHERE id = 2) AS n2').get()).toEqual(source);
      final.close();
      expect(resumed.stderr()).toMatch(/streaming changes/);
    }, 300_000);
  });
}
