// Admin API, golden-record stewardship: the review queue and its decisions, merge, unmerge and distinct pairs, per
// referential; every decision names the operator and a reason, and is audited by the engine.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../http/context.ts';
import { ProblemError, problemResponse } from '../../http/problem.ts';
import { backgroundFailureReporter } from '../../observability/metrics.ts';
import type { ReferentialCatalog } from '../../golden/catalog.ts';
import type { ReferentialModule } from '../../golden/module.ts';
import { decideReview, markDistinct, merge, reviewQueue, unmerge, type ReviewItem } from '../../golden/stewardship.ts';
import type { Queryable } from '../../storage/db.ts';
import { operatorActor } from '../actor.ts';
import { adminProblemResponses, adminSecurity, adminTag, iso, isoOrNull, jsonBody, requireRole, storable } from './shared.ts';

// ---- shapes --------------------------------------------------------------------------------------------------------

const referentialParam = z
  .string()
  .min(1)
  .max(64)
  .openapi({ param: { name: 'referential', in: 'path' }, description: 'A registered referential: persons, companies or vehicles', example: 'persons' });
/** Review items and steward decisions are numbered by the database (bigserial): decimal strings, never numbers. */
const serial = (name: string, description: string, example: string) =>
  z
    .string()
    .regex(/^[1-9]\d{0,17}$/, 'must be a positive integer')
    .openapi({ param: { name, in: 'path' }, description, example });
const goldenId = (description: string, example: string) => z.string().min(1).max(100).openapi({ description, example });
const reason = z.string().trim().min(1, 'a reason is required').max(1000).openapi({ description: 'Why: kept with the decision and in the audit trail', example: 'same CIN in the civil registry extract' });
const decisionIdOut = z.string().openapi({ description: 'The steward decision (merge, unmerge or distinct) recorded', example: '42' });
const unchanged = z.boolean().openapi({ description: 'The same decision was already in place: nothing changed', example: false });

const reviewStatus = z.enum(['open', 'linked', 'distinct']);

export const reviewItemSchema = z
  .object({
    id: z.string().openapi({ example: '17' }),
    referential: z.string().openapi({ example: 'persons' }),
    source: z.object({ system: z.string().openapi({ example: 'marroute' }), id: z.string().openapi({ example: 'DL-2024-118832' }) }).openapi({ description: 'The contribution that opened the item' }),
    goldenId: z.string().openapi({ description: 'The golden record that contribution created', example: '5f0c6a8e-8d4b-4f7e-9a39-0c1d2e3f4a5b' }),
    candidates: z
      .array(
        z.object({
          goldenId: z.string().openapi({ example: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }),
          score: z.number().openapi({ example: 17.4 }),
          weights: z.record(z.string(), z.number()).openapi({ example: { firstName: 5.3, lastName: 6.3, commune: 5.5, sex: 0.97 } }),
          why: z.enum(['tie', 'near-link', 'score']).optional().openapi({
            description:
              'Why it is proposed: tie (it scores at or above the link threshold within 0.001 of another candidate), near-link (one uncertain field, `uncertain`, away from a link), score (at or above the review threshold). Absent on items proposed before the rule existed',
            example: 'score',
          }),
          uncertain: z
            .object({ field: z.string().openapi({ example: 'birthDate' }), scoreIfAgreeing: z.number().openapi({ example: 31.8 }) })
            .optional()
            .openapi({ description: 'The one doubtful field (a birth date one slip away, a look-alike first name) and the score had it agreed' }),
        }),
      )
      .openapi({ description: 'The existing records it may be, best first, with the per-field weights of the score' }),
    status: reviewStatus.openapi({ example: 'open' }),
    linkedTo: z.string().nullable().openapi({ description: 'Set when linked: the record it was merged into', example: null }),
    decidedBy: z.string().nullable().openapi({ example: null }),
    decidedAt: z.string().nullable().openapi({ format: 'date-time', example: null }),
    reason: z.string().nullable().openapi({ example: null }),
    createdAt: z.string().openapi({ format: 'date-time', example: '2025-06-01T09:00:00.000Z' }),
  })
  .openapi('ReviewItem', { description: 'A contribution that scored between the review and link thresholds against existing golden records' });
