import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, redact } from '../../common/index.js';
import { configFileEnv, withConfigFile } from '../../cli/config-file.js';
import { resolveSinkConfig, resolveStartConfig } from '../../cli/config.js';
import { unknownVariables } from '../../cli/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'cdc-config-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError thrown');
}

describe('configuration precedence: flag > environment > config file > default', () => {
  const yaml = file('cdc.yaml', 'pg: postgres://u:pw@h:5432/db\nlog: kafka://file:9092\nslot: file_slot\npublication: file_pub\ntopic-prefix: filep\nmetrics-port: 9100\nlog-level: warn\n');

  it('takes each value from the highest layer that sets it', () => {
    const env = withConfigFile(yaml, { CDC_SLOT: 'env_slot', CDC_LOG: 'kafka://env:9092' });
    const c = resolveStartConfig({ topicPrefix: 'flagp', log: undefined }, env);
    expect(c.prefix).toBe('flagp'); // flag over file
    expect(c.slot).toBe('env_slot'); // env over file
    expect(c.log).toEqual({ kind: 'kafka', brokers: ['env:9092'] }); // env over file
    expect(c.publication).toBe('file_pub'); // file over default
    expect(c.metricsPort).toBe(9100);
    expect(c.logLevel).toBe('warn');
  });

  it('falls back to defaults', () => {
    const c = resolveStartConfig({ pg: 'postgres://u@h/db', log: '/tmp/x' }, {});
    expect(c).toMatchObject({ slot: 'cdc', publication: 'cdc', prefix: 'cdc', logLevel: 'info', metricsPort: undefined, tables: undefined });
  });

  it('reads JSON, camelCase keys and lists', () => {
    expect(configFileEnv('c.json', '{"topicPrefix":"a","tables":["public.a","s.b"],"kafka-tls":true}')).toEqual({ CDC_TOPIC_PREFIX: 'a', CDC_TABLES: 'public.a,s.b', CDC_KAFKA_TLS: 'true' });
  });
});

describe('validation names the bad key and the fix', () => {
  it('rejects an unknown key in the file with a suggestion', () => {
    const e = configError(() => configFileEnv('cdc.json', '{"slott":"x"}'));
    expect(e.code).toBe('CONFIG_KEY_UNKNOWN');
    expect(e.message).toContain('"slott"');
    expect(e.hint).toContain('"slot"');
    expect(e.exitCode).toBe(2);
  });

  it('rejects a value of the wrong type', () => {
    const e = configError(() => configFileEnv('cdc.yml', 'slot: 12\n'));
    expect(e.code).toBe('CONFIG_VALUE_INVALID');
    expect(e.message).toContain('"slot"');
  });

  it('points out a misspelt CDC_ variable, and leaves the test and debug ones alone', () => {
    expect(unknownVariables({ CDC_SLOTT: 'x', CDC_DEBUG: '1', CDC_TEST_KAFKA: 'k', CDC_PG_URL: 'u', PATH: '/bin' })).toEqual([{ name: 'CDC_SLOTT', suggestion: 'CDC_SLOT' }]);
  });

  it('rejects broken syntax and a missing file', () => {
    expect(configError(() => configFileEnv('cdc.json', '{')).code).toBe('CONFIG_FILE_INVALID');
    expect(configError(() => withConfigFile(join(dir, 'none.json'), {})).code).toBe('CONFIG_FILE_UNREADABLE');
  });

  it('rejects a bad metrics port, log level and SASL mechanism', () => {
    const base = { pg: 'postgres://u@h/db', log: 'kafka://k:9092' };
    expect(configError(() => resolveStartConfig(base, { CDC_METRICS_PORT: 'http' })).message).toContain('--metrics-port');
    expect(configError(() => resolveStartConfig({ ...base, logLevel: 'loud' }, {})).code).toBe('LOG_LEVEL_INVALID');
    expect(configError(() => resolveStartConfig({ ...base, kafkaSasl: 'kerberos' }, {})).code).toBe('KAFKA_SASL_INVALID');
    expect(configError(() => resolveStartConfig({ ...base, kafkaSasl: 'plain', kafkaUser: 'u' }, {})).code).toBe('KAFKA_PASSWORD_MISSING');
    expect(configError(() => resolveStartConfig({ ...base, pg: 'postgres://u@h/db?sslmode=maybe' }, {})).code).toBe('PG_SSLMODE_INVALID');
  });
});

describe('secrets', () => {
  it('puts a password file into the URL and registers it for redaction', () => {
    const pw = file('pw', 's3cr3t/pass%word\n');
    const c = resolveStartConfig({ pg: 'postgres://u@h:5432/db', log: '/tmp/x', pgPasswordFile: pw }, {});
    expect(decodeURIComponent(new URL(c.pgUrl).password)).toBe('s3cr3t/pass%word');
    expect(redact(`oops ${c.pgUrl} s3cr3t/pass%word`)).not.toContain('s3cr3t');
  });

  it('refuses a password given twice', () => {
    const e = configError(() => resolveStartConfig({ pg: 'postgres://u:x@h/db', log: '/tmp/x' }, { CDC_PG_PASSWORD: 'other1' }));
    expect(e.code).toBe('PG_PASSWORD_TWICE');
    expect(e.message).not.toContain('other1');
  });

  it('turns --pg-ca into sslrootcert with sslmode=verify-full', () => {
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
    const u = new URL(resolveStartConfig({ pg: 'postgres://u@h/db', log: '/tmp/x', pgCa: ca }, {}).pgUrl);
    expect(u.searchParams.get('sslmode')).toBe('verify-full');
    expect(u.searchParams.get('sslrootcert')).toBe(ca);
  });

  it('reads Kafka SASL credentials from the environment', () => {
    const c = resolveSinkConfig({ name: 's', log: 'kafka://k:9093', replica: join(dir, 'r.db'), kafkaSasl: 'SCRAM-SHA-512' }, { CDC_KAFKA_USER: 'cdc', CDC_KAFKA_PASSWORD: 'kpass123', CDC_KAFKA_TLS: 'yes' });
    expect(c.log).toMatchObject({ kind: 'kafka', security: { tls: {}, sasl: { mechanism: 'scram-sha-512', username: 'cdc', password: 'kpass123' } } });
    expect(redact('kpass123')).toBe('***');
  });
});
