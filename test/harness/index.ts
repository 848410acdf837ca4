/**
 * The test-side face of the harness, for test/integration. The run's PostgreSQL and Kafka are
 * started once by global-setup.ts; each test takes its own database, slot and topic names from
 * here. Unit tests may import names.ts directly, and waitFor from services/wait.ts, which pull in
 * no service code.
 */
export { services, type Services } from './services-context.js';
export { createDatabase, type TestDatabase } from './database.js';
export { sql, ident } from './sql.js';
export { uniqueName } from './names.js';
export { waitFor, type WaitOptions } from '../../services/index.js';
export { runCli, runCliToEnd, CLI_MAIN, REPO_ROOT, type CliOptions, type CliProcess, type CliResult } from './cli.js';
export { kafkaClient } from './kafka-client.js';
export {
  restartPostgres,
  stopPostgres,
  startPostgres,
  restartKafka,
  stopKafka,
  startKafka,
  servicesControllable,
} from './control.js';
export { startPrivatePostgres, startPrivateKafka, type PrivatePostgres, type PrivateKafka } from './private.js';
export type { PgStopMode } from '../../services/index.js';
export type { PgControl, KafkaControl } from './provided.js';
export { startProxy, type FaultProxy } from './proxy.js';
