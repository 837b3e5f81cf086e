// Composes a hub process from its configuration: database, queue, outbox relay and consumers, HTTP server; and shuts it down in order.
import { getRequestListener, type ServerType } from '@hono/node-server';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ConfigError, type Config } from './config.ts';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from './http/app.ts';
import { answerClientError, answerRequestError } from './http/server-errors.ts';
import type { AppEnv } from './http/context.ts';
import { registerAllRoutes } from './http/routes/index.ts';
import { backgroundFailureReporter, createMetrics, type Metrics } from './observability/metrics.ts';
import type { Logger } from './observability/logger.ts';
import { createQueue } from './queue/index.ts';
import { OutboxRelay, processOutbox, type OutboxHandler } from './queue/outbox.ts';
import type { Queue, Worker } from './queue/queue.ts';
import { openDatabase } from './storage/index.ts';
import { openLocalChannel } from './storage/local-channel.ts';
import { startHubServices, type HubServices } from './hub/services.ts';
import { registeredOutboxConsumers, registeredPlugins, type HubPlugin, type RunningPlugin } from './plugins.ts';
import type { Db } from './storage/db.ts';

/** A module that consumes an outbox topic (referential change events, adapter pushes…) registers one of these. */
export interface OutboxConsumer {
  topic: string;
  handler: OutboxHandler<Record<string, unknown>>;
  concurrency?: number;
}

export interface HubOptions {
  logger: Logger;
  /** Serve HTTP (tabadol serve). */
  http: boolean;
  /** Run the outbox relay and the queue consumers (both serve and worker do). */
  workers: boolean;
  consumers?: OutboxConsumer[];
  /** Modules that add routes to the app (exchange, admin, referentials…) register here. */
  routes?: Array<(app: OpenAPIHono<AppEnv>) => void>;
  /** Test isolation: a Postgres schema and a queue prefix of their own. */
  schema?: string;
  queuePrefix?: string;
  relay?: { pollIntervalMs?: number; redriveAfterMs?: number };
  /** Started after the HTTP server listens (serve only): the demo world, adapters' simulators. */
  plugins?: readonly HubPlugin[];
  /** How often to look for registry changes (keys, conventions, bindings) made by other processes. */
  registryPollMs?: number;
}

export interface Hub {
  config: Config;
  /** What the plugins want the operator to read at start. */
  banners: string[];
  services: HubServices;
  db: Db;
  queue: Queue;
  metrics: Metrics;
  relay: OutboxRelay | undefined;
  /** Base URL when serving HTTP. */
  url: string | undefined;
  close(): Promise<void>;
}

export async function startHub(config: Config, options: HubOptions): Promise<Hub> {
  const { logger } = options;
  mkdirSync(config.DATA_DIR, { recursive: true });
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    schema: options.schema,
    onError: (err) => logger.warn({ err: { message: err.message } }, 'database connection lost; the pool reconnects on the next query'),
  });
  let queue: Queue;
  try {
    queue = createQueue({ redisUrl: config.REDIS_URL, prefix: options.queuePrefix, logger });
  } catch (err) {
    await db.close();
    throw err;
  }
  const metrics = createMetrics({ db, queue });
  const reportBackgroundFailure = backgroundFailureReporter(logger, metrics);
  // The embedded database admits this process only: the admin CLI reaches it through this channel while the hub runs.
  const channel = config.DATABASE_URL ? undefined : await openLocalChannel(db, config.DATA_DIR, logger).catch(async (err: unknown) => {
    await queue.close();
    await db.close();
    throw err;
  });
  let hubServices: HubServices;
  try {
    hubServices = await startHubServices(config, db, logger, { queuePrefix: options.queuePrefix, pollMs: options.registryPollMs, recordExchange: metrics.recordExchange, reportBackgroundFailure });
  } catch (err) {
    await channel?.close();
    await queue.close();
    await db.close();
    throw err;
  }

  let relay: OutboxRelay | undefined;
  const workers: Worker[] = [];
  if (options.workers) {
    for (const consumer of options.consumers ?? registeredOutboxConsumers()) {
      workers.push(
        processOutbox(
          { db, queue, logger, onOutcome: (topic, outcome) => metrics.jobsProcessed.inc({ topic, outcome }) },
          consumer.topic,
          consumer.handler,
          { concurrency: consumer.concurrency },
        ),
      );
    }
    relay = new OutboxRelay({ db, queue, logger, redriveAfterMs: options.relay?.redriveAfterMs ?? config.OUTBOX_REDRIVE_SECONDS * 1000, pollIntervalMs: options.relay?.pollIntervalMs });
    relay.start();
  }

  let draining = false;
  const running: RunningPlugin[] = [];
  let server: ServerType | undefined;
  let url: string | undefined;
  if (options.http) {
    const app = createApp({ config, db, queue, logger, metrics, hub: hubServices, draining: () => draining });
    registerAllRoutes(app);
    for (const register of options.routes ?? []) register(app);
    try {
      server = await new Promise<ServerType>((resolve, reject) => {
        // serve() of @hono/node-server, plus problem+json for what is refused before the app sees it.
        const s = createServer(getRequestListener(app.fetch, { hostname: config.HOST, errorHandler: answerRequestError(logger) }));
        s.on('clientError', answerClientError(logger));
        s.once('error', reject);
        s.listen(config.PORT, config.HOST, () => resolve(s));
      });
    } catch (err) {
      await relay?.stop();
      await Promise.all(workers.map((w) => w.close()));
      await hubServices.close();
      await channel?.close();
      await queue.close();
      await db.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ConfigError(`PORT: ${config.PORT} is already in use on ${config.HOST}`);
      throw err;
    }
    const address = server.address() as AddressInfo;
    url = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST}:${address.port}`;
    const loopback = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST}:${address.port}`;
    for (const plugin of options.plugins ?? registeredPlugins()) {
      try {
        const started = await plugin.start({ config, db, services: hubServices, logger, hubUrl: loopback, reportBackgroundFailure });
        if (started) running.push(started);
      } catch (err) {
        logger.error({ plugin: plugin.name, err: { name: (err as Error).name, message: (err as Error).message } }, 'plugin failed to start');
        throw err;
      }
    }
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      if (server) {
        const s = server;
        // Stop accepting; in-flight requests finish; idle keep-alive sockets go now so close() can resolve.
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        if ('closeIdleConnections' in s) s.closeIdleConnections();
        await closed;
      }
      // One plugin failing to stop must not keep the others, the workers and the database from closing: logged, not thrown.
      await Promise.all(running.map((p) => p.stop().catch((err: unknown) => reportBackgroundFailure('plugin-stop', err))));
      await relay?.stop();
      await Promise.all(workers.map((w) => w.close()));
      await hubServices.close();
      await channel?.close();
      await queue.close();
      await db.close();
    })();
    return closing;
  };

  return { config, banners: running.flatMap((p) => (p.banner ? [p.banner] : [])), services: hubServices, db, queue, metrics, relay, url, close };
}
