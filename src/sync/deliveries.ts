// The deliveries of push subscriptions, in PostgreSQL: made from the change feed (fan-out), claimed in order per record
// key by one sender at a time, and settled (delivered, retried later, dead). Every state lives here; queues carry none.
import { plainValues } from '../golden/engine-survivorship.ts';
import type { GoldenAttributes } from '../golden/engine-types.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { communeOf, inScope } from './scope.ts';

/** One change as a sender loads it: the record as it was at that version. */
export interface ClaimedDelivery {
  position: number;
  goldenId: string;
  version: number;
  type: string;
  changeAt: Date;
  attempts: number;
  /** A previous send's outcome is unknown (its sender stopped): sending again may duplicate it. */
  wasInFlight: boolean;
  /** The record at that version, its attributes as plain values (as getRecord answers them). */
  record: { status: string | null; mergedInto: string | null; attributes: Record<string, unknown> | null };
}

export interface RetryPolicy {
  /** Attempts before a delivery goes to the dead letters. */
  maxAttempts: number;
  /** A delivery older than this (since its change) that fails goes to the dead letters. */
  maxAgeMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Consecutive failed sends that open the circuit of a subscription's target. */
  circuitThreshold: number;
  circuitBaseMs: number;
  circuitMaxMs: number;
}

/** About a day and a half of retries (as Svix spreads its own), then the dead letters. */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 20,
  maxAgeMs: 36 * 3600_000,
  backoffBaseMs: 1000,
  backoffMaxMs: 3 * 3600_000,
  circuitThreshold: 5,
  circuitBaseMs: 5000,
  circuitMaxMs: 5 * 60_000,
};

/** Exponential with full jitter in [ceiling/2, ceiling]: retries of many deliveries do not arrive together. */
export function retryDelayMs(policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffMaxMs'>, attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** How long the circuit stays open after the n-th consecutive failure past the threshold. */
export function circuitOpenMs(policy: Pick<RetryPolicy, 'circuitThreshold' | 'circuitBaseMs' | 'circuitMaxMs'>, consecutiveFailures: number): number {
  return Math.min(policy.circuitMaxMs, policy.circuitBaseMs * 2 ** Math.max(0, consecutiveFailures - policy.circuitThreshold));
}

/**
 * Takes the next changes of a push subscription's referential from the feed, keeps those of its kinds and territory,
 * and makes one delivery of each; advances the subscription's cursor past all it read, in the same transaction (so a
 * change is never skipped nor made twice, whichever process runs it). Returns how many changes it read.
 */
export async function fanOut(db: Db, subscriptionId: string, limit = 2000): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows: subs } = await tx.query<{ referential: string; types: string[] | null; scope: string | null; cursor: string }>(
      `SELECT referential, types, scope, cursor FROM sync_subscriptions WHERE id = $1 AND state = 'active' AND mode = 'push' FOR UPDATE`,
      [subscriptionId],
    );
    const sub = subs[0];
    if (!sub) return 0;
    const withRecord = sub.scope !== null;
    const { rows: changes } = await tx.query<{ position: string; golden_id: string; version: number; type: string; created_at: Date; attributes: unknown }>(
      `SELECT c.position, c.golden_id, c.version, c.type, c.created_at, ${withRecord ? 'h.attributes' : 'NULL::jsonb AS attributes'}
         FROM ref_changes c
         ${withRecord ? 'LEFT JOIN LATERAL (SELECT attributes FROM ref_golden_history h WHERE h.golden_id = c.golden_id AND h.version = c.version ORDER BY h.seq DESC LIMIT 1) h ON true' : ''}
        WHERE c.referential = $1 AND c.position > $2 ORDER BY c.position LIMIT $3`,
      [sub.referential, sub.cursor, limit],
    );
    if (changes.length === 0) return 0;
    const kept = changes.filter((c) => (sub.types === null || sub.types.includes(c.type)) && (!withRecord || inScope(communeOf(c.attributes ? plainValues(c.attributes as GoldenAttributes) : undefined), sub.scope)));
    if (kept.length > 0) {
      await tx.query(
        `INSERT INTO sync_deliveries (subscription_id, position, golden_id, version, type, change_at)
         SELECT $1, d.position, d.golden_id, d.version, d.type, d.change_at
           FROM jsonb_to_recordset($2::jsonb) AS d(position bigint, golden_id text, version int, type text, change_at timestamptz)
         ON CONFLICT DO NOTHING`,
        [subscriptionId, JSON.stringify(kept.map((c) => ({ position: c.position, golden_id: c.golden_id, version: c.version, type: c.type, change_at: c.created_at })))],
      );
    }
    await tx.query('UPDATE sync_subscriptions SET cursor = $2 WHERE id = $1', [subscriptionId, changes.at(-1)?.position ?? sub.cursor]);
    return changes.length;
  });
}

