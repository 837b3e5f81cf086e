// Server child for bench/exchange.ts --hop-ms: the network hop between the hub and its PostgreSQL and Redis, played by
// two delaying TCP proxies (test/helpers/tcp-proxy.ts) in a process of their own, so that their waiting never shares
// an event loop with the load generator or the hub. GET /traffic on the printed port tells their ports and counts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTcpProxy } from '../test/helpers/tcp-proxy.ts';
import { readyMarker } from './exchange-world.ts';
import { serveBenchChild } from './lib.ts';

/** What GET /traffic answers: each proxy's port and what crossed it so far. */
export interface HopTraffic {
  delayMs: number;
  postgres: { port: number; roundTrips: number; chunks: number; bytes: number; meanHoldMs: number };
  redis: { port: number; roundTrips: number; chunks: number; bytes: number; meanHoldMs: number };
}

function hostPort(raw: string): { host: string; port: number } {
  const url = new URL(raw);
  return { host: url.hostname, port: Number(url.port || (url.protocol.startsWith('redis') ? 6379 : 5432)) };
}

async function startHop(delayMs: number, databaseUrl: string, redisUrl: string): Promise<{ port: number; close(): Promise<void> }> {
  const postgres = await startTcpProxy(hostPort(databaseUrl), { delayMs });
  const redis = await startTcpProxy(hostPort(redisUrl), { delayMs });
  const control = createServer((req, res) => {
    if (req.url !== '/traffic') {
      res.writeHead(404).end();
      return;
    }
    const body: HopTraffic = { delayMs, postgres: { port: postgres.port, ...postgres.traffic }, redis: { port: redis.port, ...redis.traffic } };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (control.address() as AddressInfo).port,
    close: async () => {
      await Promise.all([postgres.close(), redis.close(), new Promise<void>((resolve) => control.close(() => resolve()))]);
    },
  };
}

const [delay, databaseUrl, redisUrl] = process.argv.slice(2);
const delayMs = Number(delay);
if (!Number.isFinite(delayMs) || delayMs < 0 || !databaseUrl || !redisUrl) {
  process.stderr.write('usage: hop-proxy.ts DELAY_MS DATABASE_URL REDIS_URL\n');
  process.exit(2);
}
serveBenchChild('hop-proxy', readyMarker, () => startHop(delayMs, databaseUrl, redisUrl));
