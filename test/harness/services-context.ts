import { inject } from 'vitest';
import './provided.js';

/** Addresses of the run's services, as the integration project's global setup provided them. */
export interface Services {
  /** Superuser URL, password inline, to the `postgres` database of a wal_level=logical cluster. */
  pgAdminUrl: string;
  /** Comma-separated `host:port` bootstrap brokers. */
  kafkaBrokers: string;
}

/** The run's services; throws outside the `integration` project, which alone starts them. */
export function services(): Services {
  const pgAdminUrl = inject('pgAdminUrl');
  const kafkaBrokers = inject('kafkaBrokers');
  if (!pgAdminUrl || !kafkaBrokers) {
    throw new Error('no test services: this file must run in the vitest "integration" project (test/integration/)');
  }
  return { pgAdminUrl, kafkaBrokers };
}
