import { request, type RequestOptions } from 'node:http';

/**
 * Whether a Docker engine answers `GET /_ping` within `timeoutMs`. Checked directly, not through
 * testcontainers, because its own discovery retries for far longer than a missing engine deserves.
 * `CDC_TEST_NO_DOCKER=1` skips Docker even where it runs.
 */
export function dockerAnswers(timeoutMs = 1000): Promise<boolean> {
  if (process.env['CDC_TEST_NO_DOCKER'] === '1') return Promise.resolve(false);
  const target = pingTarget(process.env['DOCKER_HOST']);
  if (!target) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function pingTarget(dockerHost: string | undefined): RequestOptions | undefined {
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('tcp://')) {
    const url = new URL(`http://${dockerHost.slice('tcp://'.length)}`);
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  // ssh:// and TLS engines are left to the other options rather than half-supported here.
  return undefined;
}
