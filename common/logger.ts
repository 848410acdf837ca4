/**
 * Diagnostics go to stderr (stdout stays free for command output such as `--json`), one line per
 * event, secrets masked. On a terminal lines are for people; elsewhere they are JSON for machines.
 */
import type { ErrorCode } from './error-codes.js';
import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A line's fields; `code` marks a warning or error of the catalogue (counted by code in metrics). */
export type Fields = { [field: string]: string | number | bigint | boolean | null | undefined; code?: ErrorCode | undefined };

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = order[options.level ?? 'info'];
  const json = options.json ?? !process.stderr.isTTY;
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields: Fields = {}): void => {
    if (order[level] < threshold) return;
    const clean: Record<string, string | number | boolean | null> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      clean[k] = typeof v === 'bigint' ? v.toString() : v;
    }
    if (json) {
      write(redact(JSON.stringify({ time: new Date().toISOString(), level, msg, ...clean })));
    } else {
      const tail = Object.entries(clean).map(([k, v]) => `${k}=${v}`).join(' ');
      write(redact(`cdc ${level.padEnd(5)} ${msg}${tail ? ' ' + tail : ''}`));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that drops everything; for library use and unit tests. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
