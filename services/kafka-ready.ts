import { Kafka, logLevel } from 'kafkajs';
import { canConnect } from './ports.js';
import { waitFor } from './wait.js';

/** Splits `host:port,host:port` into kafkajs' broker list. */
export function brokerList(brokers: string): string[] {
  return brokers.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
}

/**
 * One readiness probe: the first broker accepts TCP and answers an admin `listTopics`. A bare TCP
 * accept is not enough, since the listener opens before the KRaft controller has registered it.
 */
export async function brokerAnswers(brokers: string): Promise<boolean> {
  const [first] = brokerList(brokers);
  if (!first) throw new Error(`no brokers in "${brokers}"`);
  const colon = first.lastIndexOf(':');
  if (!(await canConnect(first.slice(0, colon), Number(first.slice(colon + 1))))) {
    throw new Error(`nothing accepts TCP at ${first}`);
  }
  const admin = new Kafka({
    clientId: 'cdc-harness-probe',
    brokers: brokerList(brokers),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Polls until the brokers answer. `gone` lets a caller that owns the process stop waiting as
 * soon as it died, rather than after the whole timeout.
 */
export async function waitForBroker(
  brokers: string,
  opts: { timeoutMs?: number; gone?: () => boolean } = {},
): Promise<void> {
  const outcome = await waitFor(
    async () => {
      if (opts.gone?.()) return 'exited' as const;
      return (await brokerAnswers(brokers)) ? ('ready' as const) : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 250, what: `Kafka broker at ${brokers} to answer listTopics` },
  );
  if (outcome === 'exited') throw new Error(`Kafka broker for ${brokers} exited before it was ready`);
}
