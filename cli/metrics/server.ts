/**
 * The metrics port: Prometheus text at `/metrics`, liveness at `/healthz` (200 while the process
 * serves requests) and readiness at `/healthz/ready` (200 when streaming or following, else 503).
 * Both health answers carry a small JSON body with the state, for people reading them with curl.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CdcError, messageOf, type Logger } from '../../common/index.js';
import type { Metrics } from './registry.js';

/** How long a scrape waits for on-demand gauges before answering with the values it has. */
const REFRESH_TIMEOUT_MS = 2000;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not refreshed within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** What the server asks the running command. */
export interface HealthSource {
  /** A word for people: `starting`, `snapshot`, `streaming`, `following`, `stopping`. */
  state(): string;
  ready(): boolean;
  /** Refreshes gauges that are computed on demand (lags); failures leave them as they were. */
  beforeScrape?: () => Promise<void>;
}

/** A listening metrics server. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `port` (0 = any free port); rejects with a CdcError (exit 2) when the port is taken. */
export async function serveMetrics(port: number, metrics: Metrics, health: HealthSource, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.up.set(health.ready() ? 1 : 0);
      // A lag that cannot be read in time (PostgreSQL down) must not make the whole scrape time out.
      void withTimeout(health.beforeScrape?.() ?? Promise.resolve(), REFRESH_TIMEOUT_MS)
        .catch((e: unknown) => logger.debug('metrics refresh failed', { error: messageOf(e) }))
        .then(() => metrics.registry.metrics())
        .then(
          (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          (e: unknown) => res.writeHead(500).end(messageOf(e)),
        );
      return;
    }
    if (path === '/healthz' || path === '/healthz/ready') {
      const ready = health.ready();
      const status = path === '/healthz' || ready ? 200 : 503;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ live: true, ready, state: health.state() }) + '\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /healthz/ready\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new CdcError('METRICS_PORT_IN_USE', `cannot serve metrics on port ${port}: ${e.code ?? messageOf(e)}`, {
          exitCode: 2,
          cause: e,
          hint: 'pick a free port with --metrics-port (or CDC_METRICS_PORT)',
        }),
      ),
    );
    server.listen(port, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  logger.info('serving metrics', { port: actual, metrics: `http://localhost:${actual}/metrics`, health: `http://localhost:${actual}/healthz` });
  return {
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
