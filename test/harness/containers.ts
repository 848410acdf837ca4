import { randomBytes } from 'node:crypto';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { freePort, waitForBroker } from '../../services/index.js';

/** A service running in a container: where to reach it and how to remove it. */
export interface ContainerService {
  url: string;
  stop(): Promise<void>;
}

/** PostgreSQL 15 with wal_level=logical, password auth on TCP (the image's default). */
export async function startPostgresContainer(): Promise<ContainerService> {
  const password = randomBytes(18).toString('hex');
  const container = await new GenericContainer('postgres:15')
    .withEnvironment({ POSTGRES_PASSWORD: password, POSTGRES_HOST_AUTH_METHOD: 'scram-sha-256' })
    .withCommand([
      'postgres',
      '-c', 'wal_level=logical',
      '-c', 'max_replication_slots=64',
      '-c', 'max_wal_senders=64',
      '-c', 'max_connections=200',
      '-c', 'fsync=off',
    ])
    .withExposedPorts(5432)
    // The entrypoint starts a temporary server for init scripts first, hence the second message.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .withStartupTimeout(120_000)
    .start();
  const url = `postgres://postgres:${password}@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  return { url, stop: () => stopContainer(container) };
}

/**
 * apache/kafka in KRaft mode. Kafka hands clients the advertised address, so the host port is
 * chosen up front and bound to the same container port, and advertised as the engine's host.
 */
export async function startKafkaContainer(): Promise<ContainerService> {
  const port = await freePort();
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const container = await new GenericContainer('apache/kafka:3.9.1')
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://0.0.0.0:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_NUM_PARTITIONS: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_LOG_CLEANER_BACKOFF_MS: '1000',
    })
    .withExposedPorts({ container: port, host: port })
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(120_000)
    .start();
  const brokers = `${host}:${port}`;
  try {
    await waitForBroker(brokers);
  } catch (err) {
    await stopContainer(container);
    throw err;
  }
  return { url: brokers, stop: () => stopContainer(container) };
}

async function stopContainer(container: StartedTestContainer): Promise<void> {
  await container.stop({ timeout: 10_000 });
}