export type ReviewItemBody = z.infer<typeof reviewItemSchema>;

function toItem(item: ReviewItem): ReviewItemBody {
  return {
    id: String(item.id),
    referential: item.referential,
    source: { system: item.source.system, id: item.source.id },
    goldenId: item.goldenId,
    candidates: item.candidates.map((c) => ({
      goldenId: c.goldenId,
      score: c.score,
      weights: { ...c.weights },
      ...(c.review ? { why: c.review } : {}),
      ...(c.uncertain ? { uncertain: { field: c.uncertain.field, scoreIfAgreeing: c.uncertain.scoreIfAgreeing } } : {}),
    })),
    status: item.status,
    linkedTo: item.linkedTo,
    decidedBy: item.decidedBy,
    decidedAt: isoOrNull(item.decidedAt),
    reason: item.reason,
    createdAt: iso(item.createdAt),
  };
}

export const reviewDecisionBody = z
  .object({
    decision: z.enum(['link', 'distinct']).openapi({ description: "link: the item's record is merged into goldenId; distinct: remembered as a different entity", example: 'link' }),
    goldenId: goldenId('link: the candidate to merge into (required); distinct: the candidate it differs from (default: every candidate)', '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d').optional(),
    reason,
  })
  .superRefine((body, ctx) => {
    if (body.decision === 'link' && body.goldenId === undefined) ctx.addIssue({ code: 'custom', path: ['goldenId'], message: 'a link decision names the candidate to link to' });
  })
  .openapi('ReviewDecision');
export type ReviewDecisionBody = z.infer<typeof reviewDecisionBody>;

export const reviewDecisionSchema = z
  .object({
    item: reviewItemSchema,
    unchanged,
    mergeDecisionId: z.string().optional().openapi({ description: 'link: the merge decision made (unmerge undoes it)', example: '43' }),
  })
  .openapi('ReviewDecisionResult');
export type ReviewDecisionResultBody = z.infer<typeof reviewDecisionSchema>;

export const mergeBody = z
  .object({
    survivorId: goldenId('The golden record that stays', '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'),
    mergedId: goldenId('The golden record merged into the survivor: its id keeps resolving, to the survivor', '5f0c6a8e-8d4b-4f7e-9a39-0c1d2e3f4a5b'),
    reason,
  })
  .openapi('Merge');
export type MergeBody = z.infer<typeof mergeBody>;

export const mergeResultSchema = z
  .object({
    decisionId: decisionIdOut,
    survivorId: z.string().openapi({ example: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }),
    mergedId: z.string().openapi({ example: '5f0c6a8e-8d4b-4f7e-9a39-0c1d2e3f4a5b' }),
    survivorVersion: z.number().int().openapi({ description: "The survivor's version after the merge", example: 4 }),
    unchanged,
  })
  .openapi('MergeResult');
export type MergeResultBody = z.infer<typeof mergeResultSchema>;

export const unmergeBody = z.object({ reason }).openapi('Unmerge');
export type UnmergeBody = z.infer<typeof unmergeBody>;

export const unmergeResultSchema = z
  .object({
    decisionId: decisionIdOut,
    restored: z
      .array(z.object({ goldenId: z.string().openapi({ example: '5f0c6a8e-8d4b-4f7e-9a39-0c1d2e3f4a5b' }), version: z.number().int().openapi({ example: 1 }) }))
      .openapi({ description: 'The two records as the merge found them (ids, attributes, versions, links and natural keys)' }),
    unchanged,
  })
  .openapi('UnmergeResult');
export type UnmergeResultBody = z.infer<typeof unmergeResultSchema>;

export const distinctBody = z
  .object({
    a: goldenId('One golden record', '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'),
    b: goldenId('The other: never proposed for review with, nor linked to, the first again', '5f0c6a8e-8d4b-4f7e-9a39-0c1d2e3f4a5b'),
    reason,
  })
  .openapi('MarkDistinct');
export type DistinctBody = z.infer<typeof distinctBody>;

