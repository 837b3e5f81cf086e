// Whether `tabadol serve` can listen where it is told to, asked before it creates anything on disk: a busy port must
// not leave a new DATA_DIR, a migrated database and a hub key behind.
import { createServer } from 'node:net';
import { ConfigError } from '../config.ts';

/**
 * Listens on the port and closes at once; refuses with a ConfigError naming the setting at fault. Port 0 (any free
 * port) cannot be busy. Another process may still take the port before the hub listens: startHub reports that too.
 */
export async function assertCanListen(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ port, host, exclusive: true }, resolve);
    });
  } catch (err) {
    throw listenRefusal(err, port, host);
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** The one line an operator reads when the HTTP server cannot listen. */
export function listenRefusal(err: unknown, port: number, host: string): Error {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new ConfigError(`PORT: ${port} is already in use on ${host}`);
    case 'EACCES':
      return new ConfigError(`PORT: ${port} on ${host} needs privileges this process does not have (choose a PORT above 1023)`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HOST: ${host} is not an address of this machine`);
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}
