import * as plt from '@platformatic/kafka';
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

describe('Kafka errors of @platformatic/kafka (the producer): the same verdicts', () => {
  const { ResponseError, MultipleErrors, NetworkError, TimeoutError, AuthenticationError, protocolErrorsCodesById } = plt;
  /** A failed Produce as the library reports it: its response error (one per partition) inside the attempts. */
  const produceFailed = (type: string): Error => {
    const code = Number(Object.entries(protocolErrorsCodesById).find(([, id]) => id === type)?.[0]);
    const response = new ResponseError(0, 9, { '/responses/0/partitionResponses/0': [code, null] }, {});
    return new MultipleErrors('Producing messages failed.', [new MultipleErrors('produce failed 4 times.', [response, response])]);
  };

  it('waits out a leader change and takes a new producer id for a sequence out of step', () => {
    expect(classifyKafkaError(produceFailed('NOT_LEADER_OR_FOLLOWER'))).toMatchObject({ retriable: true, newProducer: false, type: 'NOT_LEADER_OR_FOLLOWER' });
    expect(classifyKafkaError(produceFailed('NOT_ENOUGH_REPLICAS'))).toMatchObject({ retriable: true, type: 'NOT_ENOUGH_REPLICAS' });
    for (const type of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
      expect(classifyKafkaError(produceFailed(type))).toMatchObject({ retriable: true, newProducer: true, type });
    }
  });

  it('waits out a broker out of reach or slow, naming it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9093'), { code: 'ECONNREFUSED' });
    const e = new MultipleErrors('Producing messages failed.', [new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause: refused })]);
    expect(classifyKafkaError(e)).toMatchObject({ retriable: true, broker: '127.0.0.1:9093' });
    // The library calls its own request timeout final; a slow cluster is waited out.
    expect(classifyKafkaError(new TimeoutError('Request timed out.')).retriable).toBe(true);
  });

  it('ends at once on a too-large record, even beside a retriable failure, and on refused credentials or an untrusted CA', () => {
    const mixed = new MultipleErrors('Producing messages failed.', [produceFailed('NOT_LEADER_OR_FOLLOWER'), produceFailed('MESSAGE_TOO_LARGE')]);
    expect(classifyKafkaError(mixed)).toMatchObject({ retriable: false, type: 'MESSAGE_TOO_LARGE' });
    expect(classifyKafkaError(produceFailed('RECORD_LIST_TOO_LARGE'))).toMatchObject({ retriable: false, type: 'RECORD_LIST_TOO_LARGE' });
    // Both arrive wrapped in the connection's retriable NetworkError.
    const auth = new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause: new AuthenticationError('SASL authentication failed.') });
    expect(classifyKafkaError(auth).retriable).toBe(false);
    const tls = new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause: Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }) });
    expect(classifyKafkaError(tls).retriable).toBe(false);
  });
});
