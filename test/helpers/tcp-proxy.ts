// A TCP proxy for tests: put it in front of Postgres or Redis and cut() it to simulate losing the service, without stopping it.
import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** e.g. url('redis') → 'redis://127.0.0.1:<port>', url('postgres', '/db') → 'postgres://127.0.0.1:<port>/db'. */
  url(protocol: string, path?: string): string;
  /** Destroys every open connection and drops new ones until restore(). */
  cut(): void;
  /** Connections dropped on arrival while cut: each one is a client that noticed the cut and tried to reconnect. */
  readonly refused: number;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  let refused = 0;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Errors are expected when either side is destroyed; the 'close' handling above is all we need.
    socket.on('error', () => undefined);
  };

  const server = createServer((client) => {
    track(client);
    // Accept-then-destroy rather than closing the listener: the port stays ours, so restore() cannot fail with EADDRINUSE.
    if (isCut) {
      refused += 1;
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp proxy: unexpected server address');
  const port = address.port;

  const cut = (): void => {
    isCut = true;
    for (const socket of sockets) socket.destroy();
  };

  return {
    port,
    url: (protocol, path = '') => `${protocol}://127.0.0.1:${port}${path}`,
    cut,
    get refused() {
      return refused;
    },
    restore: () => {
      isCut = false;
    },
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
