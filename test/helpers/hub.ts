// Builds the hub's HTTP app as the server does, on a test database and queue, with logs captured for inspection.
import { Writable } from 'node:stream';
import { createApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { Queue } from '../../src/queue/queue.ts';
import type { Db } from '../../src/storage/db.ts';
import type { AppDeps } from '../../src/http/context.ts';

export function captureLogger(level = 'debug') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** `more`: the deps a test gives besides the core's (the referentials the stewardship routes serve). */
export function buildTestApp(db: Db, queue: Queue, overrides: Partial<AppDeps['config']> = {}, more: Pick<AppDeps, 'referentials'> = {}) {
  const { logger, lines } = captureLogger();
  const metrics = createMetrics({ db, queue, defaultMetrics: false });
  const deps: AppDeps = { config: { HUB_ID: 'MA/GOV/HUB/core', BODY_LIMIT_BYTES: 64 * 1024, ...overrides }, db, queue, logger, metrics, ...more };
  return { app: createApp(deps), logs: lines, deps };
}
