/**
 * What only the embedded log must prove itself (Kafka proves it in its own test suites): a crash
 * loses no acknowledged record and leaves a readable log, a torn tail is cut, one writer at a time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/index.js';
import { DirLog, readToEnd, type LogRecord } from '../../compaction/index.js';
import { REPO_ROOT, waitFor } from '../harness/index.js';

const root = mkdtempSync(join(tmpdir(), 'cdc-embedded-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function readAll(log: DirLog, topic: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  await readToEnd(log, new Map([[topic, 0n]]), (b) => void out.push(...b.records));
  return out;
}

const WRITER = `
import { DirLog } from ${JSON.stringify(join(REPO_ROOT, 'dist/compaction/index.js'))};
import { silentLogger } from ${JSON.stringify(join(REPO_ROOT, 'dist/common/index.js'))};
const log = new DirLog({ path: process.argv[2], logger: silentLogger, segmentBytes: 64 * 1024, cleanerIntervalMs: 3600000 });
await log.ensureTopics(['t']);
const pad = 'x'.repeat(700);
for (let n = 0; ; n += 20) {
  await log.append(Array.from({ length: 20 }, (_, j) => ({ topic: 't', key: Buffer.from('k' + ((n + j) % 37)), value: Buffer.from('v' + (n + j) + ' ' + pad) })));
  process.stdout.write('acked ' + (n + 20) + '\\n');
}
`;

describe('embedded log', () => {
  it('loses no acknowledged record when its writer is killed with SIGKILL mid-append, and goes on at the right offset', async () => {
    const dir = join(root, 'crash');
    const script = join(root, 'writer.mjs');
    writeFileSync(script, WRITER);
    for (let run = 0; run < 3; run++) {
      const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise((r) => child.on('exit', r));
      const target = 1500 * (run + 1);
      await waitFor(() => Number(/acked (\d+)\n(?!.*acked)/s.exec(out)?.[1] ?? 0) >= target, { timeoutMs: 60_000, what: `${target} acked records` });
      child.kill('SIGKILL');
      await exited;
      const acked = Number([...out.matchAll(/acked (\d+)/g)].pop()?.[1] ?? 0);

      const log = new DirLog({ path: dir, logger: silentLogger, cleanerIntervalMs: 3600000 });
      try {
        await log.ensureTopics(['t']); // becomes the writer: takes over the dead writer's lock, recovers
        const records = await readAll(log, 't');
        expect(records.length).toBeGreaterThanOrEqual(acked);
        // Each run of the writer starts its numbering at 0 again, after what the log holds.
        records.forEach((r, i) => expect(r.offset).toBe(BigInt(i)));
        const end = (await log.endOffsets(['t'])).get('t');
        expect(end).toBe(BigInt(records.length));
        await log.append([{ topic: 't', key: Buffer.from('after'), value: Buffer.from('crash') }]);
        expect((await log.endOffsets(['t'])).get('t')).toBe(BigInt(records.length + 1));
      } finally {
        await log.close();
      }
    }
  });

  it('cuts a torn tail on open and keeps every whole record', async () => {
    const dir = join(root, 'torn');
    let log = new DirLog({ path: dir, logger: silentLogger });
    await log.ensureTopics(['t']);
    await log.append(Array.from({ length: 10 }, (_, i) => ({ topic: 't', key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })));
    await log.close();
    const topicDir = join(dir, 'topics', 't');
    const segment = readdirSync(topicDir).filter((n) => n.endsWith('.seg')).sort().pop() as string;
    // Half a record: a length that promises more bytes than follow, as a crash mid-write leaves.
    appendFileSync(join(topicDir, segment), Buffer.from([0, 0, 0, 200, 1, 2, 3, 4, 5, 6]));

    log = new DirLog({ path: dir, logger: silentLogger });
    try {
      await log.ensureTopics(['t']);
      await log.append([{ topic: 't', key: Buffer.from('k10'), value: Buffer.from('v10') }]);
      const records = await readAll(log, 't');
      expect(records.map((r) => r.value?.toString())).toEqual(Array.from({ length: 11 }, (_, i) => `v${i}`));
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 11 }, (_, i) => BigInt(i)));
    } finally {
      await log.close();
    }
  });

  it('refuses a second writer while the first lives', async () => {
    const dir = join(root, 'locked');
    const first = new DirLog({ path: dir, logger: silentLogger });
    await first.ensureTopics(['t']);
    const script = join(root, 'second.mjs');
    writeFileSync(script, `import { DirLog } from ${JSON.stringify(join(REPO_ROOT, 'dist/compaction/index.js'))};
import { silentLogger } from ${JSON.stringify(join(REPO_ROOT, 'dist/common/index.js'))};
try { await new DirLog({ path: process.argv[2], logger: silentLogger }).ensureTopics(['t']); console.log('took it'); }
catch (e) { console.log(e.code + ': ' + e.message); }`);
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await new Promise((r) => child.on('exit', r));
    expect(out).toMatch(/^LOG_LOCKED: the embedded log .* is being written by another process \(pid \d+\)/);
    await first.close();
  });
});
