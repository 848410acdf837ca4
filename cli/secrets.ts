/**
 * Secrets from files and the environment. A secret read here is registered with the redactor at
 * once, so no later message, log line or `config print` can show it.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, messageOf, registerSecret } from '../common/index.js';
import type { Env } from './env.js';

/** Reads a password file (one line; a trailing newline is not part of the password). */
export function readSecretFile(path: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('SECRET_FILE_UNREADABLE', `cannot read --${key} ${path}: ${messageOf(e)}`, { hint: `check the path and that this user may read it (--${key} or its environment variable)` });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new ConfigError('SECRET_FILE_EMPTY', `--${key} ${path} is empty`, { hint: 'write the password into the file, on one line' });
  registerSecret(secret);
  return secret;
}

/** A password given directly (environment) or as a file; the file wins only when alone. */
export function secretFrom(env: Env, flagFile: string | undefined, valueVar: string, fileVar: string, key: string): string | undefined {
  const file = flagFile ?? env[fileVar];
  const value = env[valueVar];
  if (file !== undefined && file !== '' && value !== undefined && value !== '') {
    registerSecret(value);
    throw new ConfigError('SECRET_TWICE', `both ${valueVar} and --${key} are set`, { hint: `use one of them: unset ${valueVar} or drop --${key}` });
  }
  if (file !== undefined && file !== '') return readSecretFile(file, key);
  if (value !== undefined && value !== '') {
    registerSecret(value);
    return value;
  }
  return undefined;
}

/** Checks that a file (a CA certificate) can be read; returns its text. */
export function readCaFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('CA_FILE_UNREADABLE', `cannot read the CA certificate ${key} ${path}: ${messageOf(e)}`, { hint: `give ${key} the path of a PEM file holding the CA that signed the server certificate` });
  }
}
