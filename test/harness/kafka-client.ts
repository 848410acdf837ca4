import { Kafka, logLevel } from 'kafkajs';
import { brokerList } from '../../services/index.js';
import { services } from './services-context.js';

/**
 * A kafkajs client for the run's broker (or `brokers`), for tests to create topics and read what
 * the product wrote. Logs only errors: kafkajs' own retries are noise in test output.
 */
export function kafkaClient(clientId = 'cdc-test', brokers: string = services().kafkaBrokers): Kafka {
  return new Kafka({ clientId, brokers: brokerList(brokers), logLevel: logLevel.ERROR });
}
