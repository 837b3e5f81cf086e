// Admin API, conventions: list, verify and activate (the three files sent as contents), revoke.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ConventionVerification } from '../../conventions/signing.ts';
import { listConventions, revokeConvention, type StoredConvention } from '../../conventions/store.ts';
import type { AppEnv } from '../../http/context.ts';
import { problemResponse } from '../../http/problem.ts';
import { operatorActor } from '../actor.ts';
import { activateConventionContents, verifyConventionContents } from '../conventions.ts';
import { adminProblemResponses, adminSecurity, adminTag, hubOf, iso, isoOrNull, jsonBody, requireRole, storable } from './shared.ts';

const subsystemId = (example: string) => z.string().min(1).max(400).openapi({ example });
const dateTime = (example: string | null) => z.string().openapi({ format: 'date-time', example });

export const storedConventionSchema = z
  .object({
    id: z.string().openapi({ example: 'MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics' }),
    version: z.number().int().openapi({ example: 1 }),
    provider: subsystemId('MA/GOV/METLE/qualification-btp'),
    service: z.string().openapi({ example: 'classification' }),
    consumer: subsystemId('MA/GOV/MEF/marches-publics'),
    status: z.enum(['active', 'superseded', 'revoked']).openapi({ example: 'active' }),
    openapiDigest: z.string().openapi({ description: 'base64url SHA-256 of the OpenAPI bytes signed', example: 'Xb2E7Yp1iQm2wq0p2kC9Jt1v5sR5bqk0m1cK3c5VQyU' }),
    activatedAt: dateTime('2025-06-01T09:00:00.000Z'),
    activatedBy: z.string().openapi({ example: 'operator:3f9a1c2b4d5e6f70' }),
    supersededAt: dateTime(null).nullable(),
    revokedAt: dateTime(null).nullable(),
    revokedBy: z.string().nullable().openapi({ example: null }),
    revokedReason: z.string().nullable().openapi({ example: null }),
  })
  .openapi('StoredConvention', { description: 'A version of a convention as the hub stored it at activation' });
export type StoredConventionBody = z.infer<typeof storedConventionSchema>;

function toBody(c: StoredConvention): StoredConventionBody {
  return { ...c, activatedAt: iso(c.activatedAt), supersededAt: isoOrNull(c.supersededAt), revokedAt: isoOrNull(c.revokedAt) };
}

const listRoute = createRoute({
  method: 'get',
  path: '/admin/v1/conventions',
  operationId: 'adminListConventions',
  tags: [adminTag],
  summary: 'Stored conventions, every version, filtered (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: {
    query: z.object({
      status: z.enum(['active', 'superseded', 'revoked']).optional().openapi({ example: 'active' }),
      consumer: z.string().min(1).optional().openapi({ example: 'MA/GOV/MEF/marches-publics' }),
      provider: z.string().min(1).optional().openapi({ example: 'MA/GOV/METLE/qualification-btp' }),
    }).superRefine(storable),
  },
  responses: {
    200: { description: 'By provider, service, consumer, id and version', content: { 'application/json': { schema: z.object({ conventions: z.array(storedConventionSchema) }).openapi('ConventionList') } } },
    ...adminProblemResponses,
  },
});

export const conventionFilesBody = z
  .object({
    yaml: z.string().min(1).openapi({ description: "The convention's YAML, exactly as signed", example: 'id: MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics\nversion: 1\n…' }),
    openapi: z.string().min(1).openapi({ description: "The service's OpenAPI document, exactly the bytes (UTF-8) whose digest was signed", example: 'openapi: 3.1.0\n…' }),
    jws: z.string().min(1).openapi({ description: 'The .jws file: a General JSON JWS with the parties\' signatures', example: '{"payload":"eyJ…","signatures":[…]}' }),
  })
  .openapi('ConventionFiles', { description: 'The three files of a convention, as their contents (laid out as in contracts/ by the hub)' });
export type ConventionFilesBody = z.infer<typeof conventionFilesBody>;

const signatureCheckSchema = z.object({
  signer: z.string().nullable().openapi({ example: 'MA/GOV/METLE/qualification-btp' }),
  role: z.string().nullable().openapi({ example: 'provider' }),
  kid: z.string().nullable().openapi({ example: 'es256-2025' }),
  alg: z.string().nullable().openapi({ example: 'ES256' }),
  ok: z.boolean().openapi({ example: true }),
  reason: z.string().optional().openapi({ example: 'key es256-2024 of MA/GOV/METLE/qualification-btp is revoked' }),
});

const conventionIdentSchema = z.object({
  id: z.string().openapi({ example: 'MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics' }),
  version: z.number().int().openapi({ example: 1 }),
  provider: subsystemId('MA/GOV/METLE/qualification-btp'),
  service: z.string().openapi({ example: 'classification' }),
  consumer: subsystemId('MA/GOV/MEF/marches-publics'),
});

