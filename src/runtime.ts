// Composes a hub process from its configuration: database, queue, outbox relay and consumers, HTTP server; and shuts it down in order.
import { getRequestListener, type ServerType } from '@hono/node-server';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ConfigError, type Config } from './config.ts';
import { createApp } from './http/app.ts';
import { answerClientError, answerRequestError } from './http/server-errors.ts';
import { registerAllRoutes } from './http/routes/index.ts';
import { backgroundFailureReporter, createMetrics, type Metrics } from './observability/metrics.ts';
import type { Logger } from './observability/logger.ts';
import { createQueue } from './queue/index.ts';
import { OutboxRelay, processOutbox } from './queue/outbox.ts';
import type { Queue, Worker } from './queue/queue.ts';
import { openDatabase } from './storage/index.ts';
import { openLocalChannel } from './storage/local-channel.ts';
import { startHubServices, type HubServices } from './hub/services.ts';
import type { HubParts, RunningPlugin } from './plugins.ts';
import type { Db } from './storage/db.ts';
import { SyncEngine } from './sync/engine.ts';
import { syncPolicy } from './sync/policy.ts';
import { adapterDeliveryHandler, startSyncAdapters, type RunningAdapters } from './sync/inbound.ts';
import { webhookRoutes } from './sync/webhook.ts';

export type { OutboxConsumer } from './plugins.ts';

export interface HubOptions extends HubParts {
  logger: Logger;
  /** Serve HTTP (tabadol serve). */
  http: boolean;
  /** Run the outbox relay and the queue consumers (both serve and worker do). */
  workers: boolean;
  /** Test isolation: a Postgres schema and a queue prefix of their own. */
  schema?: string;
  queuePrefix?: string;
  relay?: { pollIntervalMs?: number; redriveAfterMs?: number };
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
  /** The sync engine (push deliveries), when this process runs workers. */
  sync: SyncEngine | undefined;
  /** The sync adapters (pulls, drop folders, ingest), when this process runs workers. */
  syncAdapters: RunningAdapters | undefined;
  /** Base URL when serving HTTP. */
  url: string | undefined;
  close(): Promise<void>;
}

/**
 * What has started, in order, and how to stop it: teardown runs the closers in reverse, every one even when one fails
 * (the first failure is thrown after the rest have run). The one teardown of a hub: on a failed start, on close() and
 * so on a signal (src/cli/program.ts calls close()).
 */
class Closers {
  private readonly stack: Array<{ what: string; close: () => Promise<void> }> = [];

  constructor(private readonly logger: Logger) {}

  push(what: string, close: () => Promise<void>): void {
    this.stack.push({ what, close });
  }

  async closeAll(): Promise<void> {
    let first: { err: unknown } | undefined;
    for (const { what, close } of this.stack.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        this.logger.error({ closing: what, err: { name: (err as Error).name, message: (err as Error).message } }, 'shutdown step failed; the next ones still run');
        first ??= { err };
      }
    }
    if (first) throw first.err;
  }
}

/** Starts the hub in order (database, queue, local channel, exchange services, workers, HTTP server, plugins); a failed step stops what had started. */
export async function startHub(config: Config, options: HubOptions): Promise<Hub> {
  const closers = new Closers(options.logger);
  try {
    return await startParts(config, options, closers);
  } catch (err) {
    await closers.closeAll().catch(() => undefined); // each failure is logged by closeAll; the start's own error is the one to report
    throw err;
  }
}

