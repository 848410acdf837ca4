/**
 * The config file (`--config cdc.json`, `cdc.yaml` or `cdc.yml`, or env CDC_CONFIG): a flat object
 * whose keys are the flag names. It becomes the lowest layer under the environment, so the
 * resolvers in config.ts see one `Env` and precedence is flag > environment > file > default.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, messageOf } from '../common/index.js';
import { closestKey, settingByKey } from './settings.js';
import type { Env } from './env.js';

/** Reads and checks a config file; returns its settings as environment variables (CDC_*). */
export function loadConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('CONFIG_FILE_UNREADABLE', `cannot read config file ${path}: ${messageOf(e)}`, { hint: 'check the path given to --config (or CDC_CONFIG)' });
  }
  return configFileEnv(path, text);
}

/** Parses the text of a config file named `path` (the extension picks JSON or YAML). */
export function configFileEnv(path: string, text: string): Record<string, string> {
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  let data: unknown;
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError('CONFIG_FILE_INVALID', `config file ${path} is not valid ${yaml ? 'YAML' : 'JSON'}: ${messageOf(e)}`, {
      hint: yaml ? 'fix the YAML syntax' : 'fix the JSON syntax (or name the file .yaml to write YAML)',
    });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError('CONFIG_FILE_INVALID', `config file ${path} must hold an object of settings`, { hint: 'write it as {"pg": "postgres://…", "log": "kafka://…"}' });
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    const setting = settingByKey(key);
    if (!setting) {
      const near = closestKey(key);
      throw new ConfigError('CONFIG_KEY_UNKNOWN', `config file ${path}: unknown key "${key}"`, {
        hint: near ? `did you mean "${near}"? (cdc config print lists every key)` : 'remove it; cdc config print lists every key',
      });
    }
    if (value === null) continue;
    out[setting.env] = scalarText(path, key, value, setting.scalar);
  }
  return out;
}

function scalarText(path: string, key: string, value: unknown, scalar: 'number' | 'boolean' | 'list' | 'map' | undefined): string {
  // A map (row filters: table → expression) travels as the JSON text its variable holds.
  if (scalar === 'map' && typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')) return JSON.stringify(value);
  if (typeof value === 'string') return value;
  if (scalar === 'number' && typeof value === 'number') return String(value);
  if (scalar === 'boolean' && typeof value === 'boolean') return String(value);
  if (scalar === 'list' && Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  const want = scalar === 'list' ? 'a string or a list of strings' : scalar === 'map' ? 'an object of table: expression' : scalar ? `a ${scalar} or a string` : 'a string';
  throw new ConfigError('CONFIG_VALUE_INVALID', `config file ${path}: "${key}" is ${JSON.stringify(value)}, not ${want}`, { hint: `write "${key}" as ${want}` });
}

/** The environment with a config file underneath it (the environment wins). */
export function withConfigFile(path: string | undefined, env: Env): Env {
  const file = path ?? env['CDC_CONFIG'];
  if (file === undefined || file === '') return env;
  return { ...loadConfigFile(file), ...env };
}
