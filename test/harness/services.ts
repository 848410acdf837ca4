import { dockerAnswers } from './docker.js';
import { destroyKafka, destroyKafkaSync, destroyPostgres, destroyPostgresSync, postgresUrl, startLocalKafka, startLocalPostgres } from '../../services/index.js';
import type { KafkaControl, PgControl } from './provided.js';

/** Where a service came from, in the order they are tried. */
export type ServiceSource = 'env' | 'testcontainers' | 'process';

/** A service for this run: its address, its control info if we own the process, how to end it. */
export interface RunningService<C> {
  /** PostgreSQL: superuser URL. Kafka: comma-separated host:port brokers. */
  address: string;
  source: ServiceSource;
  control: C | null;
  stop(): Promise<void>;
  /** Synchronous cleanup for `process.on('exit')`; a no-op where the engine or the env owns it. */
  stopSync(): void;
}

// testcontainers is imported only when an engine answers: it is heavy and pointless otherwise.
let docker: Promise<boolean> | undefined;
function useDocker(): Promise<boolean> {
  docker ??= dockerAnswers();
  return docker;
}

const noop = (): void => undefined;

/** PostgreSQL from `CDC_TEST_PG_URL`, else a postgres:15 container, else a child-process cluster. */
export async function startPostgresService(): Promise<RunningService<PgControl>> {
  const fromEnv = process.env['CDC_TEST_PG_URL'];
  if (fromEnv) return { address: fromEnv, source: 'env', control: null, stop: async () => undefined, stopSync: noop };
  if (await useDocker()) {
    const { startPostgresContainer } = await import('./containers.js');
    const c = await startPostgresContainer();
    return { address: c.url, source: 'testcontainers', control: null, stop: c.stop, stopSync: noop };
  }
  const c = await startLocalPostgres();
  return {
    address: postgresUrl(c),
    source: 'process',
    control: c,
    stop: () => destroyPostgres(c),
    stopSync: () => destroyPostgresSync(c),
  };
}

/** Kafka from `CDC_TEST_KAFKA`, else an apache/kafka container, else a child-process broker. */
export async function startKafkaService(): Promise<RunningService<KafkaControl>> {
  const fromEnv = process.env['CDC_TEST_KAFKA'];
  if (fromEnv) return { address: fromEnv, source: 'env', control: null, stop: async () => undefined, stopSync: noop };
  if (await useDocker()) {
    const { startKafkaContainer } = await import('./containers.js');
    const c = await startKafkaContainer();
    return { address: c.url, source: 'testcontainers', control: null, stop: c.stop, stopSync: noop };
  }
  const c = await startLocalKafka();
  return {
    address: `127.0.0.1:${c.port}`,
    source: 'process',
    control: c,
    stop: () => destroyKafka(c),
    stopSync: () => destroyKafkaSync(c),
  };
}
