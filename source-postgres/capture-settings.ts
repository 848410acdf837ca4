/**
 * The capture settings a slot last ran with, kept in the log's state topic (key `{kind: "capture",
 * slot}`, compacted to the latest), so that the next `cdc start` can say what changed and what it
 * means for topics and replicas. Secrets are never recorded: the mask key only as a fingerprint.
 *
 * What a change does needs no action: a table whose rules changed has a new definition id
 * (capture-rules.ts), so `cdc start` reads it again and rewrites every key under the new rules,
 * and sinks follow. What it cannot do is take old values out of records already written: they
 * stay in a topic until compaction drops them, and the warning says so.
 */
import type { Logger } from '../common/index.js';
import { readToEnd, stateTopic, type AppendRecord, type TopicLog } from '../compaction/index.js';
import type { CaptureRules, TableRules } from './capture-rules.js';

/** What is recorded: each table's rules (by `schema.table`) and the mask key's fingerprint. */
export interface CaptureSettings {
  readonly tables: Readonly<Record<string, TableRules>>;
  readonly maskKeyId: string | null;
}

export function captureSettings(rules: CaptureRules): CaptureSettings {
  const tables: Record<string, TableRules> = {};
  for (const t of rules.named().sort((a, b) => (`${a.schema}.${a.table}` < `${b.schema}.${b.table}` ? -1 : 1))) {
    const r = rules.tableRules(t.schema, t.table);
    if (r) tables[`${t.schema}.${t.table}`] = r;
  }
  return { tables, maskKeyId: rules.maskKeyId };
}

function settingsKey(slot: string): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'capture', slot }));
}

export function captureSettingsRecord(prefix: string, slot: string, settings: CaptureSettings): AppendRecord {
  return { topic: stateTopic(prefix), key: settingsKey(slot), value: Buffer.from(JSON.stringify(settings)) };
}

/** The settings the slot last ran with; null when none were recorded (a first start, or an older cdc). */
export async function readCaptureSettings(log: TopicLog, prefix: string, slot: string): Promise<CaptureSettings | null> {
  const key = settingsKey(slot);
  let found: CaptureSettings | null = null;
  await readToEnd(log, new Map([[stateTopic(prefix), 0n]]), (batch) => {
    for (const r of batch.records) {
      if (!r.key.equals(key)) continue;
      found = r.value === null ? null : (JSON.parse(r.value.toString('utf8')) as CaptureSettings);
    }
  });
  return found;
}

const none: TableRules = { exclude: [], mask: {}, filter: null };

/** Each difference between two settings, in words (`public.users.email: now excluded`). */
export function describeChanges(before: CaptureSettings, after: CaptureSettings): string[] {
  const out: string[] = [];
  const names = [...new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])].sort();
  for (const name of names) {
    const b = before.tables[name] ?? none;
    const a = after.tables[name] ?? none;
    for (const c of a.exclude.filter((c) => !b.exclude.includes(c))) out.push(`${name}.${c}: now excluded`);
    for (const c of b.exclude.filter((c) => !a.exclude.includes(c))) out.push(`${name}.${c}: no longer excluded`);
    for (const c of [...new Set([...Object.keys(b.mask), ...Object.keys(a.mask)])].sort()) {
      const was = b.mask[c];
      const now = a.mask[c];
      if (was === now) continue;
      out.push(`${name}.${c}: ${now ? `masked with ${now}` : 'no longer masked'}${was ? ` (was ${was})` : ''}`);
    }
    if (b.filter !== a.filter) out.push(`${name}: ${a.filter === null ? 'no row filter' : `row filter (${a.filter})`}${b.filter === null ? ' (was none)' : ` (was (${b.filter}))`}`);
  }
  const hashed = Object.entries(after.tables).some(([, t]) => Object.values(t.mask).includes('hash'));
  if (hashed && before.maskKeyId !== null && after.maskKeyId !== before.maskKeyId) out.push('the mask key changed: hashed columns get new hashes');
  return out;
}

/** The advice that goes with a change of settings (docs/topics.md#changing-what-is-captured). */
export const CHANGE_ADVICE =
  'each table named is read again now, so every key of its topic is rewritten under the new settings and replicas follow ' +
  '(an excluded column is dropped from replica tables, masked values overwrite the old ones, rows now outside a row filter get tombstones, rows now inside are written). ' +
  'Records written before stay in the topic until compaction removes them (Kafka compacts closed segments only), so a replica bootstrapped meanwhile passes through old values; ' +
  'a replica file may keep old values in free pages until VACUUM, or cdc rebuild NAME after compaction';

/**
 * At start: compares the settings with those the slot last ran with, warns with each difference
 * and the advice, and records the new settings (through `append`, which makes them durable).
 * `ranBefore`: the log holds reads of this slot, so no record means it ran with no rules.
 */
export async function reportCaptureChanges(
  o: { log: TopicLog; prefix: string; slot: string; rules: CaptureRules; logger: Logger; ranBefore: boolean },
  append: (records: AppendRecord[]) => Promise<void>,
): Promise<void> {
  const now = captureSettings(o.rules);
  const before = (await readCaptureSettings(o.log, o.prefix, o.slot)) ?? (o.ranBefore ? { tables: {}, maskKeyId: null } : null);
  const empty = Object.keys(now.tables).length === 0;
  if (before === null && empty) return;
  const changes = describeChanges(before ?? { tables: {}, maskKeyId: null }, now);
  if (before !== null && changes.length === 0) return;
  if (before !== null) o.logger.warn(`capture settings changed since the last cdc start of slot ${o.slot}: ${changes.join('; ')}`, { code: 'CAPTURE_SETTINGS_CHANGED', what_to_do: CHANGE_ADVICE });
  else o.logger.info('capture settings', { settings: changes.join('; ') });
  await append([captureSettingsRecord(o.prefix, o.slot, now)]);
}
