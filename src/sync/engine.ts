// The sync engine of one process: every tick it moves new changes of the feed into push subscriptions' deliveries
// (fan-out), and queues a sender's turn for each subscription with deliveries due; a worker per subscription topic runs
// those turns. Several processes may run it on one database: fan-out takes the subscription's row lock, a sender its
// lease, so each change becomes one delivery and one sender sends a subscription's at a time, in order per record key.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ActiveConvention } from '../conventions/store.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';
import type { MessageLog } from '../message-log/message-log.ts';
import type { BackgroundFailureReport } from '../observability/metrics.ts';
import type { Queue, Worker } from '../queue/queue.ts';
import type { Db } from '../storage/db.ts';
import { fanOut, type ClaimedDelivery, type RetryPolicy } from './deliveries.ts';
import { ChangeFileWriter } from './files.ts';
import { PushSender, type DeliveryHandler, type SendResult } from './push.ts';
import { SubscriptionPump } from './pump.ts';

export interface SyncEngineOptions {
  db: Db;
  queue: Queue;
  logger: Logger;
  keyring: HubKeyring;
  log: MessageLog;
  findConvention: (consumer: string, provider: string, service: string) => ActiveConvention | undefined;
  policy: RetryPolicy;
  pushTimeoutMs: number;
  leaseMs: number;
  tickMs: number;
  /** In-process delivery handlers, by the name an `adapter:<name>` target gives. */
  handlers?: ReadonlyMap<string, DeliveryHandler>;
  reportBackgroundFailure: BackgroundFailureReport;
  onSent?: (subscriptionId: string, result: SendResult, deliveries: readonly ClaimedDelivery[]) => void;
}

/** Queue topic of a subscription's sender turns. */
export function deliverTopic(subscriptionId: string): string {
  return `sync.deliver.${subscriptionId}`;
}

interface TurnJob {
  subscriptionId: string;
}

const fanOutBatch = 2000;

export class SyncEngine {
  private readonly pump: SubscriptionPump;
  private readonly files: ChangeFileWriter;
  private readonly sender: PushSender;
  private readonly workers = new Map<string, Worker>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private lastFeedPosition = -1;
  private lastFanOutAt = 0;

  constructor(private readonly options: SyncEngineOptions) {
    this.sender = new PushSender({ timeoutMs: options.pushTimeoutMs, handlers: options.handlers ?? new Map() });
    const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    // What the push sender and the file writer share: the database, signing, the log, the conventions, the policy, the lease.
    const shared = { db: options.db, keyring: options.keyring, log: options.log, findConvention: options.findConvention, policy: options.policy, leaseMs: options.leaseMs, owner, logger: options.logger };
    this.files = new ChangeFileWriter({ ...shared, stopped: () => this.stopped });
    this.pump = new SubscriptionPump({ ...shared, sender: this.sender, onSent: options.onSent });
  }

  start(): void {
    this.stopped = false;
    this.tickSoon();
    this.timer = setInterval(() => this.tickSoon(), this.options.tickMs);
    this.timer.unref();
  }

  /** Asks for a tick now (after a write committed changes, say); ticks never overlap. */
  tickSoon(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = this.tick()
      .catch((err: unknown) => this.options.reportBackgroundFailure('sync-tick', err))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  /** One pass: start workers for new push subscriptions, fan new changes out, queue the turns due; then change files. */
  async tick(): Promise<void> {
    const { db } = this.options;
    const { rows } = await db.query<{ id: string; mode: 'push' | 'file' }>(`SELECT id, mode FROM sync_subscriptions WHERE state = 'active' AND mode IN ('push', 'file')`);
    const subs = rows.filter((s) => s.mode === 'push');
    this.syncWorkers(new Set(subs.map((s) => s.id)));
    // No push nor file subscription: one query a tick, nothing else.
    if (subs.length > 0) {
      await this.fanOutAll(subs.map((s) => s.id));
      await this.queueDueTurns();
    }
    if (rows.length > subs.length) await this.files.writeAll();
  }

  private async fanOutAll(ids: readonly string[]): Promise<void> {
    const { rows } = await this.options.db.query<{ p: string | null }>('SELECT max(position) AS p FROM ref_changes');
    const feed = Number(rows[0]?.p ?? 0);
    // Nothing new in the feed since the last pass: the cursors are where they were. A full pass every 5 s anyway picks
    // up what changed without a new change (a rewind, a subscription created from the start of the feed).
    if (feed === this.lastFeedPosition && Date.now() - this.lastFanOutAt < 5000) return;
    for (const id of ids) {
      if (this.stopped) return;
      while ((await fanOut(this.options.db, id, fanOutBatch)) === fanOutBatch && !this.stopped);
    }
    this.lastFeedPosition = feed;
    this.lastFanOutAt = Date.now();
  }

  /** A turn for each push subscription with deliveries due, no live sender and a closed circuit. */
  private async queueDueTurns(): Promise<void> {
    const { rows } = await this.options.db.query<{ id: string }>(
      `SELECT s.id FROM sync_subscriptions s
        WHERE s.state = 'active' AND s.mode = 'push' AND (s.lease_until IS NULL OR s.lease_until < now())
          AND (s.circuit_open_until IS NULL OR s.circuit_open_until <= now())
          AND EXISTS (SELECT 1 FROM sync_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending' AND d.next_attempt_at <= now())`,
    );
    for (const { id } of rows) {
      // A turn already waiting will do: without this, a backed-up queue would gain one job per tick.
      const depth = await this.options.queue.depth(deliverTopic(id));
      if (depth.waiting + depth.delayed === 0) await this.queueTurn(id);
    }
  }

  private async queueTurn(subscriptionId: string): Promise<void> {
    await this.options.queue.add<TurnJob>(deliverTopic(subscriptionId), { subscriptionId }, { attempts: 1 });
  }

  /** One worker (concurrency 1) per active push subscription: a slow subscriber holds its own worker, no other's. */
  private syncWorkers(active: ReadonlySet<string>): void {
    for (const id of active) {
      if (this.workers.has(id)) continue;
      this.workers.set(
        id,
        this.options.queue.process<TurnJob>(deliverTopic(id), async (job) => {
          try {
            const outcome = await this.pump.run(job.data.subscriptionId);
            if (outcome === 'more' && !this.stopped) await this.queueTurn(job.data.subscriptionId);
          } catch (err) {
            // Nothing is lost (the deliveries are rows; the next tick queues another turn): report, and keep the
            // queue free of failed turns.
            this.options.reportBackgroundFailure('sync-send', err, { subscription: job.data.subscriptionId });
          }
        }, { concurrency: 1 }),
      );
    }
    for (const [id, worker] of this.workers) {
      if (active.has(id)) continue;
      this.workers.delete(id);
      void worker.close().catch((err: unknown) => this.options.reportBackgroundFailure('sync-worker-close', err, { subscription: id }));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.workers.clear();
    await this.sender.close();
  }
}
