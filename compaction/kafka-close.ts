/**
 * Closing Kafka clients without waiting on a cluster that is gone: a client's close can wait for
 * requests in flight or, in kafkajs, for a coordinator, and a command that is stopping (or a
 * reader being replaced) must not hang on that. Positions and acknowledgements are ours, so a
 * client left to the garbage collector after a few seconds loses nothing.
 */

/** How long a closing client is waited for. */
const CLOSE_TIMEOUT_MS = 5000;

/** `closing`, waited for at most CLOSE_TIMEOUT_MS; its failure is not ours to report. */
function atMost(closing: Promise<void>): Promise<void> {
  return Promise.race([closing.catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]);
}

/** Closes a @platformatic/kafka client at once, forced: a close that waited for requests on the wire would wait for the cluster they wait for. */
export function closeSoon(c: { close(force: boolean, callback: () => void): void }): Promise<void> {
  return atMost(new Promise<void>((resolve) => c.close(true, () => resolve())));
}

/** Disconnects a kafkajs client (the admin). */
export function disconnectSoon(c: { disconnect(): Promise<void> }): Promise<void> {
  return atMost(c.disconnect());
}
