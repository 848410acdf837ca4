import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { classifyKafkaError } from '../../compaction/kafka-errors.js';

const { KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError, KafkaJSNonRetriableError } = kafkajs;

/** kafkajs builds protocol errors from Kafka's error table entries. */
const protocol = (type: string, retriable: boolean, code = 0): Error => new KafkaJSProtocolError({ type, code, retriable, message: `${type} message` } as never);

describe('Kafka errors: what a cluster in motion waits out, and what it ends with', () => {
  it('waits out a leader change, even after kafkajs gave up on it', () => {
    const notLeader = protocol('NOT_LEADER_OR_FOLLOWER', true, 6);
    expect(classifyKafkaError(notLeader)).toMatchObject({ retriable: true, newProducer: false, type: 'NOT_LEADER_OR_FOLLOWER' });
    const exhausted = new KafkaJSNumberOfRetriesExceeded(notLeader, { retryCount: 3, retryTime: 2000 });
    expect(exhausted.retriable).toBe(false);
    expect(classifyKafkaError(exhausted)).toMatchObject({ retriable: true, type: 'NOT_LEADER_OR_FOLLOWER' });
  });

  it('takes a new producer id for an out-of-order sequence or an unknown producer, which kafkajs calls final', () => {
    for (const type of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
      const e = new KafkaJSNumberOfRetriesExceeded(protocol(type, false), { retryCount: 0, retryTime: 0 });
      expect(classifyKafkaError(e)).toMatchObject({ retriable: true, newProducer: true, type });
    }
  });

  it('names the broker a connection failed to', () => {
    const e = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9093', { broker: '127.0.0.1:9093' } as never);
    expect(classifyKafkaError(e)).toMatchObject({ retriable: true, broker: '127.0.0.1:9093' });
  });

  it('ends at once on what waiting cannot fix', () => {
    expect(classifyKafkaError(protocol('TOPIC_AUTHORIZATION_FAILED', false, 29)).retriable).toBe(false);
    expect(classifyKafkaError(protocol('MESSAGE_TOO_LARGE', false, 10)).retriable).toBe(false);
    expect(classifyKafkaError(new KafkaJSNonRetriableError('SASL PLAIN authentication failed')).retriable).toBe(false);
    expect(classifyKafkaError(new Error('a bug')).retriable).toBe(false);
  });
});