/**
 * The next deliveries a sender may send, in change order: pending and due, and none of a record whose earlier delivery
 * is waiting for a retry or dead (order per record key: that key waits, the others flow). Marks them in flight and
 * counts the attempt, so that a sender that stops mid-send leaves a trace the next one counts as a possible duplicate.
 *
 * Why a window: the per-key rule looks only at the first `window` pending deliveries (one index range scan on the
 * pending index) and at the dead ones of the keys in it. An earlier pending delivery of the same record has a lower
 * position, so it is in the window whenever the later one is; the cost of a claim follows the window, not the backlog
 * (a per-row NOT EXISTS over all open deliveries cost seconds a batch with 80,000 pending: docs/benchmarks.md).
 */
export async function claimDeliveries(db: Db, subscriptionId: string, limit: number): Promise<ClaimedDelivery[]> {
  const window = Math.max(limit * 10, 1000);
  const { rows } = await db.query<{
    position: string; golden_id: string; version: number; type: string; change_at: Date; attempts: number; was_in_flight: boolean;
    status: string | null; merged_into: string | null; attributes: Record<string, unknown> | null;
  }>(
    `WITH win AS (
       SELECT position, golden_id, in_flight, next_attempt_at <= now() AS due FROM sync_deliveries
        WHERE subscription_id = $1 AND state = 'pending' ORDER BY position LIMIT $3),
     blocked AS (
       SELECT golden_id, min(position) AS p FROM win WHERE NOT due GROUP BY golden_id
       UNION ALL
       SELECT d.golden_id, min(d.position) FROM sync_deliveries d
        WHERE d.subscription_id = $1 AND d.state = 'dead' AND d.golden_id IN (SELECT golden_id FROM win) GROUP BY d.golden_id),
     pick AS (
       SELECT w.position, w.in_flight FROM win w
        WHERE w.due AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.golden_id = w.golden_id AND b.p < w.position)
        ORDER BY w.position LIMIT $2),
     claimed AS (
       UPDATE sync_deliveries s SET in_flight = true, attempts = s.attempts + 1 FROM pick
        WHERE s.subscription_id = $1 AND s.position = pick.position AND s.state = 'pending'
        RETURNING s.position, s.golden_id, s.version, s.type, s.change_at, s.attempts, pick.in_flight AS was_in_flight)
     SELECT c.*, h.status, h.merged_into, h.attributes FROM claimed c
       LEFT JOIN LATERAL (SELECT status, merged_into, attributes FROM ref_golden_history h
                           WHERE h.golden_id = c.golden_id AND h.version = c.version ORDER BY h.seq DESC LIMIT 1) h ON true
      ORDER BY c.position`,
    [subscriptionId, limit, window],
  );
  return rows.map((r) => ({
    position: Number(r.position),
    goldenId: r.golden_id,
    version: r.version,
    type: r.type,
    changeAt: r.change_at,
    attempts: r.attempts,
    wasInFlight: r.was_in_flight,
    record: { status: r.status, mergedInto: r.merged_into, attributes: r.attributes ? plainValues(r.attributes as GoldenAttributes) : null },
  }));
}

