// The sender of one push subscription: takes its lease (one sender at a time, whichever process), then sends batches of
// due deliveries in order until none is due, the circuit opens, or its turn is up. Each batch is signed, sent, logged
// with its subjects, and settled in PostgreSQL.
import type { Logger } from 'pino';
import type { ActiveConvention } from '../conventions/store.ts';
import { referentialSubjects } from '../exchange/referential-subjects.ts';
import { subjectHmac } from '../exchange/subjects.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';
import type { MessageLog } from '../message-log/message-log.ts';
import type { Db } from '../storage/db.ts';
import { claimDeliveries, releaseClaimed, settleDelivered, settleFailed, type ClaimedDelivery, type RetryPolicy } from './deliveries.ts';
import { signPush, type PushSender, type SendResult } from './push.ts';
import { referentialsProvider, subscriptionConvention, subscriptionOperation } from './subscriptions.ts';

export interface PumpDeps {
  db: Db;
  sender: PushSender;
  keyring: Pick<HubKeyring, 'hubId' | 'signCompactSync' | 'subjectKey'>;
  log: Pick<MessageLog, 'append'>;
  findConvention: (consumer: string, provider: string, service: string) => ActiveConvention | undefined;
  policy: RetryPolicy;
  leaseMs: number;
  /** This process's name on leases (host and pid, plus a random part). */
  owner: string;
  logger: Logger;
  /** Batches a pump sends before it yields its turn (other subscriptions' jobs, a fresh lease). */
  maxBatchesPerTurn?: number;
  onSent?: (subscriptionId: string, result: SendResult, deliveries: readonly ClaimedDelivery[]) => void;
}

interface LeasedSubscription {
  id: string;
  subscriber: string;
  referential: string;
  purpose: string;
  target: string;
  batch_size: number;
}

export type PumpOutcome = 'idle' | 'more' | 'busy' | 'blocked';

export class SubscriptionPump {
  constructor(private readonly deps: PumpDeps) {}

  /** One turn. 'more': due work is left (queue another turn); 'busy': another sender holds it; 'blocked': circuit open or convention refused. */
  async run(subscriptionId: string): Promise<PumpOutcome> {
    const sub = await this.acquireLease(subscriptionId);
    if (!sub) return 'busy';
    try {
      return await this.sendBatches(sub);
    } finally {
      await this.releaseLease(subscriptionId);
    }
  }

  private async sendBatches(sub: LeasedSubscription): Promise<PumpOutcome> {
    const maxBatches = this.deps.maxBatchesPerTurn ?? 20;
    for (let n = 0; n < maxBatches; n++) {
      const convention = this.conventionOf(sub);
      if (!convention) return 'blocked';
      const claimed = await claimDeliveries(this.deps.db, sub.id, sub.batch_size);
      if (claimed.length === 0) return 'idle';
      const circuitOpened = await this.sendAndSettle(sub, convention, claimed);
      if (circuitOpened) return 'blocked';
      if (!(await this.renewLease(sub.id))) return 'busy';
    }
    return 'more';
  }

  /** The convention it runs under, re-checked before each batch (revoked or expired: nothing is sent, nothing is lost). */
  private conventionOf(sub: LeasedSubscription): ActiveConvention | undefined {
    try {
      return subscriptionConvention(this.deps.findConvention, sub);
    } catch (err) {
      void this.deps.db
        .query('UPDATE sync_subscriptions SET last_error = $2 WHERE id = $1', [sub.id, `not sent: ${(err as Error).message}`.slice(0, 2000)])
        .catch((e: unknown) => this.deps.logger.warn({ subscription: sub.id, err: { message: (e as Error).message } }, 'could not record why a subscription is blocked'));
      return undefined;
    }
  }

  /** Sends one batch and settles it; a batch refused for good is split so that only the changes at fault go dead. Returns whether the circuit opened. */
  private async sendAndSettle(sub: LeasedSubscription, convention: ActiveConvention, claimed: readonly ClaimedDelivery[]): Promise<boolean> {
    const result = await this.sendOne(sub, convention, claimed);
    if (result.ok) {
      await settleDelivered(this.deps.db, sub.id, claimed.map((d) => d.position), result.status, claimed.filter((d) => d.wasInFlight).length);
      return false;
    }
    if (result.permanent && claimed.length > 1) return this.sendEachAlone(sub, convention, claimed);
    await settleFailed(this.deps.db, sub.id, claimed, result, this.deps.policy);
    return !result.permanent && (await this.circuitOpen(sub.id));
  }

