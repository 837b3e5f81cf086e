// Admin API, sync subscriptions: create under an active convention, list, show, pause, resume, rewind, end; and the
// status of every subscription (lag, deliveries, failures, circuit, dead letters). Docs: docs/sync.md, "Operators".
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../http/context.ts';
import { ProblemError, problemResponse } from '../../http/problem.ts';
import { subscriptionStatuses, type SubscriptionStatus } from '../../sync/status.ts';
import { adapterStatuses, type AdapterStatus } from '../../sync/inbound.ts';
import {
  createSubscription,
  getSubscription,
  isSubscriptionId,
  listSubscriptions,
  rewindSubscription,
  setSubscriptionState,
  type Subscription,
  type SubscriptionState,
} from '../../sync/subscriptions.ts';
import { operatorActor } from '../actor.ts';
import { adminProblemResponses, adminSecurity, adminTag, hubOf, iso, isoOrNull, jsonBody, requireRole, storable } from './shared.ts';

// ---- shapes --------------------------------------------------------------------------------------------------------

const subscriptionIdText = 'must be a subscription id sub-<12 characters a-z0-9>';
export const subscriptionIdParam = z
  .string()
  .refine(isSubscriptionId, subscriptionIdText)
  .openapi({ param: { name: 'id', in: 'path' }, description: 'A subscription', example: 'sub-4k2m9q7x1c3v' });
const dateTime = (example: string | null) => z.string().openapi({ format: 'date-time', example });
const mode = z.enum(['push', 'pull', 'file']);
const state = z.enum(['active', 'paused', 'ended']);

export const subscriptionSchema = z
  .object({
    id: z.string().openapi({ example: 'sub-4k2m9q7x1c3v' }),
    subscriber: z.string().openapi({ example: 'MA/GOV/DGI/registre-fiscal' }),
    referential: z.string().openapi({ example: 'companies' }),
    conventionId: z.string().openapi({ description: 'The convention it runs under (its purpose and listChanges fields apply)', example: 'MA.GOV.HUB.referentials.companies--MA.GOV.DGI.registre-fiscal' }),
    purpose: z.string().openapi({ example: 'fiscal-registry-sync' }),
    types: z.array(z.string()).nullable().openapi({ description: 'Change types sent; null: all', example: ['golden.created', 'golden.updated'] }),
    scope: z.string().nullable().openapi({ description: 'Territory code the records lie in; null: everywhere', example: '01.051' }),
    mode: mode.openapi({ example: 'push' }),
    target: z.string().nullable().openapi({ description: 'push: URL or adapter:<name>; file: folder; pull: null', example: 'https://registre-fiscal.dgi.gov.ma/tabadol/changes' }),
    batchSize: z.number().int().openapi({ example: 100 }),
    state: state.openapi({ example: 'active' }),
    cursor: z.number().int().openapi({ description: 'The last change position moved into deliveries (push) or read (pull, file)', example: 1042 }),
    consecutiveFailures: z.number().int().openapi({ example: 0 }),
    circuitOpenUntil: dateTime(null).nullable(),
    deliveredCount: z.number().int().openapi({ example: 1042 }),
    failedCount: z.number().int().openapi({ example: 3 }),
    duplicateCount: z.number().int().openapi({ example: 0 }),
    lastDeliveredAt: dateTime('2025-06-01T09:00:00.000Z').nullable(),
    lastError: z.string().nullable().openapi({ example: null }),
    createdBy: z.string().openapi({ example: 'operator:3f9a1c2b4d5e6f70' }),
    createdAt: dateTime('2025-06-01T09:00:00.000Z'),
    updatedAt: dateTime('2025-06-01T09:00:00.000Z'),
  })
  .openapi('Subscription', { description: "A subscriber's standing request for a referential's changes" });
export type SubscriptionBody = z.infer<typeof subscriptionSchema>;

