/**
 * `cdc verify`: compare a replica with its source, table by table, by chunked checksums over key
 * ranges. Exit 0 when equal; 1 with the tables and key ranges that differ (on stdout).
 *
 * Given the capture options `cdc start` ran with, the source is read through them: only rows
 * within a table's row filter, masked columns masked with the same mode and key. So masked columns
 * are compared as masked (a wrong mask key shows as a difference), and excluded columns, which
 * the replica does not have, are not read.
 */
import type { Argv } from 'yargs';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ConfigError, createLogger } from '../../common/index.js';
import { isCorruption, readReplicaStatus, replicaCorrupt, replicaDiffers, verifyReplica, type VerifySource } from '../../sink-sqlite/index.js';
import type { SchemaRecord } from '../../compaction/index.js';
import { connectPg, readKeyRange, readTableChunks, type CaptureRules } from '../../source-postgres/index.js';
import { resolveVerifyConfig, type Env, type VerifyFlags } from '../config.js';
import { captureOptions } from '../options.js';

export const command = 'verify';
export const describe = 'compare a replica with the source table by table (exit 0 equal, 1 different)';

export function builder(y: Argv): Argv<VerifyFlags> {
  return captureOptions(y)
    .option('pg', { type: 'string', describe: 'PostgreSQL URL of the source (env CDC_PG_URL)' })
    .option('replica', { type: 'string', describe: 'the SQLite replica file' })
    .option('tables', { type: 'string', describe: 'schema.table,… to compare (default: every table of the replica)' })
    .option('settle', { type: 'number', describe: 'seconds to keep re-checking a differing range while the replica catches up (default 10)' }) as unknown as Argv<VerifyFlags>;
}

export async function run(flags: VerifyFlags, env: Env): Promise<void> {
  const config = resolveVerifyConfig(flags, env);
  const logger = createLogger({ level: config.logLevel });
  if (!existsSync(config.replica)) throw new ConfigError('REPLICA_MISSING', `--replica ${config.replica} does not exist`, { hint: 'pass the path of an existing replica' });
  let db: Database.Database;
  let name = 'NAME';
  try {
    db = new Database(config.replica, { readonly: true, fileMustExist: true });
    db.defaultSafeIntegers(true);
    name = readReplicaStatus(config.replica).sinkName ?? name;
  } catch (e) {
    throw replicaCorrupt(config.replica, name, e instanceof Error ? e.message : String(e), e);
  }
  const client = await connectPg(config.pgUrl);
  const rules = config.capture;
  const source: VerifySource = {
    chunks: (t, columns, key, n) => maskedChunks(rules, t, columns, readTableChunks(client, t.schema, t.table, columns, key, n, rules.filter(t.schema, t.table))),
    range: async (t, columns, key, after, upTo) => (await readKeyRange(client, t.schema, t.table, columns, key, after, upTo, rules.filter(t.schema, t.table))).map((r) => masked(rules, t, columns, r)),
  };
  try {
    const results = await verifyReplica(db, source, { tables: config.tables, settleMs: config.settleSeconds * 1000, logger });
    const differing: string[] = [];
    for (const r of results) {
      if (r.differences.length === 0) {
        process.stdout.write(`${r.table}: equal (${r.rows} rows, ${r.chunks} chunks)\n`);
        continue;
      }
      differing.push(r.table);
      for (const d of r.differences) {
        const from = d.after ? `after ${JSON.stringify(d.after)}` : 'from the first key';
        const to = d.upTo ? `up to ${JSON.stringify(d.upTo)}` : 'to the last key';
        process.stdout.write(`${r.table}: differs ${from} ${to} (source ${d.sourceRows} rows, replica ${d.replicaRows} rows)\n`);
      }
    }
    if (differing.length > 0) throw replicaDiffers(differing, config.replica, name);
  } catch (e) {
    if (isCorruption(e)) throw replicaCorrupt(config.replica, name, e instanceof Error ? e.message : String(e), e);
    throw e;
  } finally {
    db.close();
    await client.end().catch(() => undefined);
  }
}

/** A source row as the log carries it: masked columns masked (key columns never are). */
function masked(rules: CaptureRules, t: SchemaRecord, columns: readonly string[], row: (string | null)[]): (string | null)[] {
  const shaped = rules.row(t.schema, t.table, Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])));
  return columns.map((c) => shaped[c] ?? null);
}

async function* maskedChunks(rules: CaptureRules, t: SchemaRecord, columns: readonly string[], chunks: AsyncIterable<(string | null)[][]>): AsyncGenerator<(string | null)[][]> {
  for await (const chunk of chunks) yield chunk.map((r) => masked(rules, t, columns, r));
}
