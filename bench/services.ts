/**
 * The services a bench run measures against: the ones named on the command line (or in
 * CDC_BENCH_PG_URL / CDC_BENCH_KAFKA), else started here with services/ (as the tests do), so a fresh
 * clone needs nothing running: PostgreSQL from the machine's server binaries, Kafka in KRaft mode
 * from the cached Maven jars. Both are torn down at the end, and at exit if the bench dies.
 */
import { destroyKafka, destroyKafkaSync, destroyPostgres, destroyPostgresSync, onProcessEnd, pgBindir, postgresUrl, startLocalKafka, startLocalPostgres } from '../services/index.js';

/** A running service and how to end it when we own it. */
export interface BenchService {
  /** PostgreSQL: superuser URL. Kafka: `host:port`. */
  address: string;
  /** Where it came from, for the report. */
  origin: 'given' | 'started';
  stop(): Promise<void>;
}

/** The named PostgreSQL, else a throwaway cluster (wal_level=logical, fsync off, as in the tests). */
export async function benchPostgres(given: string | undefined): Promise<BenchService> {
  if (given) return { address: given, origin: 'given', stop: async () => undefined };
  const c = await startLocalPostgres();
  const unregister = onProcessEnd(() => destroyPostgresSync(c));
  return { address: postgresUrl(c), origin: 'started', stop: async () => (unregister(), await destroyPostgres(c)) };
}

/** The named broker, else a single-node KRaft broker from the jars (fetched with Maven once). */
export async function benchKafka(given: string | undefined): Promise<BenchService> {
  if (given) return { address: given, origin: 'given', stop: async () => undefined };
  const c = await startLocalKafka();
  const unregister = onProcessEnd(() => destroyKafkaSync(c));
  return { address: `127.0.0.1:${c.port}`, origin: 'started', stop: async () => (unregister(), await destroyKafka(c)) };
}

/** A PostgreSQL client binary (pg_recvlogical), from the same search the harness uses for initdb. */
export function pgClientBinary(name: string): string {
  try {
    return `${pgBindir()}/${name}`;
  } catch {
    return name; // On PATH, as on a machine with only the client package and a given server.
  }
}
