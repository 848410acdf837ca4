import * as kafka from '../../services/kafka.js';
import * as postgres from '../../services/postgres.js';
import { onProcessEnd, type PgStopMode } from '../../services/index.js';
import type { KafkaControl, PgControl } from './provided.js';

/**
 * Services of a test's own, for fault tests that must not disturb the shared ones: always child
 * processes (whatever the shared ones are), removed by `destroy()` or, failing that, when the
 * worker ends. PostgreSQL costs ~1-2 s to start, Kafka ~5-8 s.
 */

/** A PostgreSQL cluster owned by one test. */
export interface PrivatePostgres {
  /** Superuser URL to its `postgres` database, password inline. */
  adminUrl: string;
  control: PgControl;
  restart(mode?: PgStopMode): Promise<void>;
  stop(mode?: PgStopMode): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** A Kafka broker owned by one test. */
export interface PrivateKafka {
  /** `127.0.0.1:port`. */
  brokers: string;
  control: KafkaControl;
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** Starts a PostgreSQL 15 cluster of the test's own (wal_level=logical, password auth on TCP). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const c = await postgres.startLocalPostgres();
  const unregister = onProcessEnd(() => postgres.destroyPostgresSync(c));
  return {
    adminUrl: postgres.postgresUrl(c),
    control: c,
    restart: (mode) => postgres.restartPostgres(c, mode),
    stop: (mode) => postgres.stopPostgres(c, mode),
    start: () => postgres.startPostgres(c),
    destroy: async () => {
      unregister();
      await postgres.destroyPostgres(c);
    },
  };
}

/** Starts a single-node KRaft broker of the test's own. */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  const c = await kafka.startLocalKafka();
  const unregister = onProcessEnd(() => kafka.destroyKafkaSync(c));
  return {
    brokers: `127.0.0.1:${c.port}`,
    control: c,
    restart: () => kafka.restartKafka(c),
    stop: () => kafka.stopKafka(c),
    start: () => kafka.startKafka(c),
    destroy: async () => {
      unregister();
      await kafka.destroyKafka(c);
    },
  };
}
