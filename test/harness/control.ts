import { inject } from 'vitest';
import * as kafka from '../../services/kafka.js';
import * as postgres from '../../services/postgres.js';
import type { PgStopMode } from '../../services/index.js';
import type { KafkaControl, PgControl } from './provided.js';
import './provided.js';

/**
 * Stop and start the run's shared services from inside a test. Only for services this run
 * started as child processes; env and container services throw. Another test file may be
 * running at the same time (two forks) and sees the outage too, so a test that breaks a shared
 * service should be one whose neighbours tolerate it, or use startPrivatePostgres/Kafka instead.
 */

/** Stops PostgreSQL (`immediate` = crash) and starts it again on the same port and data. */
export async function restartPostgres(mode: PgStopMode = 'fast'): Promise<void> {
  await postgres.restartPostgres(pgControl('restartPostgres'), mode);
}

/** Stops PostgreSQL; call {@link startPostgres} before the test ends. */
export async function stopPostgres(mode: PgStopMode = 'fast'): Promise<void> {
  await postgres.stopPostgres(pgControl('stopPostgres'), mode);
}

/** Starts PostgreSQL after {@link stopPostgres}; resolves when it accepts connections. */
export async function startPostgres(): Promise<void> {
  await postgres.startPostgres(pgControl('startPostgres'));
}

/** Stops the broker (SIGTERM, SIGKILL after 10 s) and starts it on the same ports and data. */
export async function restartKafka(): Promise<void> {
  await kafka.restartKafka(kafkaControl('restartKafka'));
}

/** Stops the broker; call {@link startKafka} before the test ends. */
export async function stopKafka(): Promise<void> {
  await kafka.stopKafka(kafkaControl('stopKafka'));
}

/** Starts the broker after {@link stopKafka}; resolves when it answers listTopics. */
export async function startKafka(): Promise<void> {
  await kafka.startKafka(kafkaControl('startKafka'));
}

/** Whether the shared services can be stopped and started from tests (both are child processes). */
export function servicesControllable(): { postgres: boolean; kafka: boolean } {
  return { postgres: inject('pgControl') !== null, kafka: inject('kafkaControl') !== null };
}

function pgControl(what: string): PgControl {
  const c = inject('pgControl');
  if (!c) throw notSupported(what, 'PostgreSQL', 'CDC_TEST_PG_URL');
  return c;
}

function kafkaControl(what: string): KafkaControl {
  const c = inject('kafkaControl');
  if (!c) throw notSupported(what, 'Kafka', 'CDC_TEST_KAFKA');
  return c;
}

function notSupported(what: string, service: string, env: string): Error {
  return new Error(
    `${what}: not supported: ${service} came from ${env} or a container, not a child process of this run. ` +
      `Unset ${env} (and CDC_TEST_NO_DOCKER=1 where Docker runs) to get a controllable one.`,
  );
}
