// The hub's OpenAPI document, built from the same app the server runs (no database or queue needed to describe it).
import type { Db } from '../storage/db.ts';
import type { Queue } from '../queue/queue.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createApp, openApiBase } from './app.ts';
import { registerAllRoutes } from './routes/index.ts';

const unused = (): never => {
  throw new Error('not available while generating the OpenAPI document');
};

/** The hub's app with every route registered, on stand-ins for the database and queue (it serves no request). */
export function buildOpenApiApp() {
  const db = { driver: 'pg', query: unused, exec: unused, transaction: unused, ping: unused, close: unused } as unknown as Db;
  const queue = { driver: 'memory', topics: () => [] } as unknown as Queue;
  const app = createApp({
    config: { HUB_ID: 'MA/GOV/HUB/core', BODY_LIMIT_BYTES: 1024 * 1024 },
    db,
    queue,
    logger: createLogger('silent'),
    metrics: createMetrics({ db, queue, defaultMetrics: false }),
  });
  registerAllRoutes(app);
  return app;
}

export function buildOpenApiDocument() {
  return buildOpenApiApp().getOpenAPI31Document(openApiBase);
}
