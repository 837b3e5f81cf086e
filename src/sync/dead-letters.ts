// Dead letters of push subscriptions: deliveries that failed past their retries (or were refused for good). Listed,
// shown and replayed by operators (admin API, `tabadol dlq`); a replay puts them back in the queue's path, in order.
import { audit } from '../admin/audit.ts';
import { AdminInputError } from '../admin/errors.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { isSubscriptionId } from './subscriptions.ts';

export interface DeadLetter {
  id: string;
  subscriptionId: string;
  position: number;
  referential: string;
  goldenId: string;
  version: number;
  type: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  changeAt: Date;
  deadAt: Date;
}

interface DeadLetterRow {
  subscription_id: string;
  position: string;
  referential: string;
  golden_id: string;
  version: number;
  type: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  change_at: Date;
  dead_at: Date;
}

function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: deliveryId(r.subscription_id, Number(r.position)),
    subscriptionId: r.subscription_id,
    position: Number(r.position),
    referential: r.referential,
    goldenId: r.golden_id,
    version: r.version,
    type: r.type,
    attempts: r.attempts,
    lastStatus: r.last_status,
    lastError: r.last_error,
    changeAt: r.change_at,
    deadAt: r.dead_at,
  };
}

/** The delivery id a subscriber sees and deduplicates by: the subscription and the change's position. */
export function deliveryId(subscriptionId: string, position: number): string {
  return `${subscriptionId}:${position}`;
}

/** Parses `sub-…:123`; throws AdminInputError naming `id`. */
export function parseDeliveryId(id: string): { subscriptionId: string; position: number } {
  const match = /^(sub-[a-z0-9]{12}):(\d{1,15})$/.exec(id);
  if (!match?.[1] || !match[2]) throw new AdminInputError('id', 'must be a delivery id <subscription>:<position>, e.g. sub-abc123def456:42');
  return { subscriptionId: match[1], position: Number(match[2]) };
}

const select = `SELECT d.subscription_id, d.position, s.referential, d.golden_id, d.version, d.type, d.attempts, d.last_status, d.last_error, d.change_at, d.dead_at
                  FROM sync_deliveries d JOIN sync_subscriptions s ON s.id = d.subscription_id`;

/** `after`: the dead letters after this delivery id, in (subscription, position) order (the console's keyset pages). */
export async function listDeadLetters(db: Queryable, filter: { subscriptionId?: string; limit?: number; after?: string } = {}): Promise<DeadLetter[]> {
  if (filter.subscriptionId !== undefined && !isSubscriptionId(filter.subscriptionId)) throw new AdminInputError('subscription', 'must be a subscription id sub-<12 characters>');
  const after = filter.after === undefined ? undefined : parseDeliveryId(filter.after);
  const { rows } = await db.query<DeadLetterRow>(
    `${select} WHERE d.state = 'dead' AND ($1::text IS NULL OR d.subscription_id = $1)
        AND ($3::text IS NULL OR (d.subscription_id, d.position) > ($3::text, $4::bigint)) ORDER BY d.subscription_id, d.position LIMIT $2`,
    [filter.subscriptionId ?? null, Math.min(Math.max(filter.limit ?? 100, 1), 1000), after?.subscriptionId ?? null, after?.position ?? null],
  );
  return rows.map(toDeadLetter);
}

export async function getDeadLetter(db: Queryable, id: string): Promise<DeadLetter | undefined> {
  const { subscriptionId, position } = parseDeliveryId(id);
  const { rows } = await db.query<DeadLetterRow>(`${select} WHERE d.state = 'dead' AND d.subscription_id = $1 AND d.position = $2`, [subscriptionId, position]);
  return rows[0] ? toDeadLetter(rows[0]) : undefined;
}

/**
 * Puts dead deliveries back to pending for a fresh set of attempts, due now: one (`id`) or all of a subscription.
 * Returns how many. The record keys that waited behind them flow again once they are delivered.
 */
export async function replayDeadLetters(db: Db, target: { id: string } | { subscriptionId: string }, actor: string): Promise<number> {
  const where = 'id' in target ? parseDeliveryId(target.id) : { subscriptionId: target.subscriptionId, position: null };
  if (!isSubscriptionId(where.subscriptionId)) throw new AdminInputError('subscription', 'must be a subscription id sub-<12 characters>');
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE sync_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), dead_at = NULL, in_flight = false
        WHERE subscription_id = $1 AND ($2::bigint IS NULL OR position = $2) AND state = 'dead'`,
      [where.subscriptionId, where.position],
    );
    if (rowCount > 0) await audit(tx, actor, 'dlq.replay', 'id' in target ? target.id : target.subscriptionId, { replayed: rowCount });
    return rowCount;
  });
}
