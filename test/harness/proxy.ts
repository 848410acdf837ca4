/**
 * A TCP proxy for fault tests: put it between `cdc` and PostgreSQL or Kafka, then cut every
 * connection, refuse new ones for a while, or delay every chunk of data.
 */
import net from 'node:net';

export interface FaultProxy {
  /** The port `cdc` should connect to. */
  readonly port: number;
  /** Destroys every open connection (both sides), as a network failure would. */
  cut(): void;
  /** While true, new connections are refused (closed at once) and open ones are cut. */
  setDown(down: boolean): void;
  /** Delays every chunk in both directions by this many milliseconds. */
  setDelay(ms: number): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  let delay = 0;
  let down = false;
  let accepted = 0;
  const pipe = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk) => {
      if (delay === 0) {
        to.write(chunk);
        return;
      }
      // Keep order under delay: pause the source until this chunk is through.
      from.pause();
      setTimeout(() => {
        to.write(chunk);
        from.resume();
      }, delay);
    });
  };
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cut = (): void => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    port,
    cut,
    setDown: (d) => {
      down = d;
      if (d) cut();
    },
    setDelay: (ms) => (delay = ms),
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
