// Benchmark server child for bench/http.ts: serves GET /healthz as a bare Hono app or as the real hub, prints its port, stops on SIGTERM or when stdin closes.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import { serveBenchChild } from './lib.ts';

/** The line the parent (bench/http.ts) waits for on stdout: `${readyMarker} <port>`; keep both in step. */
const readyMarker = 'TABADOL_BENCH_READY';

/** Both arms listen on the IPv4 loopback so the load generator never goes through name resolution. */
const host = '127.0.0.1';

interface Running {
  port: number;
  close(): Promise<void>;
}

async function startBare(): Promise<Running> {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' as const }, 200));
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
  };
}

/** `dataDir` is given (and removed) by the parent, so that even a killed server leaves nothing behind; alone, we make our own. */
async function startRealHub(givenDataDir: string | undefined): Promise<Running> {
  const dataDir = givenDataDir ?? mkdtempSync(join(tmpdir(), 'tabadol-bench-'));
  const removeDataDir = (): void => {
    if (givenDataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  const config = loadConfig({
    PORT: '0',
    HOST: host,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DATABASE_URL: process.env['DATABASE_URL'],
    REDIS_URL: process.env['REDIS_URL'],
  });
  const logger = createLogger(config.LOG_LEVEL);
  let hub: Hub;
  try {
    hub = await startHub(config, { logger, http: true, workers: true });
  } catch (err) {
    removeDataDir();
    throw err;
  }
  if (hub.url === undefined) throw new Error('the hub started without an HTTP server');
  const started = hub;
  return {
    port: Number(new URL(hub.url).port),
    close: async () => {
      try {
        await started.close();
      } finally {
        removeDataDir();
      }
    },
  };
}

const arm = process.argv[2];
if (arm !== 'bare' && arm !== 'hub') {
  process.stderr.write('usage: http-server.ts bare|hub [DATA_DIR]\n');
  process.exit(2);
}
serveBenchChild(`http-server (${arm})`, readyMarker, () => (arm === 'bare' ? startBare() : startRealHub(process.argv[3])));
