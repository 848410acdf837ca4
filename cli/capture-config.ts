/**
 * The capture options of `cdc start`: `--exclude-columns`, `--mask-columns`, `--mask-key-file`
 * (or CDC_MASK_KEY), `--row-filter`. The mask key is a secret: registered with the redactor as it
 * is read (secrets.ts), recorded in the log only as a fingerprint, shown by `config print` as ***.
 */
import { captureRules, parseColumnList, parseMaskList, parseRowFilters, type CaptureRules } from '../source-postgres/index.js';
import type { Env } from './config.js';
import { secretFrom } from './secrets.js';

/** The flags, as yargs parses them. */
export interface CaptureFlags {
  excludeColumns?: string;
  maskColumns?: string;
  maskKeyFile?: string;
  /** `table=expression`, once per table. */
  rowFilter?: string[];
}

/** The validated rules; flag > environment (and config file, merged under it) as everywhere. */
export function resolveCapture(flags: CaptureFlags, env: Env): CaptureRules {
  const exclude = flags.excludeColumns ?? env['CDC_EXCLUDE_COLUMNS'];
  const mask = parseMaskList(flags.maskColumns ?? env['CDC_MASK_COLUMNS'] ?? '');
  const filters = flags.rowFilter && flags.rowFilter.length > 0 ? flags.rowFilter : env['CDC_ROW_FILTER'];
  // The key is read only when something is hashed: a key lying around unused is no error.
  const key = mask.some((m) => m.mode === 'hash') ? secretFrom(env, flags.maskKeyFile, 'CDC_MASK_KEY', 'CDC_MASK_KEY_FILE', 'mask-key-file') : undefined;
  return captureRules({
    exclude: parseColumnList(exclude ?? '', 'exclude-columns'),
    mask,
    filters: filters === undefined || filters === '' ? [] : parseRowFilters(filters),
    maskKey: key === undefined ? undefined : Buffer.from(key, 'utf8'),
  });
}
