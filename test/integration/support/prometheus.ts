/** Reading a `cdc` metrics port from tests: scrape, and pick one sample's value. */

/** The Prometheus text of `http://127.0.0.1:port/metrics`. */
export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** The value of the sample `name{labels}` (labels matched exactly, in any order), or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    const want = Object.entries(labels);
    if (want.length === Object.keys(got).length && want.every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** The metrics port a `cdc` process announced in its `serving metrics` log line. */
export function announcedPort(output: string): number {
  const m = /serving metrics.*?"?port"?[=:](\d+)/.exec(output);
  if (!m) throw new Error(`no "serving metrics" line in:\n${output}`);
  return Number(m[1]);
}

/** GET `path` on the port; the status and the JSON body. */
export async function health(port: number, path = '/healthz'): Promise<{ status: number; body: { live: boolean; ready: boolean; state: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as { live: boolean; ready: boolean; state: string } };
}
