// Subscriptions as operators manage them: created under an active convention, listed, paused, resumed, rewound, ended.
// Each change is checked field by field before any SQL, and audited in its own transaction.
import { randomBytes } from 'node:crypto';
import { audit } from '../admin/audit.ts';
import { AdminInputError } from '../admin/errors.ts';
import { isValidAt } from '../conventions/model.ts';
import type { ActiveConvention } from '../conventions/store.ts';
import { ProblemError } from '../http/problem.ts';
import { isId } from '../identity/ids.ts';
import type { Db, Queryable } from '../storage/db.ts';

/** The subsystem that provides the golden-record services (MA/GOV/HUB/referentials/<name>). */
export const referentialsProvider = 'MA/GOV/HUB/referentials';
/** The operation a subscription is the standing form of: its convention must allow it, and its fields apply. */
export const subscriptionOperation = 'listChanges';

export type SubscriptionMode = 'push' | 'pull' | 'file';
export type SubscriptionState = 'active' | 'paused' | 'ended';

export interface Subscription {
  id: string;
  subscriber: string;
  referential: string;
  conventionId: string;
  purpose: string;
  types: string[] | null;
  scope: string | null;
  mode: SubscriptionMode;
  target: string | null;
  batchSize: number;
  state: SubscriptionState;
  cursor: number;
  consecutiveFailures: number;
  circuitOpenUntil: Date | null;
  deliveredCount: number;
  failedCount: number;
  duplicateCount: number;
  lastDeliveredAt: Date | null;
  lastError: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SubscriptionInput {
  subscriber: string;
  referential: string;
  purpose: string;
  mode: SubscriptionMode;
  /** push: the subscriber's http(s) URL or `adapter:<name>`; file: an absolute folder path; pull: absent. */
  target?: string;
  types?: string[];
  /** A territory code: region (`01`), province (`01.051`) or commune (`01.051.11.01`). */
  scope?: string;
  /** Where to start in the change feed (default: the changes after now's last position; 0: from the beginning). */
  from?: number | 'start' | 'now';
  batchSize?: number;
}

const changeTypes = ['golden.created', 'golden.updated', 'golden.merged', 'golden.unmerged'] as const;
const scopePattern = /^\d{2}(\.\d{3}(\.\d{2}(\.\d{2})?)?)?$/;
const subscriptionIdPattern = /^sub-[a-z0-9]{12}$/;
const maxFilePathLength = 1024;

const columns = `id, subscriber, referential, convention_id, purpose, types, scope, mode, target, batch_size, state, cursor,
  consecutive_failures, circuit_open_until, delivered_count, failed_count, duplicate_count, last_delivered_at, last_error,
  created_by, created_at, updated_at`;

interface SubscriptionRow {
  id: string;
  subscriber: string;
  referential: string;
  convention_id: string;
  purpose: string;
  types: string[] | null;
  scope: string | null;
  mode: SubscriptionMode;
  target: string | null;
  batch_size: number;
  state: SubscriptionState;
  cursor: string;
  consecutive_failures: number;
  circuit_open_until: Date | null;
  delivered_count: string;
  failed_count: string;
  duplicate_count: string;
  last_delivered_at: Date | null;
  last_error: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

function toSubscription(r: SubscriptionRow): Subscription {
  return {
    id: r.id,
    subscriber: r.subscriber,
    referential: r.referential,
    conventionId: r.convention_id,
    purpose: r.purpose,
    types: r.types,
    scope: r.scope,
    mode: r.mode,
    target: r.target,
    batchSize: r.batch_size,
    state: r.state,
    cursor: Number(r.cursor),
    consecutiveFailures: r.consecutive_failures,
    circuitOpenUntil: r.circuit_open_until,
    deliveredCount: Number(r.delivered_count),
    failedCount: Number(r.failed_count),
    duplicateCount: Number(r.duplicate_count),
    lastDeliveredAt: r.last_delivered_at,
    lastError: r.last_error,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function isSubscriptionId(value: string): boolean {
  return subscriptionIdPattern.test(value);
}

/** Checks the input's shape field by field; the convention is checked against the registry by createSubscription. */
export function parseSubscriptionInput(input: SubscriptionInput, referentials: readonly string[]): Required<Omit<SubscriptionInput, 'target' | 'types' | 'scope'>> & Pick<SubscriptionInput, 'target' | 'types' | 'scope'> {
  if (!isId(input.subscriber, 'subsystem')) throw new AdminInputError('subscriber', 'must be a subsystem id INSTANCE/CLASS/CODE/SUBSYSTEM');
  if (!referentials.includes(input.referential)) throw new AdminInputError('referential', `must be one of ${referentials.join(', ')}`);
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(input.purpose)) throw new AdminInputError('purpose', 'must be a lower-case purpose code [a-z0-9-]');
  if (!['push', 'pull', 'file'].includes(input.mode)) throw new AdminInputError('mode', 'must be push, pull or file');
  if (input.types !== undefined) {
    if (input.types.length === 0 || input.types.length > changeTypes.length) throw new AdminInputError('types', `must list between 1 and ${changeTypes.length} change types`);
    for (const type of input.types) if (!(changeTypes as readonly string[]).includes(type)) throw new AdminInputError('types', `${JSON.stringify(type).slice(0, 80)} is not one of ${changeTypes.join(', ')}`);
  }
  if (input.scope !== undefined && !scopePattern.test(input.scope)) throw new AdminInputError('scope', 'must be a territory code: region 01, province 01.051 or commune 01.051.11.01');
  checkTarget(input.mode, input.target);
  const batchSize = input.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new AdminInputError('batchSize', 'must be an integer between 1 and 1000');
  const from = input.from ?? 'now';
  if (from !== 'start' && from !== 'now' && (!Number.isSafeInteger(from) || from < 0)) throw new AdminInputError('from', "must be a change position (0 or more), 'start' or 'now'");
  return { ...input, batchSize, from };
}

function checkTarget(mode: SubscriptionMode, target: string | undefined): void {
  if (mode === 'pull') {
    if (target !== undefined) throw new AdminInputError('target', 'a pull subscription has no target: the subscriber reads by cursor');
    return;
  }
  if (target === undefined || target === '') throw new AdminInputError('target', mode === 'push' ? 'a push subscription needs the subscriber URL (http or https) or adapter:<name>' : 'a file subscription needs an absolute folder path');
  if (mode === 'file') {
    if (!target.startsWith('/') || target.length > maxFilePathLength || target.includes('\0') || target.split('/').includes('..')) throw new AdminInputError('target', 'must be an absolute folder path without ..');
    return;
  }
  if (target.startsWith('adapter:')) {
    if (!/^adapter:[A-Za-z0-9:._-]{1,128}$/.test(target)) throw new AdminInputError('target', 'adapter:<name> with a name matching [A-Za-z0-9:._-]{1,128}');
    return;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new AdminInputError('target', 'is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AdminInputError('target', 'must be http:// or https://');
  if (url.username || url.password) throw new AdminInputError('target', 'must not carry user:password (the hub signs its deliveries instead)');
  if (url.hash) throw new AdminInputError('target', 'must not have a fragment');
}

/**
 * The convention a subscription runs under: active today between the subscriber and the referential's service, allowing
 * listChanges and the purpose. A ProblemError (422) otherwise: the same refusal an exchange would get, named.
 */
export function subscriptionConvention(find: (consumer: string, provider: string, service: string) => ActiveConvention | undefined, s: Pick<Subscription, 'subscriber' | 'referential' | 'purpose'>, at = new Date()): ActiveConvention {
  const active = find(s.subscriber, referentialsProvider, s.referential);
  if (!active) throw new ProblemError('unprocessable', `no active convention lets ${s.subscriber} read ${referentialsProvider}/${s.referential}`, { errors: [{ location: 'body.subscriber', message: 'has no active convention with this referential' }] });
  const c = active.convention;
  if (!c.operations.some((o) => o.operationId === subscriptionOperation)) throw new ProblemError('unprocessable', `convention ${c.id} does not allow ${subscriptionOperation}`, { errors: [{ location: 'body.referential', message: `convention ${c.id} does not allow ${subscriptionOperation}` }] });
  if (!c.purposes.some((p) => p.code === s.purpose)) throw new ProblemError('unprocessable', `convention ${c.id} does not allow purpose ${s.purpose}`, { errors: [{ location: 'body.purpose', message: `not a purpose of convention ${c.id}` }] });
  if (!isValidAt(c, at)) throw new ProblemError('unprocessable', `convention ${c.id} is not valid today`, { errors: [{ location: 'body.subscriber', message: `convention ${c.id} is valid from ${c.validFrom} until ${c.validUntil}` }] });
  return active;
}

export interface SubscriptionDeps {
  db: Db;
  findConvention: (consumer: string, provider: string, service: string) => ActiveConvention | undefined;
  referentials: readonly string[];
}

export async function createSubscription(deps: SubscriptionDeps, input: SubscriptionInput & { actor: string }): Promise<Subscription> {
  const parsed = parseSubscriptionInput(input, deps.referentials);
  const active = subscriptionConvention(deps.findConvention, parsed);
  const id = `sub-${randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12)}`;
  return deps.db.transaction(async (tx) => {
    const { rows: member } = await tx.query("SELECT 1 FROM members WHERE id = $1 AND kind = 'subsystem'", [parsed.subscriber]);
    if (member.length === 0) throw new AdminInputError('subscriber', 'is not a registered subsystem');
    const cursor = parsed.from === 'start' ? 0 : parsed.from === 'now' ? await lastPosition(tx) : parsed.from;
    const { rows } = await tx.query<SubscriptionRow>(
      `INSERT INTO sync_subscriptions (id, subscriber, referential, convention_id, purpose, types, scope, mode, target, batch_size, cursor, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${columns}`,
      [id, parsed.subscriber, parsed.referential, active.convention.id, parsed.purpose, parsed.types ?? null, parsed.scope ?? null, parsed.mode, parsed.target ?? null, parsed.batchSize, cursor, input.actor],
    );
    await audit(tx, input.actor, 'subscription.create', id, { subscriber: parsed.subscriber, referential: parsed.referential, mode: parsed.mode, purpose: parsed.purpose, cursor });
    return toSubscription(rows[0] as SubscriptionRow);
  });
}

async function lastPosition(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ p: string | null }>('SELECT max(position) AS p FROM ref_changes');
  return Number(rows[0]?.p ?? 0);
}

export async function getSubscription(db: Queryable, id: string): Promise<Subscription | undefined> {
  if (!isSubscriptionId(id)) return undefined;
  const { rows } = await db.query<SubscriptionRow>(`SELECT ${columns} FROM sync_subscriptions WHERE id = $1`, [id]);
  return rows[0] ? toSubscription(rows[0]) : undefined;
}

export async function listSubscriptions(db: Queryable, filter: { subscriber?: string; state?: SubscriptionState; limit?: number } = {}): Promise<Subscription[]> {
  const { rows } = await db.query<SubscriptionRow>(
    `SELECT ${columns} FROM sync_subscriptions WHERE ($1::text IS NULL OR subscriber = $1) AND ($2::text IS NULL OR state = $2)
      ORDER BY created_at, id LIMIT $3`,
    [filter.subscriber ?? null, filter.state ?? null, Math.min(Math.max(filter.limit ?? 500, 1), 1000)],
  );
  return rows.map(toSubscription);
}

function notFound(id: string): ProblemError {
  return new ProblemError('not-found', `no subscription ${JSON.stringify(id).slice(0, 80)}`);
}

/** Pause (no sends, the feed keeps its place), resume, or end (for good: no more deliveries, pending ones stay for the record). */
export async function setSubscriptionState(db: Db, id: string, to: SubscriptionState, actor: string): Promise<Subscription> {
  if (!isSubscriptionId(id)) throw notFound(id);
  return db.transaction(async (tx) => {
    const { rows: current } = await tx.query<{ state: SubscriptionState }>('SELECT state FROM sync_subscriptions WHERE id = $1 FOR UPDATE', [id]);
    const from = current[0]?.state;
    if (!from) throw notFound(id);
    if (from === 'ended' && to !== 'ended') throw new ProblemError('conflict', `subscription ${id} has ended; create a new one`);
    // Resuming closes the circuit: the operator says the target is back.
    const { rows } = await tx.query<SubscriptionRow>(
      `UPDATE sync_subscriptions SET state = $2, updated_at = now(),
              consecutive_failures = CASE WHEN $2 = 'active' THEN 0 ELSE consecutive_failures END,
              circuit_open_until = CASE WHEN $2 = 'active' THEN NULL ELSE circuit_open_until END
        WHERE id = $1 RETURNING ${columns}`,
      [id, to],
    );
    await audit(tx, actor, `subscription.${to === 'active' ? 'resume' : to === 'paused' ? 'pause' : 'end'}`, id, { from });
    return toSubscription(rows[0] as SubscriptionRow);
  });
}

/**
 * Moves the subscription's cursor back (or forward) to `position`: changes after it are delivered again (push: new
 * deliveries replace those after it that are still open; the subscriber deduplicates by delivery id).
 */
export async function rewindSubscription(db: Db, id: string, position: number, actor: string): Promise<Subscription> {
  if (!Number.isSafeInteger(position) || position < 0) throw new AdminInputError('position', 'must be a change position (0 or more)');
  if (!isSubscriptionId(id)) throw notFound(id);
  return db.transaction(async (tx) => {
    const { rows: current } = await tx.query<{ state: SubscriptionState; cursor: string }>('SELECT state, cursor FROM sync_subscriptions WHERE id = $1 FOR UPDATE', [id]);
    const row = current[0];
    if (!row) throw notFound(id);
    if (row.state === 'ended') throw new ProblemError('conflict', `subscription ${id} has ended; create a new one`);
    if (position > (await lastPosition(tx))) throw new AdminInputError('position', 'is beyond the last change of the feed');
    // Deliveries after the new cursor are made again by the fan-out: the old ones (delivered or not) give way.
    const { rowCount: dropped } = await tx.query('DELETE FROM sync_deliveries WHERE subscription_id = $1 AND position > $2', [id, position]);
    const { rows } = await tx.query<SubscriptionRow>(`UPDATE sync_subscriptions SET cursor = $2, updated_at = now() WHERE id = $1 RETURNING ${columns}`, [id, position]);
    await audit(tx, actor, 'subscription.rewind', id, { from: Number(row.cursor), to: position, deliveriesReplaced: dropped });
    return toSubscription(rows[0] as SubscriptionRow);
  });
}
