/**
 * What the cluster fault tests check besides "the replica equals the source": that the processes
 * never stopped, and that the log holds each key's changes in commit order (repeats allowed, since
 * delivery is at-least-once, but an older change never re-appears after a newer one unless the
 * newer one follows it again).
 */
import type { CliProcess } from '../../harness/index.js';
import { readTopic } from './topic.js';

/** Tracks whether a process has exited, without waiting for it. */
export function watch(p: CliProcess): { readonly ended: boolean; readonly label: string } {
  let ended = false;
  void p.exited.then(() => (ended = true));
  return {
    get ended() {
      return ended;
    },
    label: `pid ${p.pid}`,
  };
}

/** The source position of a change record; undefined for anything else the topic holds. */
function changeSource(text: string): { lsn?: string; snapshot?: boolean } | undefined {
  try {
    const v = JSON.parse(text) as { source?: { lsn?: string; snapshot?: boolean } } | null;
    return typeof v === 'object' && v !== null ? v.source : undefined;
  } catch {
    return undefined;
  }
}

function lsnOf(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/**
 * Reads `topic` from offset 0 to its end and returns, per key, the places where the log went back
 * in time: a change whose source LSN is below one already seen for the key and which is not a
 * repeat of a record seen before, or a key whose last record is not its newest change. Empty when
 * nothing was reordered.
 */
export async function reorderedKeys(brokers: string, topic: string): Promise<string[]> {
  const seen = new Map<string, { max: bigint; last: bigint; values: Set<string> }>();
  const problems: string[] = [];
  await readTopic(
    topic,
    ({ offset, key, value }) => {
      if (value === null) return;
      const source = changeSource(value);
      if (!source?.lsn || source.snapshot) return;
      const lsn = lsnOf(source.lsn);
      const k = seen.get(key) ?? { max: 0n, last: 0n, values: new Set<string>() };
      seen.set(key, k);
      if (lsn < k.max && !k.values.has(value)) problems.push(`${topic} key ${key} at offset ${offset}: ${source.lsn} after a later change`);
      if (lsn > k.max) k.max = lsn;
      k.last = lsn;
      k.values.add(value);
    },
    brokers,
  );
  // What compaction keeps is the last record of a key: it must be the key's newest change.
  for (const [key, k] of seen) if (k.last !== k.max) problems.push(`${topic} key ${key}: the last record is not the newest change`);
  return problems;
}
