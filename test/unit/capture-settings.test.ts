/**
 * The capture options as configuration: config files (a row filter map), `cdc config print` (the
 * mask key as ***), the words the next `cdc start` uses for a changed setting, and the reading of
 * a `cdc resnapshot` request.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configRows } from '../../cli/commands/config.js';
import { resolveCapture } from '../../cli/capture-config.js';
import { configFileEnv } from '../../cli/config-file.js';
import { captureRules, parseColumnList, parseMaskList, parseRowFilters } from '../../source-postgres/index.js';
import { captureSettings, describeChanges } from '../../source-postgres/capture-settings.js';
import { parseResnapshotRequest } from '../../source-postgres/resnapshot-request.js';

const dir = mkdtempSync(join(tmpdir(), 'cdc-capture-'));

describe('capture options as configuration', () => {
  it('a config file gives lists and a row-filter map', () => {
    const env = configFileEnv(
      'cdc.yaml',
      "exclude-columns: [users.ssn, users.notes]\nmask-columns: users.email=hash\nrow-filter:\n  public.orders: status <> 'archived'\n  items: qty > 0\n",
    );
    expect(env['CDC_EXCLUDE_COLUMNS']).toBe('users.ssn,users.notes');
    expect(parseRowFilters(env['CDC_ROW_FILTER'] as string)).toEqual([
      { schema: 'public', table: 'orders', where: "status <> 'archived'" },
      { schema: 'public', table: 'items', where: 'qty > 0' },
    ]);
  });

  it('the mask key comes from a file or CDC_MASK_KEY, and config print shows it as ***', () => {
    const file = join(dir, 'mask.key');
    writeFileSync(file, 'file-key-0123456789\n');
    const fromFile = resolveCapture({ maskColumns: 'users.email=hash', maskKeyFile: file }, {});
    expect(fromFile.maskKeyId).toMatch(/^[0-9a-f]{16}$/);
    const env = { CDC_MASK_COLUMNS: 'users.email=hash', CDC_MASK_KEY: 'env-key-9876543210' };
    expect(resolveCapture({}, env).maskKeyId).not.toBe(fromFile.maskKeyId);
    const rows = configRows({}, env, env);
    expect(rows.find((r) => r.key === 'mask-key')).toEqual({ key: 'mask-key', value: '***', from: 'env CDC_MASK_KEY' });
    expect(JSON.stringify(rows)).not.toContain('env-key-9876543210');
    expect(rows.find((r) => r.key === 'mask-columns')?.value).toBe('users.email=hash');
  });
});

describe('what changed since the last start', () => {
  const key = Buffer.from('k');
  const settings = (exclude: string, mask: string, filter: string[], k = key) =>
    captureSettings(captureRules({ exclude: parseColumnList(exclude, 'exclude-columns'), mask: parseMaskList(mask), filters: parseRowFilters(filter), maskKey: k }));

  it('names each column and filter that changed, and a new mask key', () => {
    const before = settings('users.ssn', 'users.email=hash,users.name=redact', ['orders=total > 1']);
    const after = settings('users.score', 'users.email=hash,users.name=null', [], Buffer.from('other'));
    expect(describeChanges(before, after)).toEqual([
      'public.orders: no row filter (was (total > 1))',
      'public.users.score: now excluded',
      'public.users.ssn: no longer excluded',
      'public.users.name: masked with null (was redact)',
      'the mask key changed: hashed columns get new hashes',
    ]);
    expect(describeChanges(before, before)).toEqual([]);
  });
});

describe('a cdc resnapshot request in the WAL', () => {
  it('names tables for one slot; anything else is not a request for it', () => {
    const content = Buffer.from(JSON.stringify({ slot: 'cdc', tables: [{ schema: 'public', table: 'orders' }, { schema: 1 }] }));
    expect(parseResnapshotRequest(content, 'cdc')).toEqual([{ schema: 'public', table: 'orders' }]);
    expect(parseResnapshotRequest(content, 'other')).toBeNull();
    expect(parseResnapshotRequest(Buffer.from('not json'), 'cdc')).toBeNull();
  });
});
