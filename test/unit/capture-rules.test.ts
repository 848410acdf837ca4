/**
 * What to capture: the parsing of --exclude-columns, --mask-columns and --row-filter, and the
 * masking of values. Bad input fails with a ConfigError that names the bad entry and the fix.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/index.js';
import { captureRules, maskValue, parseColumnList, parseMaskList, parseRowFilters } from '../../source-postgres/index.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError thrown');
}

describe('--exclude-columns', () => {
  it('takes schema.table.column and table.column (public), trimmed, empty entries ignored', () => {
    expect(parseColumnList(' app.users.email, users.ssn ,', 'exclude-columns')).toEqual([
      { schema: 'app', table: 'users', column: 'email' },
      { schema: 'public', table: 'users', column: 'ssn' },
    ]);
  });

  it('refuses an entry that names no column, naming the entry and the form', () => {
    const e = configError(() => parseColumnList('users', 'exclude-columns'));
    expect(e.code).toBe('EXCLUDE_COLUMNS_INVALID');
    expect(e.message).toContain('"users"');
    expect(e.hint).toContain('schema.table.column');
    expect(configError(() => parseColumnList('a.b.c.d', 'exclude-columns')).message).toContain('"a.b.c.d"');
    expect(configError(() => parseColumnList('a..c', 'exclude-columns')).message).toContain('"a..c"');
  });
});

describe('--mask-columns', () => {
  it('takes column=hash|null|redact', () => {
    expect(parseMaskList('users.email=hash,app.users.name = redact,users.phone=null')).toEqual([
      { schema: 'public', table: 'users', column: 'email', mode: 'hash' },
      { schema: 'app', table: 'users', column: 'name', mode: 'redact' },
      { schema: 'public', table: 'users', column: 'phone', mode: 'null' },
    ]);
  });

  it('refuses an unknown mode or a missing one, naming the entry and the modes', () => {
    const e = configError(() => parseMaskList('users.email=sha1'));
    expect(e.code).toBe('MASK_COLUMNS_INVALID');
    expect(e.message).toContain('"users.email=sha1"');
    expect(e.hint).toContain('hash, null or redact');
    expect(configError(() => parseMaskList('users.email')).code).toBe('MASK_COLUMNS_INVALID');
  });
});

describe('--row-filter', () => {
  it('takes table=expression, the expression kept whole (commas, = and quotes included)', () => {
    expect(parseRowFilters(["orders=status IN ('open', 'paid') AND region = 'eu'", 'app.t = id > 10'])).toEqual([
      { schema: 'public', table: 'orders', where: "status IN ('open', 'paid') AND region = 'eu'" },
      { schema: 'app', table: 't', where: 'id > 10' },
    ]);
  });

  it('takes the JSON object the config file and CDC_ROW_FILTER give', () => {
    expect(parseRowFilters('{"public.orders": "total > 100"}')).toEqual([{ schema: 'public', table: 'orders', where: 'total > 100' }]);
  });

  it('refuses an entry without a table or an expression, a table named twice, a ; in the expression', () => {
    expect(configError(() => parseRowFilters(['orders'])).code).toBe('ROW_FILTER_INVALID');
    expect(configError(() => parseRowFilters(['orders='])).message).toContain('"orders="');
    expect(configError(() => parseRowFilters(['orders=a > 1', 'public.orders=b > 1'])).message).toContain('public.orders');
    expect(configError(() => parseRowFilters(['orders=true; DROP TABLE x'])).code).toBe('ROW_FILTER_INVALID');
    expect(configError(() => parseRowFilters('{"orders": 5}')).code).toBe('ROW_FILTER_INVALID');
  });
});

describe('capture rules', () => {
  const key = Buffer.from('k'.repeat(32));

  it('refuses a column both excluded and masked', () => {
    const e = configError(() => captureRules({ exclude: parseColumnList('users.email', 'exclude-columns'), mask: parseMaskList('users.email=hash'), filters: [], maskKey: key }));
    expect(e.code).toBe('MASK_COLUMNS_INVALID');
    expect(e.message).toContain('public.users.email');
  });

  it('refuses hash masking without a key, naming both ways to give one', () => {
    const e = configError(() => captureRules({ exclude: [], mask: parseMaskList('users.email=hash'), filters: [], maskKey: undefined }));
    expect(e.code).toBe('MASK_KEY_MISSING');
    expect(e.hint).toContain('--mask-key-file');
    expect(e.hint).toContain('CDC_MASK_KEY');
  });

  it('masks: hash is a keyed HMAC-SHA-256 (equal values, equal hashes), null is NULL, redact a constant, NULL stays NULL', () => {
    const a = maskValue('hash', key, 'alice@example.com');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(maskValue('hash', key, 'alice@example.com')).toBe(a);
    expect(maskValue('hash', Buffer.from('other key'), 'alice@example.com')).not.toBe(a);
    expect(maskValue('null', key, 'x')).toBeNull();
    expect(maskValue('redact', key, 'x')).toBe('***');
    expect(maskValue('hash', key, null)).toBeNull();
    expect(maskValue('redact', key, null)).toBeNull();
  });
});

describe('a column named __proto__', () => {
  it('stays in a row of a table with rules (an assignment would set the prototype and drop it)', () => {
    const rules = captureRules({ exclude: [{ schema: 's', table: 't', column: 'x' }], mask: [], filters: [], maskKey: undefined });
    const row = Object.fromEntries([['__proto__', '1'], ['x', 'gone'], ['b', null]]) as Record<string, string | null>;
    expect(JSON.stringify(rules.row('s', 't', row))).toBe('{"__proto__":"1","b":null}');
  });
});
