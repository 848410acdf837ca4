/**
 * `cdc config print`: every setting, its resolved value and where it came from (flag, environment,
 * config file or default), secrets as `***`. Each value that is set is checked by the same code the
 * commands use, so a bad value fails here with the same exit-2 message.
 */
import type { Argv } from 'yargs';
import { redact, redactUrl } from '../../common/index.js';
import { parseTableList, validatePgUrl } from '../../source-postgres/index.js';
import { resolveCapture } from '../capture-config.js';
import { loadConfigFile } from '../config-file.js';
import { logLevel, logLocation, metricsPort, prefix, type Env, type StartFlags } from '../config.js';
import { captureOptions, serviceOptions } from '../options.js';
import { securePgUrl } from '../pg-security.js';
import { SETTINGS, unknownVariableMessage, unknownVariables } from '../settings.js';

export const command = 'config <action>';
export const describe = 'print the resolved configuration (secrets redacted)';

interface ConfigFlags extends StartFlags {
  action?: string;
  replica?: string;
  json?: boolean;
}

export function builder(y: Argv): Argv<ConfigFlags> {
  return captureOptions(serviceOptions(y, { pg: true }))
    .positional('action', { type: 'string', choices: ['print'], describe: 'print: show every setting and where it came from' })
    .option('pg', { type: 'string', describe: 'PostgreSQL URL (env CDC_PG_URL)' })
    .option('log', { type: 'string', describe: 'kafka://host:port[,…] or a directory (env CDC_LOG)' })
    .option('tables', { type: 'string' })
    .option('slot', { type: 'string' })
    .option('publication', { type: 'string' })
    .option('topic-prefix', { type: 'string' })
    .option('replica', { type: 'string' })
    .option('json', { type: 'boolean', describe: 'print JSON' }) as unknown as Argv<ConfigFlags>;
}

/** One row of the printout. */
export interface ConfigRow {
  key: string;
  value: string | null;
  from: string;
}

function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Where each setting comes from; `env` is the environment with the file merged under it. */
export function configRows(flags: Record<string, unknown>, env: Env, rawEnv: Env): ConfigRow[] {
  const file = flags['config'] ?? rawEnv['CDC_CONFIG'];
  const fileEnv = typeof file === 'string' && file !== '' ? loadConfigFile(file) : {};
  return SETTINGS.map((s) => {
    const flag = flags[camel(s.key)];
    let value: string | undefined;
    let from: string;
    if (flag !== undefined && flag !== null) {
      // Repeated flags (--row-filter) print as the JSON list they are.
      value = Array.isArray(flag) ? JSON.stringify(flag) : String(flag);
      from = `flag --${s.key}`;
    } else if (rawEnv[s.env] !== undefined && rawEnv[s.env] !== '') {
      value = rawEnv[s.env];
      from = `env ${s.env}`;
    } else if (fileEnv[s.env] !== undefined) {
      value = fileEnv[s.env];
      from = `file ${String(file)}`;
    } else {
      value = env[s.env];
      from = 'default';
    }
    if (value === undefined) return { key: s.key, value: s.fallback === undefined ? null : `(${s.fallback})`, from: 'default' };
    if (s.secret) value = '***';
    else if (s.key === 'pg') value = redactUrl(value);
    return { key: s.key, value: redact(value), from };
  });
}

export async function run(flags: ConfigFlags, env: Env, rawEnv: Env = env): Promise<void> {
  // Check what is set with the commands' own validators (errors exit 2 with the key and the fix).
  const pg = flags.pg ?? env['CDC_PG_URL'];
  if (pg !== undefined) securePgUrl(validatePgUrl(pg), flags, env);
  if ((flags.log ?? env['CDC_LOG']) !== undefined) logLocation(flags.log, env, flags);
  const tables = flags.tables ?? env['CDC_TABLES'];
  if (tables !== undefined) parseTableList(tables);
  logLevel(flags.logLevel, env);
  metricsPort(flags.metricsPort, env);
  prefix(flags.topicPrefix, env);
  resolveCapture(flags, env);
  for (const v of unknownVariables(rawEnv)) process.stderr.write(`warning: ${unknownVariableMessage(v)}\n`);
  const rows = configRows(flags as Record<string, unknown>, env, rawEnv);
  if (flags.json) {
    process.stdout.write(JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, { value: r.value, from: r.from }])), null, 2) + '\n');
    return;
  }
  const width = Math.max(...rows.map((r) => r.key.length));
  const valueWidth = Math.min(60, Math.max(...rows.map((r) => (r.value ?? '-').length)));
  for (const r of rows) process.stdout.write(`${r.key.padEnd(width)}  ${(r.value ?? '-').padEnd(valueWidth)}  ${r.from}\n`);
}