export const distinctResultSchema = z
  .object({
    decisionId: decisionIdOut,
    a: z.string().openapi({ example: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }),
    b: z.string().openapi({ example: '5f0c6a8e-8d4b-4f7e-9a39-0c1d2e3f4a5b' }),
    unchanged,
  })
  .openapi('DistinctResult');
export type DistinctResultBody = z.infer<typeof distinctResultSchema>;

// ---- routes --------------------------------------------------------------------------------------------------------

const base = '/admin/v1/referentials/{referential}';
const json = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });
const noReferential = 'No such referential, or no such golden record, review item or decision in it';

const reviewListRoute = createRoute({
  method: 'get',
  path: `${base}/review`,
  operationId: 'adminListReviewItems',
  tags: [adminTag],
  summary: 'The review queue of a referential: near matches waiting for a steward, oldest first (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: {
    params: z.object({ referential: referentialParam }).superRefine(storable),
    query: z.object({
      status: reviewStatus.optional().openapi({ description: 'Only items in this state (open: waiting; linked, distinct: decided); default every state', example: 'open' }),
      limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ example: 100 }),
    }),
  },
  responses: {
    200: json('The items, by id', z.object({ items: z.array(reviewItemSchema) }).openapi('ReviewItemList')),
    ...adminProblemResponses,
    404: problemResponse('No such referential'),
  },
});

const reviewDecisionRoute = createRoute({
  method: 'post',
  path: `${base}/review/{reviewId}/decision`,
  operationId: 'adminDecideReviewItem',
  tags: [adminTag],
  summary: 'Decide a review item: link it to a candidate (a merge) or keep it distinct; deciding again the same way changes nothing (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ referential: referentialParam, reviewId: serial('reviewId', 'A review item', '17') }).superRefine(storable), body: jsonBody(reviewDecisionBody) },
  responses: {
    200: json('The item as decided', reviewDecisionSchema),
    ...adminProblemResponses,
    404: problemResponse(noReferential),
    409: problemResponse('Already decided differently, or the records are no longer both active'),
    422: problemResponse('goldenId is not a candidate of the item'),
  },
});

const mergeRoute = createRoute({
  method: 'post',
  path: `${base}/merges`,
  operationId: 'adminMergeGoldenRecords',
  tags: [adminTag],
  summary: 'Merge one golden record into another; undone exactly by an unmerge (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ referential: referentialParam }).superRefine(storable), body: jsonBody(mergeBody) },
  responses: {
    201: json('Merged', mergeResultSchema),
    200: json('That merge was already in place: nothing changed', mergeResultSchema),
    ...adminProblemResponses,
    404: problemResponse(noReferential),
    409: problemResponse('One of the records is not active (already merged elsewhere, or retired)'),
    422: problemResponse('A record cannot be merged with itself'),
  },
});

const unmergeRoute = createRoute({
  method: 'post',
  path: `${base}/merges/{decisionId}/unmerge`,
  operationId: 'adminUnmergeGoldenRecords',
  tags: [adminTag],
  summary: 'Undo a merge, restoring exactly the records, links and natural keys it replaced (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ referential: referentialParam, decisionId: serial('decisionId', 'The merge decision (from a merge or a linked review item)', '42') }).superRefine(storable), body: jsonBody(unmergeBody) },
  responses: {
    200: json('Restored (or already undone: unchanged)', unmergeResultSchema),
    ...adminProblemResponses,
    404: problemResponse(noReferential),
    409: problemResponse('A record changed since the merge: restoring would lose that change'),
  },
});

const distinctRoute = createRoute({
  method: 'post',
  path: `${base}/distinct`,
  operationId: 'adminMarkGoldenRecordsDistinct',
  tags: [adminTag],
  summary: 'Remember that two golden records are different entities: never proposed nor linked together again (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ referential: referentialParam }).superRefine(storable), body: jsonBody(distinctBody) },
  responses: {
    201: json('Remembered', distinctResultSchema),
    200: json('Already remembered: nothing changed', distinctResultSchema),
    ...adminProblemResponses,
    404: problemResponse(noReferential),
    422: problemResponse('A record cannot be distinct from itself'),
  },
});

