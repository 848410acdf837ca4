/** The `table` label of a topic: its name without `<prefix>.` (`public.accounts`, `_schemas`). */
export function tableLabel(topic: string, prefix: string): string {
  return topic.startsWith(prefix + '.') ? topic.slice(prefix.length + 1) : topic;
}

/** The commit time (ms since epoch) in an encoded change value, or undefined (snapshot, tombstone). */
export function commitTimeOf(value: Buffer | null): number | undefined {
  if (value === null) return undefined;
  try {
    const v: unknown = JSON.parse(value.toString('utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const source = (v as { source?: { commit_time?: unknown } }).source;
    if (typeof source?.commit_time !== 'string') return undefined;
    const ms = Date.parse(source.commit_time);
    return Number.isNaN(ms) ? undefined : ms;
  } catch {
    return undefined;
  }
}