/** The subscriber took them: delivered; the circuit closes; possible duplicates are counted. */
export async function settleDelivered(db: Db, subscriptionId: string, positions: readonly number[], status: number, duplicates: number): Promise<void> {
  await db.transaction(async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE sync_deliveries SET state = 'delivered', delivered_at = now(), in_flight = false, last_status = $3, last_error = NULL
        WHERE subscription_id = $1 AND position = ANY($2::bigint[]) AND state = 'pending'`,
      [subscriptionId, positions, status],
    );
    await tx.query(
      `UPDATE sync_subscriptions SET consecutive_failures = 0, circuit_open_until = NULL, delivered_count = delivered_count + $2,
              duplicate_count = duplicate_count + $3, last_delivered_at = now(), last_error = NULL WHERE id = $1`,
      [subscriptionId, rowCount, duplicates],
    );
  });
}

export interface FailedSend {
  status: number | null;
  error: string;
  /** A fault that retrying cannot fix (the subscriber refused the change itself): dead at once. */
  permanent: boolean;
}

/**
 * The send failed: each delivery is retried after its backoff, or goes to the dead letters (permanent fault, attempts
 * spent, or too old); the subscription's consecutive failures grow, and past the threshold its circuit opens.
 * Returns the deliveries that went dead.
 */
export async function settleFailed(db: Db, subscriptionId: string, deliveries: readonly ClaimedDelivery[], failure: FailedSend, policy: RetryPolicy, now = Date.now()): Promise<number[]> {
  const dead: number[] = [];
  const retry: Array<{ position: number; at: string }> = [];
  for (const d of deliveries) {
    if (failure.permanent || d.attempts >= policy.maxAttempts || now - d.changeAt.getTime() >= policy.maxAgeMs) dead.push(d.position);
    else retry.push({ position: d.position, at: new Date(now + retryDelayMs(policy, d.attempts)).toISOString() });
  }
  const error = failure.error.slice(0, 2000);
  await db.transaction(async (tx) => {
    if (dead.length > 0) {
      await tx.query(
        `UPDATE sync_deliveries SET state = 'dead', dead_at = now(), in_flight = false, last_status = $3, last_error = $4
          WHERE subscription_id = $1 AND position = ANY($2::bigint[]) AND state = 'pending'`,
        [subscriptionId, dead, failure.status, error],
      );
    }
    if (retry.length > 0) {
      await tx.query(
        `UPDATE sync_deliveries d SET next_attempt_at = r.at, in_flight = false, last_status = $3, last_error = $4
           FROM jsonb_to_recordset($2::jsonb) AS r(position bigint, at timestamptz)
          WHERE d.subscription_id = $1 AND d.position = r.position AND d.state = 'pending'`,
        [subscriptionId, JSON.stringify(retry), failure.status, error],
      );
    }
    // A permanent refusal of one change says nothing about the target's health: the circuit counts only the others.
    const { rows } = await tx.query<{ failures: number }>(
      `UPDATE sync_subscriptions SET failed_count = failed_count + $2, last_error = $3, consecutive_failures = consecutive_failures + $4
        WHERE id = $1 RETURNING consecutive_failures AS failures`,
      [subscriptionId, deliveries.length, error, failure.permanent ? 0 : 1],
    );
    const failures = rows[0]?.failures ?? 0;
    if (!failure.permanent && failures >= policy.circuitThreshold) {
      await tx.query(`UPDATE sync_subscriptions SET circuit_open_until = now() + make_interval(secs => $2::float8 / 1000) WHERE id = $1`, [subscriptionId, circuitOpenMs(policy, failures)]);
    }
  });
  return dead;
}

/** Clears the in-flight mark of deliveries claimed but not sent (their key waits behind a dead one found in the same pass). */
export async function releaseClaimed(db: Queryable, subscriptionId: string, positions: readonly number[]): Promise<void> {
  if (positions.length === 0) return;
  await db.query(
    `UPDATE sync_deliveries SET in_flight = false, attempts = GREATEST(0, attempts - 1) WHERE subscription_id = $1 AND position = ANY($2::bigint[]) AND state = 'pending'`,
    [subscriptionId, positions],
  );
}
