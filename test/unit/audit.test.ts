import { describe, expect, it } from 'vitest';
import { auditTopic, type TopicDescription } from '../../compaction/index.js';

const topic = 'cdc.public.t';
const describe_ = (configs: Record<string, string>, replicationFactor = 3): TopicDescription => ({
  partitions: 1,
  replicationFactor,
  configs: new Map(Object.entries({ 'cleanup.policy': 'compact', 'min.insync.replicas': '2', 'delete.retention.ms': '604800000', 'retention.ms': '604800000', 'retention.bytes': '-1', ...configs })),
});

describe('topic configuration audit', () => {
  it('accepts the configuration cdc start creates, on a replicated cluster', () => {
    expect(auditTopic(topic, describe_({}))).toEqual([]);
  });

  it('rejects a delete cleanup policy with a finite retention: unchanged rows would vanish', () => {
    const f = auditTopic(topic, describe_({ 'cleanup.policy': 'compact,delete' }));
    expect(f).toEqual([expect.objectContaining({ severity: 'error', fix: expect.stringContaining('cleanup.policy=compact') })]);
    expect(auditTopic(topic, describe_({ 'cleanup.policy': 'delete' }))[0]?.severity).toBe('error');
  });

  it('only warns about a delete policy that never deletes', () => {
    const f = auditTopic(topic, describe_({ 'cleanup.policy': 'delete', 'retention.ms': '-1' }));
    expect(f.map((x) => x.severity)).toEqual(['warning']);
  });

  it('rejects min.insync.replicas above the replication factor, warns about 1 of several', () => {
    expect(auditTopic(topic, describe_({ 'min.insync.replicas': '2' }, 1)).map((x) => x.severity)).toContain('error');
    expect(auditTopic(topic, describe_({ 'min.insync.replicas': '1' }, 3)).map((x) => x.severity)).toEqual(['warning']);
  });

  it('warns about a short tombstone retention and unclean leader election', () => {
    const f = auditTopic(topic, describe_({ 'delete.retention.ms': '1000', 'unclean.leader.election.enable': 'true' }));
    const problems = f.map((x) => x.problem).join('\n');
    expect(problems).toMatch(/delete\.retention\.ms=1000/);
    expect(problems).toMatch(/unclean/);
    expect(f).toHaveLength(2);
  });
});
