/**
 * The catalogue of error codes (common/error-codes.ts), its page (docs/errors.md), the rest of the
 * docs and the raise sites say the same: a code documented, cited or catalogued but not raised, or
 * raised (tsc sees to that) but not documented, fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../common/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const codes = Object.keys(ERROR_CODES).sort();

/** Files under `dir` (relative to the root) whose names end in `ext`. */
function files(dir: string, ext: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), ext) : e.name.endsWith(ext) ? [join(dir, e.name)] : [],
  );
}

/** The rows of docs/errors.md's tables: `code` and meaning. */
function documented(): { code: string; meaning: string }[] {
  const rows: { code: string; meaning: string }[] = [];
  for (const line of read('docs/errors.md').split('\n')) {
    const m = /^\| `([A-Z][A-Z0-9_]*)` \|([^|]*)\|([^|]*)\|/.exec(line);
    if (m) rows.push({ code: m[1] as string, meaning: (m[3] as string).trim() });
  }
  return rows;
}

// Upper-case names the docs cite that are not ours: Kafka protocol errors, a benchmark constant,
// and the placeholder of the error format.
const NOT_OURS = new Set(['NOT_LEADER_OR_FOLLOWER', 'NOT_ENOUGH_REPLICAS', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'IDLE_FLUSH_MS', 'MAX_HELD', 'CODE']);

/** Codes cited in the error form: `[CODE]`, or a backticked name with an underscore that is no CDC_* variable. */
function cited(text: string): string[] {
  const found = [...text.matchAll(/\[([A-Z][A-Z0-9_]+)\]/g), ...text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)].map((m) => m[1] as string);
  return found.filter((c) => !c.startsWith('CDC_') && !NOT_OURS.has(c));
}

describe('error codes', () => {
  it('docs/errors.md has one row per code of the catalogue, with its meaning', () => {
    const rows = documented();
    expect(rows.map((r) => r.code).sort()).toEqual(codes);
    for (const r of rows) expect(r.meaning, r.code).toBe(ERROR_CODES[r.code as keyof typeof ERROR_CODES]);
  });

  it('every code the docs and the README cite exists', () => {
    const pages = ['README.md', ...files('docs', '.md')];
    const unknown = pages.flatMap((p) => cited(read(p)).filter((c) => !(c in ERROR_CODES)).map((c) => `${p}: ${c}`));
    expect(unknown).toEqual([]);
    for (const c of NOT_OURS) expect(c in ERROR_CODES, c).toBe(false);
  });

  it('every code of the catalogue is raised by the product', () => {
    const source = ['common', 'cli', 'compaction', 'sink-sqlite', 'source-postgres']
      .flatMap((d) => files(d, '.ts'))
      .filter((p) => !p.endsWith(join('common', 'error-codes.ts')))
      .map(read)
      .join('\n');
    expect(codes.filter((c) => !source.includes(`'${c}'`))).toEqual([]);
  });
});
