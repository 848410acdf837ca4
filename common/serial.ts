/**
 * Runs async jobs one at a time, in call order. Both logs append this way: offsets (embedded) and
 * sequence numbers (Kafka) are assigned in the order appends are called, and a caller may keep
 * several appends in flight (source-postgres/delivery.ts). A failed job does not stop the next:
 * the caller decides what a failure means (Delivery re-appends from the first unacked one).
 */
export class SerialQueue {
  /** The job under way, settled (never rejected): the next one starts after it. */
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `job` after every job queued before it has settled; its own result or failure. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every job queued so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