export function subscriptionBody(s: Subscription): SubscriptionBody {
  return {
    ...s,
    types: s.types ? [...s.types] : null,
    circuitOpenUntil: isoOrNull(s.circuitOpenUntil),
    lastDeliveredAt: isoOrNull(s.lastDeliveredAt),
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

// The shapes only: each field's domain (a subsystem id, a known referential, a target fitting the mode…) is checked by
// parseSubscriptionInput, whose refusal names the field (AdminInputError → 400 at body.<field>).
export const createSubscriptionBody = z
  .object({
    subscriber: z.string().min(1).max(400).openapi({ description: 'The subscriber subsystem', example: 'MA/GOV/DGI/registre-fiscal' }),
    referential: z.string().min(1).max(64).openapi({ description: 'The referential followed (persons, companies, vehicles)', example: 'companies' }),
    purpose: z.string().min(1).max(64).openapi({ description: 'A purpose of the convention', example: 'fiscal-registry-sync' }),
    mode: mode.openapi({ example: 'push' }),
    target: z.string().min(1).max(2048).optional().openapi({ description: 'push: the subscriber URL or adapter:<name>; file: an absolute folder; pull: absent', example: 'https://registre-fiscal.dgi.gov.ma/tabadol/changes' }),
    types: z.array(z.string().max(64)).max(8).optional().openapi({ description: 'Only these change types (default all)', example: ['golden.created', 'golden.updated'] }),
    scope: z.string().max(16).optional().openapi({ description: 'Territory: region 01, province 01.051 or commune 01.051.11.01', example: '01.051' }),
    from: z.union([z.number(), z.enum(['start', 'now'])]).optional().openapi({ description: "Where to start: a change position, 'start' (every change) or 'now' (default)", example: 'now' }),
    batchSize: z.number().optional().openapi({ description: 'Changes per push, 1 to 1000 (default 100)', example: 100 }),
  })
  .openapi('CreateSubscription');
export type CreateSubscriptionBody = z.infer<typeof createSubscriptionBody>;

export const rewindBody = z
  .object({ position: z.number().openapi({ description: 'The change position to go back (or forward) to: changes after it are delivered again', example: 1000 }) })
  .openapi('RewindSubscription');

export const subscriptionStatusSchema = z
  .object({
    id: z.string().openapi({ example: 'sub-4k2m9q7x1c3v' }),
    subscriber: z.string().openapi({ example: 'MA/GOV/DGI/registre-fiscal' }),
    referential: z.string().openapi({ example: 'companies' }),
    mode: mode.openapi({ example: 'push' }),
    state: state.openapi({ example: 'active' }),
    cursor: z.number().int().openapi({ example: 1042 }),
    lagChanges: z.number().int().openapi({ description: 'Changes after the cursor (counted up to 10,000) plus deliveries not yet delivered', example: 12 }),
    lagCapped: z.boolean().openapi({ description: 'True when the changes after the cursor reached the count limit (10,000): the lag is at least lagChanges', example: false }),
    lagSeconds: z.number().openapi({ description: 'Age of the oldest change not yet delivered; 0 when caught up', example: 1.7 }),
    pending: z.number().int().openapi({ example: 12 }),
    delivered: z.number().int().openapi({ example: 1030 }),
    failed: z.number().int().openapi({ example: 3 }),
    duplicates: z.number().int().openapi({ example: 0 }),
    deadLetters: z.number().int().openapi({ example: 1 }),
    circuit: z.enum(['closed', 'open']).openapi({ example: 'closed' }),
    circuitOpenUntil: dateTime(null).nullable(),
    lastDeliveredAt: dateTime('2025-06-01T09:00:00.000Z').nullable(),
    lastError: z.string().nullable().openapi({ example: null }),
  })
  .openapi('SubscriptionStatus');
export type SubscriptionStatusBody = z.infer<typeof subscriptionStatusSchema>;

/** A system's inbound side (its adapter pulling into the referentials), beside its subscriptions (the outbound side). */
export const adapterStatusSchema = z
  .object({
    adapter: z.string().openapi({ example: 'permis-rdv' }),
    system: z.string().openapi({ example: 'permis-rdv' }),
    cursor: z.string().nullable().openapi({ description: "The adapter's position in the system's own changes", example: '412:18' }),
    lastPullAt: dateTime('2025-06-01T09:00:00.000Z').nullable(),
    lastSuccessAt: dateTime('2025-06-01T09:00:00.000Z').nullable(),
    nextPullAt: dateTime('2025-06-01T09:00:01.000Z').nullable(),
    pulled: z.number().int().openapi({ description: 'Records taken in since the adapter was configured', example: 1520 }),
    errors: z.number().int().openapi({ example: 0 }),
    consecutiveErrors: z.number().int().openapi({ example: 0 }),
    lastError: z.string().nullable().openapi({ example: null }),
  })
  .openapi('AdapterStatus');

export function adapterStatusBody(a: AdapterStatus): z.infer<typeof adapterStatusSchema> {
  return { ...a, lastPullAt: isoOrNull(a.lastPullAt), lastSuccessAt: isoOrNull(a.lastSuccessAt), nextPullAt: isoOrNull(a.nextPullAt) };
}

export function statusBody(s: SubscriptionStatus): SubscriptionStatusBody {
  return { ...s, circuitOpenUntil: isoOrNull(s.circuitOpenUntil), lastDeliveredAt: isoOrNull(s.lastDeliveredAt) };
}

const json = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });
const idParams = z.object({ id: subscriptionIdParam }).superRefine(storable);
const notFound = 'No such subscription';
const hasEnded = 'The subscription has ended: create a new one';

// ---- routes --------------------------------------------------------------------------------------------------------

const createRouteDef = createRoute({
  method: 'post',
  path: '/admin/v1/subscriptions',
  operationId: 'adminCreateSubscription',
  tags: [adminTag],
  summary: "Subscribe a subsystem to a referential's changes, under its active convention (admin)",
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(createSubscriptionBody) },
  responses: {
    201: json('Created; push deliveries start at the next sync tick', subscriptionSchema),
    ...adminProblemResponses,
    422: problemResponse('No active convention lets the subscriber read this referential with listChanges for this purpose, today'),
  },
});

