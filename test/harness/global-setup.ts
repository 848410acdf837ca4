import type { TestProject } from 'vitest/node';
import './provided.js';
import type { KafkaControl, PgControl } from './provided.js';
import { startKafkaService, startPostgresService, type RunningService } from './services.js';

/**
 * vitest globalSetup of the `integration` project: one PostgreSQL and one Kafka for the whole run,
 * started in parallel, handed to workers with `provide`, and torn down by the returned function.
 * A process that exits without teardown (an error in vitest itself) still kills what we started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pg, kafka] = await Promise.allSettled([timed('postgres', startPostgresService), timed('kafka', startKafkaService)]);
  const started = [pg, kafka].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (pg.status === 'rejected' || kafka.status === 'rejected') {
    await Promise.allSettled(started.map((s) => s.stop()));
    const errors = [pg, kafka].flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []));
    throw errors.length === 1 ? errors[0] : new AggregateError(errors, 'test services failed to start');
  }
  const services: RunningService<PgControl | KafkaControl>[] = [pg.value, kafka.value];
  const lastResort = (): void => services.forEach((s) => s.stopSync());
  // Prepended: vitest's own exit listener calls process.exit() again, which skips later listeners.
  process.prependListener('exit', lastResort);

  project.provide('pgAdminUrl', pg.value.address);
  project.provide('kafkaBrokers', kafka.value.address);
  project.provide('pgControl', pg.value.control);
  project.provide('kafkaControl', kafka.value.control);

  return async () => {
    process.off('exit', lastResort);
    const results = await Promise.allSettled(services.map((s) => s.stop()));
    const failed = results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []));
    if (failed.length > 0) throw new AggregateError(failed, 'test services failed to stop');
  };
}

async function timed<C>(name: string, start: () => Promise<RunningService<C>>): Promise<RunningService<C>> {
  const t0 = Date.now();
  const s = await start();
  // One line per service: where it came from and how long it took, for reading slow CI runs.
  console.log(`[harness] ${name} ready from ${s.source} at ${redact(s.address)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return s;
}

function redact(address: string): string {
  return address.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
