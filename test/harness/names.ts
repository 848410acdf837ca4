import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * A name no other call returns, usable unquoted as a PostgreSQL identifier, a replication slot
 * name and a Kafka topic name: lowercase `[a-z0-9_]`, at most 50 characters.
 *
 * Unique across parallel workers and across runs sharing one service (`CDC_TEST_PG_URL`): the pid
 * separates processes, the counter separates calls, the random tail separates runs and threads.
 */
export function uniqueName(prefix: string): string {
  let clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 24);
  // Identifiers must not start with a digit; an empty prefix would leave a leading underscore.
  if (!/^[a-z]/.test(clean)) clean = `x${clean}`;
  counter += 1;
  const tail = `${process.pid.toString(36)}_${counter.toString(36)}_${randomBytes(3).toString('hex')}`;
  return `${clean}_${tail}`;
}
