export { CdcError, ConfigError, isRetriable, messageOf } from './errors.js';
export type { CdcErrorOptions, ExitCode } from './errors.js';
export { redact, redactUrl, registerSecret, registerUrlSecrets } from './redact.js';
export { parseLsn, formatLsn } from './lsn.js';
export { retry, sleep } from './retry.js';
export type { RetryOptions } from './retry.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel, Fields } from './logger.js';
export { crashPoint } from './crash.js';
