/**
 * Topic names: `<prefix>.<schema>.<table>`. Kafka allows only `[A-Za-z0-9._-]` in a name, so any
 * other character of a PostgreSQL identifier (and `.` and `-` themselves, which would make the
 * name ambiguous) is written as `-` and two hex digits per UTF-8 byte: `my table` → `my-20table`.
 * The usual lower-case names with underscores come through unchanged.
 */
import { ConfigError } from '../common/index.js';

const MAX_TOPIC_LENGTH = 249;

function encodePart(part: string): string {
  let out = '';
  for (const byte of Buffer.from(part, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_]/.test(c) ? c : '-' + byte.toString(16).padStart(2, '0');
  }
  return out;
}

/** The topic that carries the rows of `schema.table`. */
export function tableTopic(prefix: string, schema: string, table: string): string {
  const name = `${prefix}.${encodePart(schema)}.${encodePart(table)}`;
  if (name.length > MAX_TOPIC_LENGTH) {
    throw new ConfigError('TOPIC_NAME_TOO_LONG', `the topic name for table ${schema}.${table} would be ${name.length} characters; Kafka allows ${MAX_TOPIC_LENGTH}`, {
      hint: 'use a shorter --topic-prefix, or rename the table',
    });
  }
  return name;
}

/** The topic that carries the table definitions (schema records) for a prefix. */
export function schemaTopic(prefix: string): string {
  return `${prefix}._schemas`;
}

/** Checks a user-given topic prefix. */
export function validatePrefix(prefix: string): void {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(prefix)) {
    throw new ConfigError('BAD_TOPIC_PREFIX', `topic prefix ${JSON.stringify(prefix)} is not allowed`, {
      hint: 'use letters, digits, "_" and "-" only (for example --topic-prefix cdc)',
    });
  }
}
