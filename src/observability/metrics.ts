// Prometheus metrics (prom-client): HTTP latency by route, exchanges (by service, consumer, outcome and problem code,
// latencies, quota use), message-log and outbox lag, queue depths, in a registry per hub instance. Under a supervisor
// (`serve --processes N`, cluster-metrics.ts) the processes' registries are summed, except the gauges: each
// reads state the processes share (PostgreSQL, Redis), so their cluster value is the max, never N times the truth.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from '../queue/queue.ts';
import type { Db } from '../storage/db.ts';
import type { Logger } from './logger.ts';
import { outboxLag } from '../queue/outbox.ts';
import { logLag, type LogLag } from '../message-log/lag.ts';
import { subscriptionStatuses } from '../sync/status.ts';
import { BucketHistogram } from './bucket-histogram.ts';
import { clusterMetricsText } from './cluster-metrics.ts';

/** One answered exchange, as the pipeline reports it. Nulls: not known (refused before it was). */
export interface ExchangeRecord {
  /** A service the directory binds, or `meta`; null for anything else (label values stay bounded). */
  service: string | null;
  /** The caller, once its signature verified. */
  consumer: string | null;
  /** The convention applied, its quota per window and the calls counted in the current window (when counted). */
  convention: { id: string; quota: number; used: number | undefined } | null;
  status: number;
  /** The protocol's problem code when the hub refused or failed, else null. */
  problem: string | null;
  seconds: number;
  /** Time spent waiting for the provider, when it was called. */
  providerSeconds: number | null;
}

/** ok: the provider answered 2xx/3xx; provider-error: it answered 4xx/5xx itself; provider-failure: unreachable, late
 * or an answer off its contract; hub-failure: the hub's own storage or a bug; refused: a protocol check said no. */
export type ExchangeOutcome = 'ok' | 'provider-error' | 'provider-failure' | 'hub-failure' | 'refused';

const providerFailures = new Set(['provider-unavailable', 'provider-timeout', 'provider-response-invalid']);
const hubFailures = new Set(['internal', 'database-unavailable', 'queue-unavailable']);

export function exchangeOutcome(record: Pick<ExchangeRecord, 'status' | 'problem'>): ExchangeOutcome {
  if (record.problem === null) return record.status < 400 ? 'ok' : 'provider-error';
  if (providerFailures.has(record.problem)) return 'provider-failure';
  if (hubFailures.has(record.problem)) return 'hub-failure';
  return 'refused';
}

export interface Metrics {
  registry: Registry;
  /** What /metrics serves: this registry, or under a supervisor every process's, aggregated. */
  exposition(): Promise<string>;
  /** Observed on every request: a BucketHistogram (prom-client's children cost too much there). */
  httpDuration: BucketHistogram<'method' | 'route' | 'status'>;
  jobsProcessed: Counter<'topic' | 'outcome'>;
  /** Work done after an answer or on a timer that failed (its caller's answer stands): see backgroundFailureReporter. */
  backgroundFailures: Counter<'task'>;
  /** The exchange pipeline's one report per answered exchange. */
  recordExchange(record: ExchangeRecord): void;
  /** The sync engine's one report per push sent (a batch of deliveries): outcome, and each delivered change's lag. */
  recordPush(subscriptionId: string, result: { ok: boolean }, deliveries: ReadonlyArray<{ changeAt: Date }>): void;
}

