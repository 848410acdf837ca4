/** A logger that also counts every warning and error that carries a `code`, by code. */
import type { Fields, Logger } from '../../common/index.js';
import type { Metrics } from './registry.js';

/** `logger`, with `cdc_errors_total{code}` incremented for each coded warning or error. */
export function countingLogger(logger: Logger, metrics: Metrics): Logger {
  const count = (fields: Fields | undefined): void => {
    const code = fields?.code;
    if (code !== undefined) metrics.errors.inc({ code });
  };
  return {
    debug: (m, f) => logger.debug(m, f),
    info: (m, f) => logger.info(m, f),
    warn: (m, f) => {
      count(f);
      logger.warn(m, f);
    },
    error: (m, f) => {
      count(f);
      logger.error(m, f);
    },
  };
}