export const verificationSchema = z
  .object({
    ok: z.boolean().openapi({ description: "True when the YAML is valid and the provider's and consumer's signatures verify over it and the OpenAPI bytes", example: true }),
    convention: conventionIdentSchema.optional(),
    openapiDigest: z.string().optional().openapi({ example: 'Xb2E7Yp1iQm2wq0p2kC9Jt1v5sR5bqk0m1cK3c5VQyU' }),
    signatures: z.array(signatureCheckSchema),
    problems: z.array(z.string()).openapi({ example: [] }),
  })
  .openapi('ConventionVerification');
export type VerificationBody = z.infer<typeof verificationSchema>;

function verificationBody(v: ConventionVerification): VerificationBody {
  const c = v.convention;
  return {
    ok: v.ok,
    ...(c ? { convention: { id: c.id, version: c.version, provider: c.provider, service: c.service, consumer: c.consumer } } : {}),
    ...(v.openapiDigest ? { openapiDigest: v.openapiDigest } : {}),
    signatures: v.signatures,
    problems: v.problems,
  };
}

const verifyRoute = createRoute({
  method: 'post',
  path: '/admin/v1/conventions/verify',
  operationId: 'adminVerifyConvention',
  tags: [adminTag],
  summary: 'Verify a convention and its signatures without activating it (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: { body: jsonBody(conventionFilesBody) },
  responses: {
    200: { description: 'The verification report: `ok` false with the problems when it does not verify', content: { 'application/json': { schema: verificationSchema } } },
    ...adminProblemResponses,
    422: problemResponse('A hostile YAML (aliases expanding beyond bounds, text that cannot be stored): refused, not verified'),
  },
});

export const activationSchema = z
  .object({
    id: z.string().openapi({ example: 'MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics' }),
    version: z.number().int().openapi({ example: 1 }),
    superseded: z.number().int().nullable().openapi({ description: 'The version that this one superseded', example: null }),
    jws: z.string().openapi({ description: "The .jws with the hub's countersignature added: keep it beside the YAML", example: '{"payload":"eyJ…","signatures":[…]}' }),
    verification: verificationSchema,
  })
  .openapi('ConventionActivation');
export type ActivationBody = z.infer<typeof activationSchema>;

const activateRoute = createRoute({
  method: 'post',
  path: '/admin/v1/conventions/activate',
  operationId: 'adminActivateConvention',
  tags: [adminTag],
  summary: 'Activate a convention signed by its provider and consumer: the hub countersigns and enforces it (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(conventionFilesBody) },
  responses: {
    201: { description: 'Activated; every hub process enforces it from its next registry poll', content: { 'application/json': { schema: activationSchema } } },
    ...adminProblemResponses,
    409: problemResponse('The version is not above the stored ones, or another convention is active for this consumer and service'),
    422: problemResponse('The convention does not verify: one `errors` entry per problem'),
  },
});

export const revokeConventionBody = z
  .object({
    id: z.string().min(1).openapi({ example: 'MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics' }),
    version: z.number().int().min(1).optional().openapi({ description: 'Default: the active version', example: 1 }),
    reason: z.string().min(1).max(500).openapi({ example: 'the consumer no longer has the legal basis' }),
  })
  .openapi('RevokeConvention');
export type RevokeConventionBody = z.infer<typeof revokeConventionBody>;

const revokeRoute = createRoute({
  method: 'post',
  path: '/admin/v1/conventions/revoke',
  operationId: 'adminRevokeConvention',
  tags: [adminTag],
  summary: 'Revoke a convention: every hub process stops enforcing it at its next registry poll (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(revokeConventionBody) },
  responses: {
    200: { description: 'The revoked version', content: { 'application/json': { schema: storedConventionSchema } } },
    ...adminProblemResponses,
    404: problemResponse('No such convention or version'),
    409: problemResponse('Already revoked'),
    422: problemResponse('The revocation is refused'),
  },
});

export function registerConventionRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const { status, consumer, provider } = c.req.valid('query');
    return c.json({ conventions: (await listConventions(c.var.deps.db, { status, consumer, provider })).map(toBody) }, 200);
  });

  app.openapi(verifyRoute, async (c) => {
    const { keyring } = hubOf(c.var.deps);
    const verification = await verifyConventionContents(c.var.deps.db, c.req.valid('json'), { hubId: c.var.deps.config.HUB_ID, keyring });
    return c.json(verificationBody(verification), 200);
  });

  app.openapi(activateRoute, async (c) => {
    const { keyring } = hubOf(c.var.deps);
    const result = await activateConventionContents(c.var.deps.db, c.req.valid('json'), { keyring, actor: operatorActor(c.var.operator) });
    return c.json({ id: result.id, version: result.version, superseded: result.superseded, jws: result.jws, verification: verificationBody(result.verification) }, 201);
  });

  app.openapi(revokeRoute, async (c) => {
    const body = c.req.valid('json');
    const revoked = await revokeConvention(c.var.deps.db, { id: body.id, version: body.version, reason: body.reason, actor: operatorActor(c.var.operator) });
    return c.json(toBody(revoked), 200);
  });
}
