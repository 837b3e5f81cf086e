// A simulator's HTTP server on the loopback: listen (port 0 picks a free one), tell its URL, close. Close stops
// accepting, drops idle keep-alive sockets at once and, with dropInFlight, the busy ones too (a simulator that must
// look dead now, as a crashed system would).
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';

export interface LocalServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export interface LocalServerOptions {
  port?: number;
  host?: string;
  dropInFlight?: boolean;
}

export async function serveLocal(listener: RequestListener, options: LocalServerOptions = {}): Promise<LocalServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        if (options.dropInFlight) server.closeAllConnections();
        else server.closeIdleConnections();
      }),
  };
}

/** serveLocal for a Hono app's fetch. */
export function serveFetch(fetch: (request: Request) => Response | Promise<Response>, options: LocalServerOptions = {}): Promise<LocalServer> {
  const listener = getRequestListener(fetch);
  return serveLocal((req, res) => void listener(req, res), options);
}