// Long because it is the hub's start order written out, one step after the other, each pushing its closer: reading
// it top to bottom is reading what a hub starts and in which order (the engine and the adapters are started by helpers).
async function startParts(config: Config, options: HubOptions, closers: Closers): Promise<Hub> {
  const { logger } = options;
  mkdirSync(config.DATA_DIR, { recursive: true });
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    schema: options.schema,
    onError: (err) => logger.warn({ err: { message: err.message } }, 'database connection lost; the pool reconnects on the next query'),
  });
  closers.push('database', () => db.close());
  const queue = createQueue({ redisUrl: config.REDIS_URL, prefix: options.queuePrefix, logger });
  closers.push('queue', () => queue.close());
  const metrics = createMetrics({ db, queue });
  const reportBackgroundFailure = backgroundFailureReporter(logger, metrics);
  // The embedded database admits this process only: the admin CLI reaches it through this channel while the hub runs.
  const channel = config.DATABASE_URL ? undefined : await openLocalChannel(db, config.DATA_DIR, logger);
  if (channel) closers.push('local channel', () => channel.close());
  const hubServices = await startHubServices(config, db, logger, { adapters: options.adapters, referentials: options.referentials, queuePrefix: options.queuePrefix, pollMs: options.registryPollMs, recordExchange: metrics.recordExchange, reportBackgroundFailure });
  closers.push('exchange services', () => hubServices.close());

  let relay: OutboxRelay | undefined;
  let sync: SyncEngine | undefined;
  let syncAdapters: RunningAdapters | undefined;
  if (options.workers) {
    const workers: Worker[] = [];
    closers.push('workers', async () => void (await Promise.all(workers.map((w) => w.close()))));
    for (const consumer of options.consumers ?? []) {
      workers.push(
        processOutbox(
          { db, queue, logger, onOutcome: (topic, outcome) => metrics.jobsProcessed.inc({ topic, outcome }) },
          consumer.topic,
          consumer.handler,
          { concurrency: consumer.concurrency },
        ),
      );
    }
    const started = new OutboxRelay({ db, queue, logger, redriveAfterMs: options.relay?.redriveAfterMs ?? config.OUTBOX_REDRIVE_SECONDS * 1000, pollIntervalMs: options.relay?.pollIntervalMs });
    started.start();
    relay = started;
    closers.push('outbox relay', () => started.stop());
    sync = startSyncEngine(config, options, { db, queue, logger, hubServices, metrics, reportBackgroundFailure });
    const engine = sync;
    closers.push('sync engine', () => engine.stop());
    const adapters = startSyncAdapters(options.syncAdapters ?? [], { db, queue, logger, resolve: (name) => hubServices.referentials.module(name), relay: started, reportBackgroundFailure });
    syncAdapters = adapters;
    closers.push('sync adapters', () => adapters.stop());
  }

  let draining = false;
  const running: RunningPlugin[] = [];
  let url: string | undefined;
  if (options.http) {
    // Stopped after the server has closed: in-flight requests may still reach a plugin (a simulator) until then.
    closers.push('plugins', async () => {
      await Promise.all(
        running.map((p) => p.stop().catch((err: unknown) => reportBackgroundFailure('plugin-stop', err))),
      );
    });
    const app = createApp({ config, db, queue, logger, metrics, hub: hubServices, referentials: hubServices.referentials, draining: () => draining });
    registerAllRoutes(app);
    for (const register of options.routes ?? []) register(app);
    if (options.syncAdapters?.some((a) => a.webhook)) webhookRoutes(options.syncAdapters, () => relay)(app);
    let server: ServerType;
    try {
      server = await new Promise<ServerType>((resolve, reject) => {
        // serve() of @hono/node-server, plus problem+json for what is refused before the app sees it.
        const s = createServer(getRequestListener(app.fetch, { hostname: config.HOST, errorHandler: answerRequestError(logger) }));
        s.on('clientError', answerClientError(logger));
        s.once('error', reject);
        s.listen(config.PORT, config.HOST, () => resolve(s));
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ConfigError(`PORT: ${config.PORT} is already in use on ${config.HOST}`);
      throw err;
    }
    closers.push('HTTP server', async () => {
      draining = true;
      // Stop accepting; in-flight requests finish; idle keep-alive sockets go now so close() can resolve.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await closed;
    });
    const address = server.address() as AddressInfo;
    url = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST}:${address.port}`;
    const loopback = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST}:${address.port}`;
    for (const plugin of options.plugins ?? []) {
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
    draining = true;
    closing ??= closers.closeAll();
    return closing;
  };

  return { config, banners: running.flatMap((p) => (p.banner ? [p.banner] : [])), services: hubServices, db, queue, metrics, relay, sync, syncAdapters, url, close };
}

/** The push side of sync (docs/sync.md), run by every process that runs workers. */
function startSyncEngine(
  config: Config,
  options: HubOptions,
  deps: { db: Db; queue: Queue; logger: Logger; hubServices: HubServices; metrics: Metrics; reportBackgroundFailure: ReturnType<typeof backgroundFailureReporter> },
): SyncEngine {
  const { hubServices } = deps;
  const engine = new SyncEngine({
    db: deps.db,
    queue: deps.queue,
    logger: deps.logger,
    keyring: hubServices.keyring,
    log: hubServices.log,
    findConvention: (consumer, provider, service) => hubServices.conventions.find(consumer, provider, service),
    policy: syncPolicy(config),
    pushTimeoutMs: config.SYNC_PUSH_TIMEOUT_SECONDS * 1000,
    leaseMs: config.SYNC_LEASE_SECONDS * 1000,
    tickMs: config.SYNC_TICK_MS,
    // An adapter's deliver answers its `adapter:<id>` target, beside the handlers given by name.
    handlers: new Map([
      ...Object.entries(options.deliveryHandlers ?? {}),
      ...(options.syncAdapters ?? []).flatMap((a) => {
        const handler = adapterDeliveryHandler(a, deps);
        return handler ? [[a.id, handler] as const] : [];
      }),
    ]),
    reportBackgroundFailure: deps.reportBackgroundFailure,
    onSent: deps.metrics.recordPush,
  });
  engine.start();
  return engine;
}
