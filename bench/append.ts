/**
 * Append throughput of the embedded log (every append fsync'd before it resolves) next to the
 * floor under it: appending the same bytes to a plain file with fdatasync after each batch.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../common/index.js';
import { DirLog } from '../compaction/index.js';

export interface AppendFigures {
  embedded_append_records_per_s: number;
  raw_fsync_append_records_per_s: number;
}

export async function benchAppend(dir: string, records: number, batch: number): Promise<AppendFigures> {
  const value = Buffer.from(JSON.stringify({ op: 'c', schema_id: '0123456789abcdef', after: { id: '1', name: 'item 1', price: '0.01' }, source: { lsn: '0/16B3748', txid: '758', commit_time: '2026-11-27T02:28:22.299527Z', snapshot: false } }));
  const log = new DirLog({ path: join(dir, 'append-log'), logger: silentLogger, cleanerIntervalMs: 3_600_000 });
  await log.ensureTopics(['bench']);
  let t0 = performance.now();
  for (let n = 0; n < records; n += batch) {
    await log.append(Array.from({ length: Math.min(batch, records - n) }, (_, i) => ({ topic: 'bench', key: Buffer.from(`{"id":"${n + i}"}`), value })));
  }
  const embedded = records / ((performance.now() - t0) / 1000);
  await log.close();

  const fh = await open(join(dir, 'raw-append'), 'a');
  t0 = performance.now();
  for (let n = 0; n < records; n += batch) {
    const parts: Buffer[] = [];
    for (let i = 0; i < Math.min(batch, records - n); i++) parts.push(Buffer.from(`{"id":"${n + i}"}`), value);
    await fh.write(Buffer.concat(parts));
    await fh.datasync();
  }
  const raw = records / ((performance.now() - t0) / 1000);
  await fh.close();
  return { embedded_append_records_per_s: Math.round(embedded), raw_fsync_append_records_per_s: Math.round(raw) };
}
