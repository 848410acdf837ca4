/**
 * Every setting `cdc` reads, in one table: its flag / config-file key, its environment variable and
 * whether it is a secret. The config file and `cdc config print` are driven by this table, so a new
 * setting is added here once and is then accepted everywhere with the same precedence:
 * flag > environment (CDC_*) > config file > default.
 */

/** One configurable value. */
export interface Setting {
  /** The flag name without `--`, which is also the key in a config file (kebab-case). */
  readonly key: string;
  /** The environment variable that sets it. */
  readonly env: string;
  /** Shown by `cdc config print` when nothing sets it. */
  readonly fallback?: string;
  /** A secret value: never printed, only `***`. */
  readonly secret?: boolean;
  /** A number or boolean is allowed in a config file (written to the env layer as text). */
  readonly scalar?: 'number' | 'boolean' | 'list' | 'map';
}

/** The settings of every command, in the order `cdc config print` shows them. */
export const SETTINGS: readonly Setting[] = [
  { key: 'pg', env: 'CDC_PG_URL' },
  { key: 'pg-password-file', env: 'CDC_PG_PASSWORD_FILE' },
  { key: 'pg-password', env: 'CDC_PG_PASSWORD', secret: true },
  { key: 'pg-ca', env: 'CDC_PG_CA' },
  { key: 'log', env: 'CDC_LOG' },
  { key: 'kafka-tls', env: 'CDC_KAFKA_TLS', fallback: 'false', scalar: 'boolean' },
  { key: 'kafka-ca', env: 'CDC_KAFKA_CA' },
  { key: 'kafka-sasl', env: 'CDC_KAFKA_SASL' },
  { key: 'kafka-user', env: 'CDC_KAFKA_USER' },
  { key: 'kafka-password-file', env: 'CDC_KAFKA_PASSWORD_FILE' },
  { key: 'kafka-password', env: 'CDC_KAFKA_PASSWORD', secret: true },
  { key: 'tables', env: 'CDC_TABLES', fallback: 'every table with a primary key', scalar: 'list' },
  { key: 'slot', env: 'CDC_SLOT', fallback: 'cdc' },
  { key: 'publication', env: 'CDC_PUBLICATION', fallback: 'the slot name' },
  { key: 'topic-prefix', env: 'CDC_TOPIC_PREFIX', fallback: 'cdc' },
  { key: 'exclude-columns', env: 'CDC_EXCLUDE_COLUMNS', fallback: 'none', scalar: 'list' },
  { key: 'mask-columns', env: 'CDC_MASK_COLUMNS', fallback: 'none', scalar: 'list' },
  { key: 'mask-key-file', env: 'CDC_MASK_KEY_FILE' },
  { key: 'mask-key', env: 'CDC_MASK_KEY', secret: true },
  { key: 'row-filter', env: 'CDC_ROW_FILTER', fallback: 'none', scalar: 'map' },
  { key: 'replica', env: 'CDC_REPLICA' },
  { key: 'metrics-port', env: 'CDC_METRICS_PORT', fallback: 'off', scalar: 'number' },
  { key: 'log-level', env: 'CDC_LOG_LEVEL', fallback: 'info' },
  { key: 'log-segment-bytes', env: 'CDC_LOG_SEGMENT_BYTES', scalar: 'number' },
  { key: 'log-cleaner-interval-ms', env: 'CDC_LOG_CLEANER_INTERVAL_MS', scalar: 'number' },
  { key: 'table-poll-ms', env: 'CDC_TABLE_POLL_MS', fallback: '10000', scalar: 'number' },
  { key: 'retry-window-ms', env: 'CDC_RETRY_WINDOW_MS', fallback: '300000', scalar: 'number' },
  { key: 'sqlite-cache-mb', env: 'CDC_SQLITE_CACHE_MB', fallback: '64', scalar: 'number' },
];

/** The setting a config-file key names, accepting camelCase too (`topicPrefix`). */
export function settingByKey(key: string): Setting | undefined {
  const kebab = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  return SETTINGS.find((s) => s.key === kebab);
}

/** The known key closest to a misspelt one, for "did you mean" hints. */
export function closestKey(key: string): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const s of SETTINGS) {
    const d = distance(key.toLowerCase(), s.key);
    if (best === undefined || d < best.d) best = { key: s.key, d };
  }
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return row[b.length] as number;
}

/** `CDC_*` variables that are not settings but are read elsewhere (debugging, tests, benchmarks). */
const OTHER_VARIABLES = /^CDC_(CONFIG|DEBUG|CACHE_DIR|PG_BINDIR|TEST_.*|BENCH_.*)$/;

/** `CDC_*` variables in `env` that no setting reads (typos), each with the closest known name. */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): { name: string; suggestion: string | undefined }[] {
  const known = new Set(SETTINGS.map((s) => s.env));
  return Object.keys(env)
    .filter((name) => name.startsWith('CDC_') && !known.has(name) && !OTHER_VARIABLES.test(name))
    .map((name) => {
      const key = closestKey(name.slice(4).toLowerCase().replace(/_/g, '-'));
      return { name, suggestion: key ? SETTINGS.find((s) => s.key === key)?.env : undefined };
    });
}

/** A warning line for an unknown variable. */
export function unknownVariableMessage(v: { name: string; suggestion: string | undefined }): string {
  return `environment variable ${v.name} is not a cdc setting and is ignored${v.suggestion ? ` (did you mean ${v.suggestion}?)` : ''}`;
}