  /** One by one, in order; a record whose change went dead keeps its later changes waiting (order per key). */
  private async sendEachAlone(sub: LeasedSubscription, convention: ActiveConvention, claimed: readonly ClaimedDelivery[]): Promise<boolean> {
    const deadKeys = new Set<string>();
    const waiting: number[] = [];
    for (const d of claimed) {
      if (deadKeys.has(d.goldenId)) {
        waiting.push(d.position);
        continue;
      }
      const result = await this.sendOne(sub, convention, [d]);
      if (result.ok) {
        await settleDelivered(this.deps.db, sub.id, [d.position], result.status, d.wasInFlight ? 1 : 0);
        continue;
      }
      await settleFailed(this.deps.db, sub.id, [d], result, this.deps.policy);
      if (result.permanent) deadKeys.add(d.goldenId);
      else {
        // The target itself failed: the rest waits for the next turn.
        await releaseClaimed(this.deps.db, sub.id, claimed.filter((c) => c.position > d.position).map((c) => c.position));
        return this.circuitOpen(sub.id);
      }
    }
    await releaseClaimed(this.deps.db, sub.id, waiting);
    return false;
  }

  private async sendOne(sub: LeasedSubscription, convention: ActiveConvention, deliveries: readonly ClaimedDelivery[]): Promise<SendResult> {
    const started = new Date();
    const push = signPush(this.deps.keyring, sub, convention.convention, deliveries);
    const result = await this.deps.sender.send(sub.target, push, { subscription: sub.id, subscriber: sub.subscriber, referential: sub.referential, purpose: sub.purpose });
    this.deps.onSent?.(sub.id, result, deliveries);
    // Logged after the send, with the subscriber's answer. A log that cannot be written fails the batch: it stays
    // pending and is sent (and logged) again, so the log ends up recording every push that was delivered.
    const serviceId = `${referentialsProvider}/${sub.referential}`;
    const subjects = referentialSubjects(serviceId, { operationId: subscriptionOperation, pathParams: {}, responseBody: { changes: push.full } }) ?? [];
    await this.deps.log.append({
      at: started,
      requestId: push.id,
      client: sub.subscriber,
      service: serviceId,
      operation: 'push',
      purpose: sub.purpose,
      conventionId: convention.convention.id,
      conventionVersion: convention.convention.version,
      status: result.ok ? result.status : (result.status ?? 0),
      problem: result.ok ? null : result.status === null ? 'provider-unavailable' : null,
      durationMs: result.ms,
      providerMs: result.ms,
      requestDigest: push.bodyDigest,
      responseDigest: '',
      requestSignature: push.signature,
      responseSignature: null,
      subjects: subjects.map((s) => ({ type: s.type, hmac: subjectHmac(this.deps.keyring.subjectKey, s.type, s.value), location: s.location })),
    });
    return result;
  }

  private async circuitOpen(subscriptionId: string): Promise<boolean> {
    const { rows } = await this.deps.db.query<{ open: boolean }>('SELECT circuit_open_until > now() AS open FROM sync_subscriptions WHERE id = $1', [subscriptionId]);
    return rows[0]?.open === true;
  }

  private async acquireLease(subscriptionId: string): Promise<LeasedSubscription | undefined> {
    const { rows } = await this.deps.db.query<LeasedSubscription>(
      `UPDATE sync_subscriptions SET lease_owner = $2, lease_until = now() + make_interval(secs => $3::float8 / 1000)
        WHERE id = $1 AND state = 'active' AND mode = 'push' AND target IS NOT NULL
          AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)
          AND (circuit_open_until IS NULL OR circuit_open_until <= now())
        RETURNING id, subscriber, referential, purpose, target, batch_size`,
      [subscriptionId, this.deps.owner, this.deps.leaseMs],
    );
    return rows[0];
  }

  private async renewLease(subscriptionId: string): Promise<boolean> {
    const { rowCount } = await this.deps.db.query(
      `UPDATE sync_subscriptions SET lease_until = now() + make_interval(secs => $3::float8 / 1000)
        WHERE id = $1 AND lease_owner = $2 AND state = 'active'`,
      [subscriptionId, this.deps.owner, this.deps.leaseMs],
    );
    return rowCount === 1;
  }

  private async releaseLease(subscriptionId: string): Promise<void> {
    await this.deps.db.query('UPDATE sync_subscriptions SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [subscriptionId, this.deps.owner]);
  }
}
