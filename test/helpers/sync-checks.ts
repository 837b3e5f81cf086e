// What the sync fault tests check of what a subscriber received: every change once at least, duplicates counted, and
// order per record key as a subscriber that deduplicates by delivery id sees it.
import { expect } from 'vitest';
import type { Db } from '../../src/storage/db.ts';
import type { PushedChange } from '../../src/sync/push.ts';

/** Changes a subscriber received more than once (by delivery id). */
export function duplicatesOf(changes: readonly PushedChange[]): number {
  return changes.length - new Set(changes.map((c) => c.id)).size;
}

/**
 * Each record's changes, taken at their first arrival (a duplicate is dropped by the subscriber, as at-least-once
 * delivery expects), arrive in version order with no version missing between the first and the last.
 */
export function expectOrderPerKey(changes: readonly PushedChange[]): void {
  const seen = new Set<string>();
  const last = new Map<string, number>();
  for (const c of changes) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    const before = last.get(c.goldenId) ?? 0;
    expect(c.version, `${c.goldenId} v${c.version} arrived after v${before}`).toBe(before + 1);
    last.set(c.goldenId, c.version);
  }
}

/** The hub's own counters of a subscription. */
export async function hubCounters(db: Db, subscriptionId: string): Promise<{ delivered: number; duplicates: number; pending: number; dead: number }> {
  const { rows } = await db.query<{ delivered: string; duplicates: string; pending: string; dead: string }>(
    `SELECT s.delivered_count AS delivered, s.duplicate_count AS duplicates,
            (SELECT count(*) FROM sync_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending') AS pending,
            (SELECT count(*) FROM sync_deliveries d WHERE d.subscription_id = s.id AND d.state = 'dead') AS dead
       FROM sync_subscriptions s WHERE s.id = $1`,
    [subscriptionId],
  );
  const r = rows[0];
  return { delivered: Number(r?.delivered ?? 0), duplicates: Number(r?.duplicates ?? 0), pending: Number(r?.pending ?? 0), dead: Number(r?.dead ?? 0) };
}
