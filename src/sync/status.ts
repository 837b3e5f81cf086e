// What an operator sees of each subscription: lag in changes and seconds, deliveries, failures, circuit, dead letters.
import type { Queryable } from '../storage/db.ts';
import type { SubscriptionMode, SubscriptionState } from './subscriptions.ts';

export interface SubscriptionStatus {
  id: string;
  subscriber: string;
  referential: string;
  mode: SubscriptionMode;
  state: SubscriptionState;
  cursor: number;
  /**
   * Changes of its referential after the subscription's cursor, plus its deliveries not yet delivered (push). The
   * changes are counted up to `lagCountCap`: a subscriber a million changes behind costs one bounded index read, not a
   * count of the whole feed at every page, scrape and status call; `lagCapped` then says the lag is at least that.
   */
  lagChanges: number;
  lagCapped: boolean;
  /**
   * Age of the oldest change not yet delivered (push), or of the next change after the cursor (pull, file; the first
   * by position, one index read: a min() over the feed after the cursor read all of it); 0 when caught up.
   */
  lagSeconds: number;
  pending: number;
  delivered: number;
  failed: number;
  duplicates: number;
  deadLetters: number;
  circuit: 'closed' | 'open';
  circuitOpenUntil: Date | null;
  lastDeliveredAt: Date | null;
  lastError: string | null;
}

/** The most changes after a cursor that a status counts (see `SubscriptionStatus.lagChanges`). */
export const lagCountCap = 10_000;

/** One row per subscription not ended (or `all`), in one round trip. */
export async function subscriptionStatuses(db: Queryable, options: { all?: boolean; lagCountCap?: number } = {}): Promise<SubscriptionStatus[]> {
  const cap = options.lagCountCap ?? lagCountCap;
  const { rows } = await db.query<{
    id: string; subscriber: string; referential: string; mode: SubscriptionMode; state: SubscriptionState; cursor: string;
    feed_after: string; pending: string; dead: string; oldest_open: Date | null; oldest_after: Date | null;
    delivered_count: string; failed_count: string; duplicate_count: string; circuit_open_until: Date | null; circuit_open: boolean;
    last_delivered_at: Date | null; last_error: string | null;
  }>(
    `SELECT s.id, s.subscriber, s.referential, s.mode, s.state, s.cursor, s.delivered_count, s.failed_count, s.duplicate_count,
            s.circuit_open_until, COALESCE(s.circuit_open_until > now(), false) AS circuit_open, s.last_delivered_at, s.last_error,
            (SELECT count(*) FROM (SELECT 1 FROM ref_changes c WHERE c.referential = s.referential AND c.position > s.cursor ORDER BY c.position LIMIT $2) f) AS feed_after,
            (SELECT c.created_at FROM ref_changes c WHERE c.referential = s.referential AND c.position > s.cursor ORDER BY c.position LIMIT 1) AS oldest_after,
            (SELECT count(*) FROM sync_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending') AS pending,
            (SELECT count(*) FROM sync_deliveries d WHERE d.subscription_id = s.id AND d.state = 'dead') AS dead,
            (SELECT min(d.change_at) FROM sync_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending') AS oldest_open
       FROM sync_subscriptions s WHERE $1::boolean OR s.state <> 'ended' ORDER BY s.created_at, s.id`,
    [options.all === true, cap],
  );
  const now = Date.now();
  return rows.map((r) => {
    const oldest = [r.oldest_open, r.oldest_after].filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0];
    return {
      id: r.id,
      subscriber: r.subscriber,
      referential: r.referential,
      mode: r.mode,
      state: r.state,
      cursor: Number(r.cursor),
      lagChanges: Number(r.feed_after) + Number(r.pending),
      lagCapped: Number(r.feed_after) >= cap,
      lagSeconds: oldest ? Math.max(0, (now - oldest.getTime()) / 1000) : 0,
      pending: Number(r.pending),
      delivered: Number(r.delivered_count),
      failed: Number(r.failed_count),
      duplicates: Number(r.duplicate_count),
      deadLetters: Number(r.dead),
      circuit: r.circuit_open ? 'open' : 'closed',
      circuitOpenUntil: r.circuit_open ? r.circuit_open_until : null,
      lastDeliveredAt: r.last_delivered_at,
      lastError: r.last_error,
    };
  });
}