const listRoute = createRoute({
  method: 'get',
  path: '/admin/v1/subscriptions',
  operationId: 'adminListSubscriptions',
  tags: [adminTag],
  summary: 'Subscriptions, oldest first, filtered (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: {
    query: z
      .object({
        subscriber: z.string().min(1).max(400).optional().openapi({ example: 'MA/GOV/DGI/registre-fiscal' }),
        state: state.optional().openapi({ example: 'active' }),
        limit: z.coerce.number().int().min(1).max(1000).default(500).openapi({ example: 500 }),
      })
      .superRefine(storable),
  },
  responses: { 200: json('The subscriptions', z.object({ subscriptions: z.array(subscriptionSchema) }).openapi('SubscriptionList')), ...adminProblemResponses },
});

const showRoute = createRoute({
  method: 'get',
  path: '/admin/v1/subscriptions/{id}',
  operationId: 'adminGetSubscription',
  tags: [adminTag],
  summary: 'One subscription (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: { params: idParams },
  responses: { 200: json('The subscription', subscriptionSchema), ...adminProblemResponses, 404: problemResponse(notFound) },
});

/** pause, resume and end: the same shape, a different state. */
const stateRoute = (action: 'pause' | 'resume' | 'end', summary: string) =>
  createRoute({
    method: 'post',
    path: `/admin/v1/subscriptions/{id}/${action}`,
    operationId: `admin${action[0]?.toUpperCase() ?? ''}${action.slice(1)}Subscription`,
    tags: [adminTag],
    summary,
    security: adminSecurity,
    middleware: [requireRole('admin')] as const,
    request: { params: idParams },
    responses: { 200: json('The subscription in its new state', subscriptionSchema), ...adminProblemResponses, 404: problemResponse(notFound), 409: problemResponse(hasEnded) },
  });

const stateRoutes: ReadonlyArray<{ route: ReturnType<typeof stateRoute>; to: SubscriptionState }> = [
  { route: stateRoute('pause', 'Pause a subscription: nothing is sent; its place in the feed is kept (admin)'), to: 'paused' },
  { route: stateRoute('resume', 'Resume a subscription (closes its circuit: the target is said to be back) (admin)'), to: 'active' },
  { route: stateRoute('end', 'End a subscription for good: nothing more is delivered (admin)'), to: 'ended' },
];

const rewindRoute = createRoute({
  method: 'post',
  path: '/admin/v1/subscriptions/{id}/rewind',
  operationId: 'adminRewindSubscription',
  tags: [adminTag],
  summary: 'Move the cursor to a change position: the changes after it are delivered again (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { params: idParams, body: jsonBody(rewindBody) },
  responses: { 200: json('The subscription with its new cursor', subscriptionSchema), ...adminProblemResponses, 404: problemResponse(notFound), 409: problemResponse(hasEnded) },
});

const statusRoute = createRoute({
  method: 'get',
  path: '/admin/v1/sync/status',
  operationId: 'adminSyncStatus',
  tags: [adminTag],
  summary: "Every subscription not ended (or all): lag, deliveries, failures, circuit, dead letters; and every configured adapter's pulls (auditor)",
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: { query: z.object({ all: z.enum(['true', 'false']).optional().openapi({ description: 'true: ended subscriptions too', example: 'false' }) }) },
  responses: {
    200: json('One row per subscription, oldest first; one per configured adapter, by name', z.object({ subscriptions: z.array(subscriptionStatusSchema), adapters: z.array(adapterStatusSchema) }).openapi('SyncStatus')),
    ...adminProblemResponses,
  },
});

export function registerSubscriptionRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createRouteDef, async (c) => {
    const { conventions, referentials } = hubOf(c.var.deps);
    const deps = { db: c.var.deps.db, findConvention: conventions.find.bind(conventions), referentials: referentials.names() };
    const created = await createSubscription(deps, { ...c.req.valid('json'), actor: operatorActor(c.var.operator) });
    return c.json(subscriptionBody(created), 201);
  });

  app.openapi(listRoute, async (c) => {
    const { subscriber, state: only, limit } = c.req.valid('query');
    return c.json({ subscriptions: (await listSubscriptions(c.var.deps.db, { subscriber, state: only, limit })).map(subscriptionBody) }, 200);
  });

  app.openapi(showRoute, async (c) => {
    const { id } = c.req.valid('param');
    const found = await getSubscription(c.var.deps.db, id);
    if (!found) throw new ProblemError('not-found', `no subscription ${id}`);
    return c.json(subscriptionBody(found), 200);
  });

  for (const { route, to } of stateRoutes) {
    app.openapi(route, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(subscriptionBody(await setSubscriptionState(c.var.deps.db, id, to, operatorActor(c.var.operator))), 200);
    });
  }

  app.openapi(rewindRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { position } = c.req.valid('json');
    return c.json(subscriptionBody(await rewindSubscription(c.var.deps.db, id, position, operatorActor(c.var.operator))), 200);
  });

  app.openapi(statusRoute, async (c) => {
    const { all } = c.req.valid('query');
    const [subscriptions, adapters] = await Promise.all([subscriptionStatuses(c.var.deps.db, { all: all === 'true' }), adapterStatuses(c.var.deps.db)]);
    return c.json({ subscriptions: subscriptions.map(statusBody), adapters: adapters.map(adapterStatusBody) }, 200);
  });
}
