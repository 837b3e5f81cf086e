// Admin API, message log: verify the hash chain and the signed checkpoints (auditor), purge by retention date (admin).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { verifyLog } from '../../message-log/index.ts';
import type { AppEnv } from '../../http/context.ts';
import { problemResponse } from '../../http/problem.ts';
import { operatorActor } from '../actor.ts';
import { parsePurgeDate, purgeLogAudited } from '../log.ts';
import { isBigintText } from '../../storage/storable.ts';
import { adminProblemResponses, adminSecurity, adminTag, hubOf, jsonBody, requireRole } from './shared.ts';

const seq = z.string().openapi({ description: 'A message-log sequence number (decimal string: it may exceed 2^53)', example: '1042' });

export const logVerificationSchema = z
  .object({
    ok: z.boolean().openapi({ example: true }),
    rowsChecked: z.number().int().openapi({ example: 1042 }),
    checkpointsChecked: z.number().int().openapi({ example: 11 }),
    firstSeq: seq.optional(),
    lastSeq: seq.optional(),
    problems: z.array(
      z.object({
        seq,
        kind: z.enum(['changed', 'deleted', 'inserted', 'checkpoint-invalid', 'checkpoint-mismatch']).openapi({ example: 'changed' }),
        detail: z.string().openapi({ example: 'its content no longer matches its hash (stored 3f1a…, recomputed 9b07…)' }),
      }),
    ),
  })
  .openapi('LogVerification');
export type LogVerificationBody = z.infer<typeof logVerificationSchema>;

const verifyRoute = createRoute({
  method: 'get',
  path: '/admin/v1/log/verify',
  operationId: 'adminVerifyLog',
  tags: [adminTag],
  summary: "Verify the message log's hash chain and signed checkpoints (auditor)",
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: {
    query: z.object({
      from: z.string().regex(/^\d{1,19}$/, 'must be a seq (a positive integer)').refine(isBigintText, 'must be a seq (at most 2^63-1)').optional().openapi({ description: 'Start at the nearest valid checkpoint at or before this seq', example: '1000' }),
    }),
  },
  responses: {
    200: { description: 'The report: `ok` false with one problem per altered, deleted or inserted row when the log is not intact', content: { 'application/json': { schema: logVerificationSchema } } },
    ...adminProblemResponses,
  },
});

export const purgeBody = z
  .object({ before: z.string().min(1).openapi({ description: 'ISO 8601 date: rows older are purged, up to the last signed checkpoint before it', example: '2024-01-01' }) })
  .openapi('PurgeLog');
export type PurgeBody = z.infer<typeof purgeBody>;

export const purgeResultSchema = z
  .object({
    deleted: z.number().int().openapi({ example: 5120 }),
    anchor: z.object({ seq, hash: z.string().openapi({ example: 'b1946ac92492d2347c6235b4d2611184' }) }).optional().openapi({ description: 'Where the remaining chain starts' }),
  })
  .openapi('PurgeResult');

const purgeRoute = createRoute({
  method: 'post',
  path: '/admin/v1/log/purge',
  operationId: 'adminPurgeLog',
  tags: [adminTag],
  summary: 'Purge the message log before a date, anchoring what remains to a signed checkpoint (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(purgeBody) },
  responses: {
    200: { description: 'Purged (possibly nothing: rows after the last checkpoint before the date stay)', content: { 'application/json': { schema: purgeResultSchema } } },
    ...adminProblemResponses,
    409: problemResponse('Refused: the checkpoint boundary does not verify; run the log verification'),
  },
});

export function registerLogRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(verifyRoute, async (c) => {
    const { keyring } = hubOf(c.var.deps);
    return c.json(await verifyLog(c.var.deps.db, keyring, { fromSeq: c.req.valid('query').from }), 200);
  });

  app.openapi(purgeRoute, async (c) => {
    const before = parsePurgeDate(c.req.valid('json').before);
    return c.json(await purgeLogAudited(c.var.deps.db, { before, actor: operatorActor(c.var.operator) }), 200);
  });
}
