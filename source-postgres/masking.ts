/**
 * Masking a value before it is written to the log. `hash` is HMAC-SHA-256 keyed with the operator's
 * secret, so equal values give equal hashes (joins and GROUP BY still work on the replica) while a
 * dictionary of likely values cannot be hashed without the key. `null` and `redact` keep nothing.
 * A NULL stays NULL in every mode: there is no value to hide, and a replica keeps its meaning.
 */
import { createHmac } from 'node:crypto';
import type { MaskMode } from './capture-options.js';

/** What `redact` writes in place of a value. */
export const REDACTED = '***';

/** The masked form of a value as PostgreSQL prints it (text output; bytea as `\x…` hex). */
export function maskValue(mode: MaskMode, key: Buffer | undefined, value: string | null): string | null {
  if (value === null || mode === 'null') return null;
  if (mode === 'redact') return REDACTED;
  // The key is checked when the rules are built (captureRules); this only guards the types.
  return createHmac('sha256', key ?? Buffer.alloc(0)).update(value, 'utf8').digest('hex');
}

/**
 * A fingerprint of the mask key that reveals nothing of it (an HMAC of a fixed text), so the
 * log can record that the key changed, and a table hashed with the old key be read again.
 */
export function maskKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('cdc mask key id').digest('hex').slice(0, 16);
}