// Long because it declares every metric of a process in one registry (each a few lines of name, help and labels);
// the sync metrics, which read PostgreSQL at each scrape, are their own function (syncMetrics).
export function createMetrics(deps: { db: Db; queue: Queue; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (deps.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tabadol_' });

  const httpDuration = new BucketHistogram({
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

  const backgroundFailures = new Counter({
    name: 'tabadol_background_failures_total',
    help: 'Background tasks that failed (numbering the change feed, cleanups), by task; each is also logged',
    labelNames: ['task'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'tabadol_queue_depth',
    help: 'Jobs per queue topic and state',
    labelNames: ['topic', 'state'] as const,
    registers: [registry],
    aggregator: 'max',
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
    aggregator: 'max',
  });
  new Gauge({
    name: 'tabadol_outbox_lag_seconds',
    help: 'Age of the oldest undelivered outbox row, 0 when none',
    registers: [registry],
    aggregator: 'max',
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

  const recordPush = syncMetrics(registry, deps.db);

  const exchanges = new Counter({
    name: 'tabadol_exchanges_total',
    help: 'Exchanges answered, by provider service, consumer, outcome (ok, provider-error, provider-failure, hub-failure, refused) and problem code (none when no problem)',
    labelNames: ['service', 'consumer', 'outcome', 'problem'] as const,
    registers: [registry],
  });
  const latencyBuckets = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  const exchangeDuration = new Histogram({
    name: 'tabadol_exchange_duration_seconds',
    help: 'Exchange latency in the hub, from the request received to the answer logged and signed, by provider service',
    labelNames: ['service'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const providerDuration = new Histogram({
    name: 'tabadol_provider_duration_seconds',
    help: "Time waiting for the provider's answer (the forward alone), by provider service",
    labelNames: ['service'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const quotaUsed = new Gauge({
    name: 'tabadol_quota_window_used',
    help: "Calls counted in the convention's current quota window, as of this process's last exchange under it",
    labelNames: ['convention'] as const,
    registers: [registry],
    aggregator: 'max',
  });
  const quotaLimit = new Gauge({
    name: 'tabadol_quota_window_limit',
    help: "The convention's quota: calls allowed per window",
    labelNames: ['convention'] as const,
    registers: [registry],
    aggregator: 'max',
  });

  // One query per scrape for the three gauges: a scrape collects every metric at once, so they share the one in flight.
  let lagInFlight: Promise<LogLag | undefined> | undefined;
  const lagOfScrape = (): Promise<LogLag | undefined> =>
    (lagInFlight ??= logLag(deps.db)
      .catch(() => undefined) // Database unreachable: /readyz reports it; the gauges keep their last values.
      .finally(() => {
        lagInFlight = undefined;
      }));
  const lagGauge = (name: string, help: string, value: (lag: LogLag) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
    aggregator: 'max',
      async collect() {
        const lag = await lagOfScrape();
        if (lag) this.set(value(lag));
      },
    });
  lagGauge('tabadol_message_log_unsigned_rows', 'Message-log rows appended after the last signed checkpoint', (lag) => lag.unsignedRows);
  lagGauge('tabadol_message_log_unsigned_age_seconds', 'Age of the oldest message-log row not yet covered by a signed checkpoint, 0 when none', (lag) => lag.oldestUnsignedSeconds);
  lagGauge('tabadol_message_log_last_checkpoint_timestamp_seconds', 'When the newest signed checkpoint was written (Unix time), 0 before the first', (lag) => lag.lastCheckpointAt ?? 0);

  const recordExchange = (record: ExchangeRecord): void => {
    const service = record.service ?? 'none';
    exchanges.inc({ service, consumer: record.consumer ?? 'none', outcome: exchangeOutcome(record), problem: record.problem ?? 'none' });
    exchangeDuration.observe({ service }, record.seconds);
    if (record.providerSeconds !== null) providerDuration.observe({ service }, record.providerSeconds);
    if (record.convention) {
      quotaLimit.set({ convention: record.convention.id }, record.convention.quota);
      if (record.convention.used !== undefined) quotaUsed.set({ convention: record.convention.id }, record.convention.used);
    }
  };

  return { registry, exposition: clusterMetricsText(registry), httpDuration, jobsProcessed, backgroundFailures, recordExchange, recordPush };
}

/**
 * The sync metrics: pushes counted and their lag observed as the engine reports them (returns that report), and each
 * subscription's lag, dead letters and circuit read from PostgreSQL at each scrape.
 */
function syncMetrics(registry: Registry, db: Db): Metrics['recordPush'] {
  const syncDeliveries = new Counter({
    name: 'tabadol_sync_deliveries_total',
    help: 'Push deliveries sent by this process, by subscription and outcome (delivered, failed)',
    labelNames: ['subscription', 'outcome'] as const,
    registers: [registry],
  });
  const syncLag = new Histogram({
    name: 'tabadol_sync_delivery_lag_seconds',
    help: 'From a change committed to its delivery acknowledged by the subscriber, by subscription',
    labelNames: ['subscription'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [registry],
  });
  // The registry reads every metric at once (prom-client: Promise.all over each get()), so each of these gauges awaits
  // the same one read of the statuses in its own collect: a gauge filled by another's collect would show the previous
  // scrape's values. The read is shared by the gauges of one scrape (their collects start in the same tick).
  let statusesRead: Promise<void> | undefined;
  const readStatuses = (): Promise<void> =>
    (statusesRead ??= refreshSyncGauges().finally(() => {
      statusesRead = undefined;
    }));
  const syncGauge = (name: string, help: string, labelNames: readonly ['subscription', 'mode'] | readonly ['state']) =>
    new Gauge({ name, help, labelNames, registers: [registry],
    aggregator: 'max', collect: readStatuses });
  const syncGauges = {
    lagChanges: syncGauge('tabadol_sync_lag_changes', 'Changes not yet delivered (or read, pull and file), by subscription', ['subscription', 'mode']),
    lagSeconds: syncGauge('tabadol_sync_lag_seconds', 'Age of the oldest change not yet delivered, by subscription; 0 when caught up', ['subscription', 'mode']),
    dead: syncGauge('tabadol_sync_dead_letters', 'Dead deliveries waiting for an operator, by subscription', ['subscription', 'mode']),
    circuit: syncGauge('tabadol_sync_circuit_open', "1 while a subscription's circuit is open (no sends), else 0", ['subscription', 'mode']),
  };
  const syncSubscriptions = syncGauge('tabadol_sync_subscriptions', 'Subscriptions not ended, by state', ['state']);
  async function refreshSyncGauges(): Promise<void> {
    try {
      const statuses = await subscriptionStatuses(db);
      syncSubscriptions.reset();
      for (const g of Object.values(syncGauges)) g.reset();
      for (const s of statuses) {
        syncSubscriptions.inc({ state: s.state });
        const labels = { subscription: s.id, mode: s.mode };
        syncGauges.lagChanges.set(labels, s.lagChanges);
        syncGauges.lagSeconds.set(labels, s.lagSeconds);
        syncGauges.dead.set(labels, s.deadLetters);
        syncGauges.circuit.set(labels, s.circuit === 'open' ? 1 : 0);
      }
    } catch {
      // Database unreachable: /readyz reports it.
    }
  }

  return (subscriptionId, result, deliveries) => {
    syncDeliveries.inc({ subscription: subscriptionId, outcome: result.ok ? 'delivered' : 'failed' }, deliveries.length);
    if (!result.ok) return;
    const now = Date.now();
    for (const d of deliveries) syncLag.observe({ subscription: subscriptionId }, Math.max(0, (now - d.changeAt.getTime()) / 1000));
  };
}

/**
 * Reports a background task's failure: work that runs after its caller was answered or on a timer, whose failure must
 * neither fail that caller nor pass unseen. `context` says what it was working on (never secrets or bodies).
 */
export type BackgroundFailureReport = (task: string, err: unknown, context?: Record<string, unknown>) => void;

/** Logs the failure as a warning with its context and counts it in tabadol_background_failures_total{task} (when given metrics). */
export function backgroundFailureReporter(logger: Pick<Logger, 'warn'>, metrics?: Pick<Metrics, 'backgroundFailures'>): BackgroundFailureReport {
  return (task, err, context = {}) => {
    metrics?.backgroundFailures.inc({ task });
    logger.warn({ ...context, task, err: { name: (err as Error).name, message: (err as Error).message } }, 'background task failed');
  };
}
