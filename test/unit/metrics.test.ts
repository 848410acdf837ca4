import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/index.js';
import { encodeChange, snapshotDoneRecord, snapshotProgressRecord, type AppendRecord, type ConsumeOptions, type Consumption, type TopicLog } from '../../compaction/index.js';
import { createMetrics, InstrumentedLog, serveMetrics } from '../../cli/metrics/index.js';
import { sample } from '../integration/support/prometheus.js';

/** A log that acks at once (or fails when told) and hands consumers one canned batch. */
function fakeLog(fail = { now: false }): TopicLog {
  return {
    description: 'fake',
    connect: async () => undefined,
    ensureTopics: async () => undefined,
    listTopics: async () => [],
    append: async () => {
      if (fail.now) throw new Error('down');
    },
    endOffsets: async (topics) => new Map(topics.map((t) => [t, 2n])),
    describeTopics: async () => new Map(),
    offsetAtTime: async () => 0n,
    otherWriter: async () => undefined,
    consume: async (o: ConsumeOptions): Promise<Consumption> => {
      await o.onBatch({ topic: 'p.public.t', nextOffset: 2n, records: [
        { topic: 'p.public.t', offset: 0n, key: Buffer.from('k1'), value: change('2026-01-01T00:00:00.000000Z') },
        { topic: 'p.public.t', offset: 1n, key: Buffer.from('k2'), value: null },
      ] });
      return { stop: async () => undefined, done: Promise.resolve(), pause: () => undefined, resume: () => undefined };
    },
    close: async () => undefined,
  };
}

function change(commitTime: string | null): Buffer {
  return encodeChange({ op: 'c', schemaId: 's', after: { id: '1' }, source: { lsn: '0/1', txid: commitTime ? '7' : null, commitTime, snapshot: commitTime === null } });
}

const rec = (topic: string, value: Buffer | null): AppendRecord => ({ topic, key: Buffer.from('key'), value });

describe('InstrumentedLog', () => {
  it('counts records and bytes per table, snapshot rows while snapshotting, and commit-to-log latency', async () => {
    const m = createMetrics();
    let snapshotting = true;
    const log = new InstrumentedLog(fakeLog(), m, { prefix: 'p', snapshotting: () => snapshotting });
    // A chunk's progress marker, a finished table's, and the capture settings a slot ran with
    // (state too, but no table read in full): only the second counts as a table done.
    const progress = snapshotProgressRecord('p', 's', 'public', 't', { after: { id: '2' }, rows: 2, lsn: '0/10', schemaId: 'x', oid: 1 });
    const done = snapshotDoneRecord('p', 's', 'public', 't', '0/10', 'x', 1);
    const settings = rec('p._state', Buffer.from('{"tables":{"public.t":{"exclude":["x"],"mask":{},"filter":null}},"maskKeyId":null}'));
    await log.append([rec('p.public.t', change(null)), rec('p.public.t', change(null)), progress, done, settings]);
    snapshotting = false;
    const recent = new Date(Date.now() - 2000).toISOString().replace('Z', '000Z');
    await log.append([rec('p.public.t', change(recent)), rec('p.public.t', null)]);
    const text = await m.registry.metrics();
    expect(sample(text, 'cdc_log_records_written_total', { table: 'public.t' })).toBe(4);
    expect(sample(text, 'cdc_log_bytes_written_total', { table: 'public.t' })).toBe(12 + 2 * change(null).length + change(recent).length);
    expect(sample(text, 'cdc_snapshot_rows_total', { table: 'public.t' })).toBe(2);
    expect(sample(text, 'cdc_snapshot_tables_done_total')).toBe(1);
    expect(sample(text, 'cdc_commit_to_log_seconds_count')).toBe(1);
    expect(sample(text, 'cdc_commit_to_log_seconds_sum')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'cdc_log_append_seconds_count')).toBe(2);
  });

  it('remembers records of a failed append until one succeeds', async () => {
    const fail = { now: true };
    const log = new InstrumentedLog(fakeLog(fail), createMetrics(), { prefix: 'p' });
    await expect(log.append([rec('p.public.t', null), rec('p.public.t', null)])).rejects.toThrow('down');
    expect(log.unacked).toBe(2);
    fail.now = false;
    await log.append([rec('p.public.t', null)]);
    expect(log.unacked).toBe(0);
  });

  it('counts what a sink reads and applies, and tells when it has caught up', async () => {
    const m = createMetrics();
    const log = new InstrumentedLog(fakeLog(), m, { prefix: 'p', replica: 'r1' });
    expect(log.following).toBe(false);
    await log.consume({ from: new Map([['p.public.t', 0n]]), onBatch: async () => undefined });
    expect(log.following).toBe(true);
    const text = await m.registry.metrics();
    expect(sample(text, 'cdc_log_records_read_total', { table: 'public.t' })).toBe(2);
    expect(sample(text, 'cdc_sink_records_applied_total', { replica: 'r1', table: 'public.t' })).toBe(2);
    expect(sample(text, 'cdc_sink_apply_seconds_count', { replica: 'r1' })).toBe(1);
    expect(sample(text, 'cdc_sink_lag_seconds', { replica: 'r1' })).toBeGreaterThan(3600);
  });
});

describe('the metrics server', () => {
  it('serves /metrics, liveness, readiness and 404', async () => {
    const m = createMetrics();
    let ready = false;
    const server = await serveMetrics(0, m, { state: () => (ready ? 'streaming' : 'starting'), ready: () => ready }, silentLogger);
    try {
      const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/healthz/ready')).status).toBe(503);
      ready = true;
      expect(await (await get('/healthz/ready')).json()).toEqual({ live: true, ready: true, state: 'streaming' });
      const text = await (await get('/metrics')).text();
      expect(sample(text, 'cdc_ready')).toBe(1);
      expect(text).toContain('cdc_process_resident_memory_bytes');
      expect((await get('/nope')).status).toBe(404);
      await expect(serveMetrics(server.port, m, { state: () => '', ready: () => true }, silentLogger)).rejects.toMatchObject({ code: 'METRICS_PORT_IN_USE', exitCode: 2 });
    } finally {
      await server.close();
    }
  });
});
