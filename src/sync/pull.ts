// Pull delivery: a subscriber reads its subscription's changes by cursor (GET /sync/v1/subscriptions/{id}/changes,
// src/http/routes/sync-pull.ts). Reading after N acknowledges N: the subscription's cursor moves there (never back,
// but by an operator's rewind), so that a subscriber that lost its place resumes where it last acknowledged, and the
// status shows its lag. With nothing new, the read waits (long-poll) on the feed watch, holding no connection.
import type { ActiveConvention } from '../conventions/store.ts';
import { ProblemError } from '../http/problem.ts';
import type { Queryable } from '../storage/db.ts';
import { lastFeedPosition, readFeedPage, type FeedChange, type FeedPage } from './feed.ts';
import type { FeedWatch } from './feed-watch.ts';
import { getSubscription, subscriptionConvention, type Subscription } from './subscriptions.ts';

/** Bounds of one read: the longest wait, and the most changes a page holds. */
export const maxPullWaitSeconds = 30;
export const maxPullLimit = 1000;

export interface PullDeps {
  db: Queryable;
  findConvention: (consumer: string, provider: string, service: string) => ActiveConvention | undefined;
  watch: FeedWatch;
}

export interface PullGrant {
  subscription: Subscription;
  convention: ActiveConvention;
}

/**
 * Who may read a subscription: its own subscriber, for the subscription's purpose, while the convention it runs under
 * is active and allows it (checked again at every read). Refusals name why; a subscription of another subsystem is
 * refused without telling anything about it.
 */
export async function grantPull(deps: Pick<PullDeps, 'db' | 'findConvention'>, id: string, caller: { client: string; purpose: string }): Promise<PullGrant> {
  const subscription = await getSubscription(deps.db, id);
  if (!subscription) throw new ProblemError('not-found', `no subscription ${id}`);
  if (subscription.subscriber !== caller.client) throw new ProblemError('forbidden', `subscription ${id} is not ${caller.client}'s: only its subscriber reads it`);
  if (subscription.mode !== 'pull') throw new ProblemError('conflict', `subscription ${id} is a ${subscription.mode} subscription: the hub delivers it, it is not read by cursor`);
  if (subscription.state === 'ended') throw new ProblemError('conflict', `subscription ${id} has ended`);
  if (caller.purpose !== subscription.purpose) {
    throw new ProblemError('purpose-not-allowed', `subscription ${id} is read for purpose ${subscription.purpose}`, { errors: [{ location: 'header.tabadol-purpose', message: `must be ${subscription.purpose}` }] });
  }
  try {
    return { subscription, convention: subscriptionConvention(deps.findConvention, subscription) };
  } catch (err) {
    if (err instanceof ProblemError) throw new ProblemError('forbidden', `the convention no longer lets ${caller.client} read this subscription: ${err.detail}`);
    throw err;
  }
}

export interface PullQuery {
  /** The position read after, and acknowledged; absent: the subscription's cursor. */
  after?: number;
  /** Changes at most in the page; absent: the subscription's batch size. */
  limit?: number;
  /** Seconds to wait for a change when there is none yet (0: answer at once). */
  waitSeconds?: number;
}

export interface PulledPage extends FeedPage {
  after: number;
  /** The subscription's state at the read: a paused subscription answers empty pages (after the wait). */
  state: 'active' | 'paused';
}

/** One read: acknowledge `after`, then the changes after it, waiting up to `waitSeconds` for the first. */
export async function pullChanges(deps: PullDeps, grant: PullGrant, query: PullQuery, options: { signal?: AbortSignal; stop?: () => boolean } = {}): Promise<PulledPage> {
  const { subscription } = grant;
  const limit = Math.min(query.limit ?? subscription.batchSize, maxPullLimit);
  const waitMs = Math.min(query.waitSeconds ?? 0, maxPullWaitSeconds) * 1000;
  const deadline = Date.now() + waitMs;
  const after = query.after ?? subscription.cursor;
  const cursor = query.after === undefined ? subscription.cursor : await acknowledge(deps.db, subscription.id, query.after);
  if (subscription.state === 'paused') {
    // Nothing is handed out while an operator holds it; the wait keeps a polling subscriber from spinning.
    await deps.watch.waitBeyond(Number.MAX_SAFE_INTEGER, deadline, options);
    return { after, next: after, more: false, changes: [], state: 'paused' };
  }
  const filter = { referential: subscription.referential, types: subscription.types, scope: subscription.scope };
  let page = await readFeedPage(deps.db, filter, after, limit);
  while (page.changes.length === 0 && !page.more && Date.now() < deadline) {
    if (!(await deps.watch.waitBeyond(page.next, deadline, options))) break;
    page = await readFeedPage(deps.db, filter, page.next, limit);
  }
  if (page.changes.length > 0) await countServed(deps.db, subscription.id, page.changes, cursor);
  return { ...page, after, state: 'active' };
}

/** Moves the cursor to `after` when it is ahead of it; returns the cursor. A position past the feed is refused. */
async function acknowledge(db: Queryable, id: string, after: number): Promise<number> {
  if (after > (await lastFeedPosition(db))) {
    throw new ProblemError('request-invalid', `after: ${after} is beyond the last change of the feed`, { errors: [{ location: 'query.after', message: 'is beyond the last change of the feed' }] });
  }
  const { rows } = await db.query<{ cursor: string }>(
    `UPDATE sync_subscriptions SET cursor = GREATEST(cursor, $2), updated_at = CASE WHEN cursor < $2 THEN now() ELSE updated_at END
      WHERE id = $1 RETURNING cursor`,
    [id, after],
  );
  return Number(rows[0]?.cursor ?? after);
}

/** Served changes count as deliveries; those at or before the acknowledged cursor were served before (duplicates). */
async function countServed(db: Queryable, id: string, changes: readonly FeedChange[], cursor: number): Promise<void> {
  const again = changes.filter((c) => c.position <= cursor).length;
  await db.query(
    `UPDATE sync_subscriptions SET delivered_count = delivered_count + $2, duplicate_count = duplicate_count + $3, last_delivered_at = now()
      WHERE id = $1`,
    [id, changes.length, again],
  );
}
