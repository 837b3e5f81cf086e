// Admin API, dead letters of push subscriptions: list, show, replay (one delivery, or all of a subscription's).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../http/context.ts';
import { ProblemError, problemResponse } from '../../http/problem.ts';
import { getDeadLetter, listDeadLetters, parseDeliveryId, replayDeadLetters, type DeadLetter } from '../../sync/dead-letters.ts';
import { isSubscriptionId } from '../../sync/subscriptions.ts';
import { operatorActor } from '../actor.ts';
import { adminProblemResponses, adminSecurity, adminTag, iso, jsonBody, requireRole, storable } from './shared.ts';

const deliveryIdText = 'must be a delivery id <subscription>:<position>, e.g. sub-abc123def456:42';
const subscriptionIdText = 'must be a subscription id sub-<12 characters a-z0-9>';

function isDeliveryId(value: string): boolean {
  try {
    parseDeliveryId(value);
    return true;
  } catch {
    return false;
  }
}

const deliveryId = z.string().refine(isDeliveryId, deliveryIdText);
const subscriptionId = z.string().refine(isSubscriptionId, subscriptionIdText);

export const deadLetterSchema = z
  .object({
    id: z.string().openapi({ description: 'The delivery id the subscriber sees: <subscription>:<position>', example: 'sub-4k2m9q7x1c3v:1042' }),
    subscriptionId: z.string().openapi({ example: 'sub-4k2m9q7x1c3v' }),
    position: z.number().int().openapi({ description: "The change's position in the feed", example: 1042 }),
    referential: z.string().openapi({ example: 'companies' }),
    goldenId: z.string().openapi({ example: '5f0c6a8e-8d4b-4f7e-9a39-0c1d2e3f4a5b' }),
    version: z.number().int().openapi({ example: 3 }),
    type: z.string().openapi({ example: 'golden.updated' }),
    attempts: z.number().int().openapi({ example: 12 }),
    lastStatus: z.number().int().nullable().openapi({ description: "The subscriber's last HTTP status (null: no answer)", example: 422 }),
    lastError: z.string().nullable().openapi({ example: 'HTTP 422' }),
    changeAt: z.string().openapi({ format: 'date-time', example: '2025-06-01T09:00:00.000Z' }),
    deadAt: z.string().openapi({ format: 'date-time', example: '2025-06-02T21:00:00.000Z' }),
  })
  .openapi('DeadLetter', { description: 'A delivery that failed past its retries (or was refused for good): it waits for an operator' });
export type DeadLetterBody = z.infer<typeof deadLetterSchema>;

export function deadLetterBody(d: DeadLetter): DeadLetterBody {
  return { ...d, changeAt: iso(d.changeAt), deadAt: iso(d.deadAt) };
}

export const replayBody = z
  .object({
    id: deliveryId.optional().openapi({ description: 'One dead delivery (exactly one of id and subscription)', example: 'sub-4k2m9q7x1c3v:1042' }),
    subscription: subscriptionId.optional().openapi({ description: "Every dead delivery of this subscription, in order", example: 'sub-4k2m9q7x1c3v' }),
  })
  .superRefine((body, ctx) => {
    if ((body.id === undefined) === (body.subscription === undefined)) ctx.addIssue({ code: 'custom', path: body.id === undefined ? ['id'] : ['subscription'], message: 'give exactly one of id and subscription' });
  })
  .openapi('ReplayDeadLetters');

const json = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });

const listRoute = createRoute({
  method: 'get',
  path: '/admin/v1/dead-letters',
  operationId: 'adminListDeadLetters',
  tags: [adminTag],
  summary: 'Dead deliveries, by subscription and position (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: {
    query: z
      .object({
        subscription: subscriptionId.optional().openapi({ description: "Only this subscription's", example: 'sub-4k2m9q7x1c3v' }),
        limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ example: 100 }),
      })
      .superRefine(storable),
  },
  responses: { 200: json('The dead letters', z.object({ deadLetters: z.array(deadLetterSchema) }).openapi('DeadLetterList')), ...adminProblemResponses },
});

const showRoute = createRoute({
  method: 'get',
  path: '/admin/v1/dead-letters/{id}',
  operationId: 'adminGetDeadLetter',
  tags: [adminTag],
  summary: 'One dead delivery (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: { params: z.object({ id: deliveryId.openapi({ param: { name: 'id', in: 'path' }, example: 'sub-4k2m9q7x1c3v:1042' }) }).superRefine(storable) },
  responses: { 200: json('The dead letter', deadLetterSchema), ...adminProblemResponses, 404: problemResponse('No dead delivery with this id (never dead, or replayed since)') },
});

const replayRoute = createRoute({
  method: 'post',
  path: '/admin/v1/dead-letters/replay',
  operationId: 'adminReplayDeadLetters',
  tags: [adminTag],
  summary: 'Put dead deliveries back for a fresh set of attempts, due now (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(replayBody) },
  responses: {
    200: json('How many were put back (0: none was dead)', z.object({ replayed: z.number().int().openapi({ example: 1 }) }).openapi('ReplayResult')),
    ...adminProblemResponses,
  },
});

export function registerDeadLetterRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const { subscription, limit } = c.req.valid('query');
    return c.json({ deadLetters: (await listDeadLetters(c.var.deps.db, { subscriptionId: subscription, limit })).map(deadLetterBody) }, 200);
  });

  app.openapi(showRoute, async (c) => {
    const { id } = c.req.valid('param');
    const found = await getDeadLetter(c.var.deps.db, id);
    if (!found) throw new ProblemError('not-found', `no dead delivery ${id}`);
    return c.json(deadLetterBody(found), 200);
  });

  app.openapi(replayRoute, async (c) => {
    const body = c.req.valid('json');
    const target = body.id !== undefined ? { id: body.id } : { subscriptionId: body.subscription ?? '' };
    return c.json({ replayed: await replayDeadLetters(c.var.deps.db, target, operatorActor(c.var.operator)) }, 200);
  });
}
