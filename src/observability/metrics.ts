// Prometheus metrics (prom-client): HTTP latency by route, queue depths and outbox lag, in a registry per hub instance.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from '../queue/queue.ts';
import type { Db } from '../storage/db.ts';
import { outboxLag } from '../queue/outbox.ts';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  jobsProcessed: Counter<'topic' | 'outcome'>;
}

export function createMetrics(deps: { db: Db; queue: Queue; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (deps.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tabadol_' });

  const httpDuration = new Histogram({
    name: 'tabadol_http_request_duration_seconds',
    help: 'HTTP request latency by route template, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const jobsProcessed = new Counter({
    name: 'tabadol_jobs_processed_total',
    help: 'Jobs handled by this process, by topic and outcome (done, retry, dead)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'tabadol_queue_depth',
    help: 'Jobs per queue topic and state',
    labelNames: ['topic', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const topic of deps.queue.topics()) {
        try {
          const depth = await deps.queue.depth(topic);
          for (const [state, count] of Object.entries(depth)) this.set({ topic, state }, count);
        } catch {
          // Queue unreachable: /readyz reports it; leave the series out rather than fail the scrape.
        }
      }
    },
  });

  const lagRows = new Gauge({
    name: 'tabadol_outbox_pending_rows',
    help: 'Outbox rows not yet delivered (dead rows excluded)',
    registers: [registry],
  });
  new Gauge({
    name: 'tabadol_outbox_lag_seconds',
    help: 'Age of the oldest undelivered outbox row, 0 when none',
    registers: [registry],
    async collect() {
      try {
        const lag = await outboxLag(deps.db);
        this.set(lag.oldestSeconds);
        lagRows.set(lag.pending);
      } catch {
        // Database unreachable: /readyz reports it.
      }
    },
  });

  return { registry, httpDuration, jobsProcessed };
}
