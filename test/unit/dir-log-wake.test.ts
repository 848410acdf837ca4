/**
 * The embedded log wakes its readers on append: with the fallback poll set to a minute, a record
 * appended by another DirLog (as another process would) still reaches a consumer at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/index.js';
import { DirLog, type LogBatch } from '../../compaction/index.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('DirLog: readers wake on append', () => {
  it('delivers an appended record well before the fallback poll', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cdc-wake-'));
    const writer = new DirLog({ path: dir, logger: silentLogger });
    await writer.ensureTopics(['t']);
    await writer.append([{ topic: 't', key: Buffer.from('k0'), value: Buffer.from('v') }]);
    const reader = new DirLog({ path: dir, logger: silentLogger, pollMs: 60_000 });
    const seen: { batch: LogBatch; at: number }[] = [];
    const consumption = await reader.consume({ from: new Map([['t', 0n]]), onBatch: async (batch) => void seen.push({ batch, at: Date.now() }) });
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && seen.flatMap((s) => s.batch.records).length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(1);
    // Let the reader go idle, then append.
    await new Promise((r) => setTimeout(r, 200));
    const appended = Date.now();
    await writer.append([{ topic: 't', key: Buffer.from('k1'), value: Buffer.from('v') }]);
    await until(2);
    const last = seen.at(-1);
    expect(last?.batch.records.at(-1)?.key.toString()).toBe('k1');
    expect((last?.at ?? Infinity) - appended).toBeLessThan(1000);
    await consumption.stop();
    await reader.close();
    await writer.close();
  });
});
