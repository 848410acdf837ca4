/** Metrics and health for the long-running commands; see docs/metrics.md. */
export { createMetrics, type Metrics } from './registry.js';
export { InstrumentedLog } from './instrumented-log.js';
export { serveMetrics, type HealthSource, type MetricsServer } from './server.js';
export { slotLag } from './slot-lag.js';
export { refreshSinkLag } from './sink-lag.js';
export { countingLogger } from './counting-logger.js';
