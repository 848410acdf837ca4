/**
 * `cdc demo`: the whole pipeline on this machine in a few seconds, explained as it goes — a
 * throwaway PostgreSQL (or CDC_PG_URL), a sample shop with a write load, `cdc start` into an
 * embedded log, a replica bootstrapped from it, and a comparison of the two.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Argv } from 'yargs';
import { ConfigError, createLogger, formatLsn, parseLsn, redactUrl } from '../../common/index.js';
import { DirLog, schemaTopic } from '../../compaction/index.js';
import { readReplicaStatus, runSink, verifyReplica, type VerifySource } from '../../sink-sqlite/index.js';
import { connectPg, createSource, readKeyRange, readTableChunks } from '../../source-postgres/index.js';
import type { Env } from '../config.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../demo/throwaway-postgres.js';
import { DEMO_SCHEMA, runWorkload } from '../demo/workload.js';

export interface DemoFlags {
  dir?: string;
  seconds?: number;
}

export const command = 'demo';
export const describe = 'run the whole pipeline on a throwaway PostgreSQL and an embedded log, and explain it';

export function builder(y: Argv): Argv<DemoFlags> {
  return y
    .option('dir', { type: 'string', describe: 'where the log and the replica go (default ./cdc-demo)' })
    .option('seconds', { type: 'number', describe: 'how long the write load runs (default 5)' }) as unknown as Argv<DemoFlags>;
}

const MARK = '.cdc-demo';

function prepareDir(dir: string): void {
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARK))) {
      throw new ConfigError('DEMO_DIR_EXISTS', `${dir} exists and is not a demo directory`, { hint: 'pass --dir with a new path' });
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARK), 'made by cdc demo; removed by the next one\n');
}

export async function run(flags: DemoFlags, env: Env): Promise<void> {
  const say = (line = ''): void => void process.stdout.write(line + '\n');
  const dir = resolve(flags.dir ?? 'cdc-demo');
  const seconds = flags.seconds ?? 5;
  if (!(seconds > 0 && seconds <= 600)) throw new ConfigError('DEMO_SECONDS', `--seconds ${seconds} is out of range`, { hint: 'pick 1 to 600' });
  prepareDir(dir);
  const logger = createLogger({ level: 'warn' });
  let throwaway: ThrowawayPostgres | undefined;
  const controller = new AbortController();
  let source: Promise<void> | undefined;
  try {
    say('cdc demo: PostgreSQL → compacted topics → a SQLite replica, on this machine.\n');
    let pgUrl: string;
    if (env['CDC_PG_URL']) {
      pgUrl = env['CDC_PG_URL'];
      say(`1. PostgreSQL: using CDC_PG_URL (${redactUrl(pgUrl)}); the demo creates schema "shop" there.`);
    } else {
      throwaway = await startThrowawayPostgres();
      pgUrl = throwaway.url;
      say(`1. PostgreSQL: started a throwaway server on 127.0.0.1:${throwaway.port} with wal_level=logical.`);
    }
    const client = await connectPg(pgUrl);
    try {
      await client.query(DEMO_SCHEMA);
      say('   Created a sample shop: shop.customers (1,000 rows), shop.orders (5,000 rows), and shop.page_views,');
      say('   which has no primary key: cdc reports it and leaves it out, instead of breaking the application.\n');

      const logDir = join(dir, 'log');
      const log = new DirLog({ path: logDir, logger, cleanerIntervalMs: 2000 });
      let streaming!: () => void;
      const ready = new Promise<void>((r) => (streaming = r));
      source = createSource({ pgUrl, prefix: 'cdc', slot: 'cdc_demo', publication: 'cdc_demo' }, { log, logger, onStreaming: () => streaming() }).run(controller.signal);
      source.catch(() => undefined);
      await Promise.race([ready, source]);
      say(`2. cdc start: created replication slot cdc_demo and a publication of the keyed tables, read the`);
      say(`   existing rows in the slot's exported snapshot, and now streams every change into the embedded`);
      say(`   log in ${logDir}: one compacted topic per table (cdc.shop.customers, cdc.shop.orders),`);
      say(`   keyed by primary key, deletes as tombstones, plus ${schemaTopic('cdc')} with the table definitions.\n`);

      const transactions = await runWorkload(client, Date.now() + seconds * 1000);
      const lsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn ?? '0/0';
      for (;;) {
        const row = (await client.query<{ c: string | null }>("SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = 'cdc_demo'")).rows[0];
        if (row?.c && parseLsn(row.c) >= parseLsn(lsn)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      say(`3. Write load: ${transactions} transactions in ${seconds} s (new orders, status changes, deletions).`);
      say(`   The slot's confirmed position reached ${lsn}: PostgreSQL is told a change is done only after`);
      say(`   the log has it on disk (fsync), so a crash anywhere loses nothing.\n`);

      const replica = join(dir, 'replica.db');
      const started = Date.now();
      await runSink({ name: 'demo', replicaPath: replica, prefix: 'cdc', mode: 'bootstrap' }, { log: new DirLog({ path: logDir, logger }), logger }, new AbortController().signal);
      say(`4. cdc bootstrap demo: built ${replica} from offset zero of the topics in ${((Date.now() - started) / 1000).toFixed(1)} s,`);
      say(`   with no connection to PostgreSQL: the log alone holds the tables.\n`);

      say('5. cdc verify: source and replica compared value for value, by checksums over key ranges:');
      const db = new Database(replica, { readonly: true });
      db.defaultSafeIntegers(true);
      let equal = true;
      try {
        const source: VerifySource = {
          chunks: (t, columns, key, n) => readTableChunks(client, t.schema, t.table, columns, key, n),
          range: (t, columns, key, after, upTo) => readKeyRange(client, t.schema, t.table, columns, key, after, upTo),
        };
        for (const r of await verifyReplica(db, source, { settleMs: 10_000, logger })) {
          equal &&= r.differences.length === 0;
          say(`   ${r.table.padEnd(16)} ${r.differences.length === 0 ? 'equal' : 'DIFFERENT'} (${r.rows} rows, ${r.chunks} chunks)`);
        }
        say('   cdc status, in short: the replica has applied these topics up to these offsets:');
        for (const o of readReplicaStatus(replica).topics) say(`   ${o.topic.padEnd(22)} ${String(o.nextOffset).padStart(7)}${o.lsn ? `   source position ${o.lsn}` : ''}`);
      } finally {
        db.close();
      }
      say('');
      controller.abort();
      await source;
      await log.close();
      say(`6. Stopped cdc start cleanly (SIGINT/SIGTERM do the same): pending records flushed, position ${formatLsn(parseLsn(lsn))} confirmed.\n`);
      say(`Look around:`);
      say(`   sqlite3 ${replica} 'SELECT * FROM "shop.orders" ORDER BY id DESC LIMIT 5'`);
      say(`   ls ${join(logDir, 'topics')}`);
      say(`Your own database: cdc start --pg postgres://user:pass@host/db --log ./cdc-data, then`);
      say(`cdc bootstrap NAME --log ./cdc-data --replica ./replica.db --follow. See README.md.`);
      if (!equal) throw new ConfigError('DEMO_MISMATCH', 'the replica does not equal the source', { hint: 'please report this with the output above' });
    } finally {
      await client.end().catch(() => undefined);
    }
  } finally {
    controller.abort();
    await source?.catch(() => undefined);
    throwaway?.stop();
  }
}
