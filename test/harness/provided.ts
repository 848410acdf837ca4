/**
 * What the global setup hands to test workers through vitest's `provide`/`inject`. Plain JSON:
 * workers are separate processes, so they get a description of each service, not a handle, and
 * act on it themselves (see control.ts).
 */

import type { KafkaControl, PgControl } from '../../services/index.js';

export type { KafkaControl, PgControl };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL, password inline, to the `postgres` database of a wal_level=logical cluster. */
    pgAdminUrl: string;
    /** Comma-separated `host:port` bootstrap brokers. */
    kafkaBrokers: string;
    /** Set when the cluster is a child process of this run; null for env or container services. */
    pgControl: PgControl | null;
    /** Set when the broker is a child process of this run; null for env or container services. */
    kafkaControl: KafkaControl | null;
  }
}