// ---- handlers ------------------------------------------------------------------------------------------------------

/** The hub's referential of that name (the catalog it was given): a 404 problem when it has none. */
function moduleNamed(referentials: ReferentialCatalog | undefined, name: string): ReferentialModule {
  const module = referentials?.module(name);
  if (!module) throw new ProblemError('not-found', `no referential named ${name}`, { errors: [{ location: 'path.referential', message: 'unknown referential' }] });
  return module;
}

/**
 * Review items and steward decisions are numbered across referentials, and the engine finds them by id alone: one
 * reached under another referential's path is answered as not found there. (A row's referential never changes.)
 */
async function ensureIn(db: Queryable, table: 'ref_review_items' | 'ref_steward_decisions', id: string, referential: string, what: string): Promise<void> {
  const { rows } = await db.query<{ referential: string }>(`SELECT referential FROM ${table} WHERE id = $1`, [id]);
  if (rows[0]?.referential !== referential) throw new ProblemError('not-found', `no ${what} ${id} in ${referential}`);
}

export function registerStewardshipRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(reviewListRoute, async (c) => {
    const module = moduleNamed(c.var.deps.referentials, c.req.valid('param').referential);
    const { status, limit } = c.req.valid('query');
    const items = await reviewQueue(c.var.deps.db, module, { ...(status ? { status } : {}), limit });
    return c.json({ items: items.map(toItem) }, 200);
  });

  app.openapi(reviewDecisionRoute, async (c) => {
    const { referential, reviewId } = c.req.valid('param');
    const module = moduleNamed(c.var.deps.referentials, referential);
    const body = c.req.valid('json');
    await ensureIn(c.var.deps.db, 'ref_review_items', reviewId, module.name, 'review item');
    const result = await decideReview(c.var.deps.db, {
      reviewId,
      decision: body.decision,
      ...(body.goldenId === undefined ? {} : { goldenId: body.goldenId }),
      actor: operatorActor(c.var.operator),
      reason: body.reason,
      module,
    }, { reportFailure: backgroundFailureReporter(c.var.deps.logger, c.var.deps.metrics) });
    return c.json({ item: toItem(result.item), unchanged: result.unchanged, ...(result.mergeDecisionId ? { mergeDecisionId: String(result.mergeDecisionId) } : {}) }, 200);
  });

  app.openapi(mergeRoute, async (c) => {
    const module = moduleNamed(c.var.deps.referentials, c.req.valid('param').referential);
    const body = c.req.valid('json');
    const result = await merge(c.var.deps.db, module, { survivorId: body.survivorId, mergedId: body.mergedId, actor: operatorActor(c.var.operator), reason: body.reason }, { reportFailure: backgroundFailureReporter(c.var.deps.logger, c.var.deps.metrics) });
    const answer = { ...result, decisionId: String(result.decisionId) };
    return result.unchanged ? c.json(answer, 200) : c.json(answer, 201);
  });

  app.openapi(unmergeRoute, async (c) => {
    const { referential, decisionId } = c.req.valid('param');
    const module = moduleNamed(c.var.deps.referentials, referential);
    const body = c.req.valid('json');
    await ensureIn(c.var.deps.db, 'ref_steward_decisions', decisionId, module.name, 'merge decision');
    const result = await unmerge(c.var.deps.db, module, { mergeDecisionId: decisionId, actor: operatorActor(c.var.operator), reason: body.reason }, { reportFailure: backgroundFailureReporter(c.var.deps.logger, c.var.deps.metrics) });
    return c.json({ decisionId: String(result.decisionId), restored: result.restored, unchanged: result.unchanged }, 200);
  });

  app.openapi(distinctRoute, async (c) => {
    const module = moduleNamed(c.var.deps.referentials, c.req.valid('param').referential);
    const body = c.req.valid('json');
    const result = await markDistinct(c.var.deps.db, module, { a: body.a, b: body.b, actor: operatorActor(c.var.operator), reason: body.reason });
    const answer = { decisionId: String(result.decisionId), a: body.a, b: body.b, unchanged: result.unchanged };
    return result.unchanged ? c.json(answer, 200) : c.json(answer, 201);
  });
}
