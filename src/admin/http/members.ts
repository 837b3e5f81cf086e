// Admin API, members and subsystems: list, register, add keys, revoke a key, disable or enable.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { addMemberKeys, listMembers, registerMember, revokeMemberKey, setMemberStatus, type Member } from '../../identity/members.ts';
import type { AppEnv } from '../../http/context.ts';
import { problemResponse } from '../../http/problem.ts';
import { operatorActor } from '../actor.ts';
import { adminProblemResponses, adminSecurity, adminTag, iso, isoOrNull, jsonBody, requireRole } from './shared.ts';

const memberId = z.string().min(1).max(400).openapi({ description: 'A member (INSTANCE/CLASS/CODE) or subsystem (one more part) id', example: 'MA/GOV/MEF/marches-publics' });

const publicJwk = z.record(z.string(), z.unknown()).openapi({
  description: 'A public JWK: EC P-256 (ES256) or OKP Ed25519 (EdDSA), with a kid; private parameters are refused',
  example: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'es256-2025', alg: 'ES256', use: 'sig' },
});
// A member holds a few keys (one in use, one before a rotation); the bound also stops zod at the length check instead
// of checking (and reporting) every item of a hostile list.
const maxKeysPerSet = 20;
const jwksInput = z.object({ keys: z.array(publicJwk).max(maxKeysPerSet) }).openapi('PublicJwkSet', { description: 'A JWK set of public keys (tabadol keys generate writes one: public.jwks)' });

const memberKeySchema = z.object({
  kid: z.string().openapi({ example: 'es256-2025' }),
  alg: z.enum(['ES256', 'EdDSA']).openapi({ example: 'ES256' }),
  status: z.enum(['active', 'revoked']).openapi({ example: 'active' }),
  jwk: z.record(z.string(), z.unknown()).openapi({ description: 'The public JWK as registered' }),
  createdAt: z.string().openapi({ format: 'date-time', example: '2025-06-01T09:00:00.000Z' }),
  revokedAt: z.string().nullable().openapi({ format: 'date-time', example: null }),
});

export const memberSchema = z
  .object({
    id: memberId,
    kind: z.enum(['member', 'subsystem']).openapi({ example: 'subsystem' }),
    name: z.string().openapi({ example: 'Portail des marchés publics' }),
    status: z.enum(['active', 'disabled']).openapi({ example: 'active' }),
    createdAt: z.string().openapi({ format: 'date-time', example: '2025-06-01T09:00:00.000Z' }),
    keys: z.array(memberKeySchema),
  })
  .openapi('Member', { description: 'A member or subsystem with its public keys' });
export type MemberBody = z.infer<typeof memberSchema>;

function toBody(member: Member): MemberBody {
  return {
    id: member.id,
    kind: member.kind,
    name: member.name,
    status: member.status,
    createdAt: iso(member.createdAt),
    keys: member.keys.map((k) => ({ kid: k.kid, alg: k.alg, status: k.status, jwk: { ...k.jwk }, createdAt: iso(k.createdAt), revokedAt: isoOrNull(k.revokedAt) })),
  };
}

const memberResponse = (description: string) => ({ description, content: { 'application/json': { schema: memberSchema } } });

const listRoute = createRoute({
  method: 'get',
  path: '/admin/v1/members',
  operationId: 'adminListMembers',
  tags: [adminTag],
  summary: 'Members and subsystems with their keys (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  responses: {
    200: { description: 'Every member and subsystem, by id', content: { 'application/json': { schema: z.object({ members: z.array(memberSchema) }).openapi('MemberList') } } },
    ...adminProblemResponses,
  },
});

export const registerMemberBody = z
  .object({
    id: memberId,
    name: z.string().min(1).max(200).openapi({ example: 'Portail des marchés publics' }),
    jwks: jwksInput.optional().openapi({ description: 'Required for a subsystem (it calls or serves); optional for a plain member' }),
  })
  .openapi('RegisterMember');
export type RegisterMemberBody = z.infer<typeof registerMemberBody>;

const registerRoute = createRoute({
  method: 'post',
  path: '/admin/v1/members',
  operationId: 'adminRegisterMember',
  tags: [adminTag],
  summary: 'Register a member or a subsystem with its public keys (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(registerMemberBody) },
  responses: { 201: memberResponse('Registered'), ...adminProblemResponses, 409: problemResponse('Already registered') },
});

export const addKeysBody = z.object({ id: memberId, jwks: jwksInput }).openapi('AddMemberKeys');
export type AddKeysBody = z.infer<typeof addKeysBody>;

const addKeysRoute = createRoute({
  method: 'post',
  path: '/admin/v1/members/keys',
  operationId: 'adminAddMemberKeys',
  tags: [adminTag],
  summary: "Add public keys to a member or subsystem, e.g. before rotating (admin)",
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(addKeysBody) },
  responses: {
    200: memberResponse('The member with its keys'),
    ...adminProblemResponses,
    404: problemResponse('No such member or subsystem'),
    409: problemResponse('A kid is already registered (kids are never reused)'),
  },
});

export const revokeKeyBody = z
  .object({
    id: memberId,
    kid: z.string().min(1).max(128).openapi({ example: 'es256-2024' }),
    reason: z.string().max(500).optional().openapi({ example: 'key rotated' }),
    compromised: z.boolean().optional().openapi({ description: 'the key leaked: also stop enforcing the conventions it signed until they are signed again', example: false }),
  })
  .openapi('RevokeMemberKey');
export type RevokeKeyBody = z.infer<typeof revokeKeyBody>;

const revokeKeyRoute = createRoute({
  method: 'post',
  path: '/admin/v1/members/keys/revoke',
  operationId: 'adminRevokeMemberKey',
  tags: [adminTag],
  summary: 'Revoke a key: requests and convention signatures made with it stop verifying (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(revokeKeyBody) },
  responses: { 200: memberResponse('The member with its keys'), ...adminProblemResponses, 404: problemResponse('No such member, or no active key with that kid') },
});

export const setStatusBody = z
  .object({
    id: memberId,
    status: z.enum(['active', 'disabled']).openapi({ description: "Disabling a member disables its subsystems with it", example: 'disabled' }),
    reason: z.string().max(500).optional().openapi({ example: 'convention suspended pending audit' }),
  })
  .openapi('SetMemberStatus');
export type SetStatusBody = z.infer<typeof setStatusBody>;

const setStatusRoute = createRoute({
  method: 'post',
  path: '/admin/v1/members/status',
  operationId: 'adminSetMemberStatus',
  tags: [adminTag],
  summary: 'Disable or enable a member or subsystem (admin)',
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(setStatusBody) },
  responses: { 200: memberResponse('The member as it is now'), ...adminProblemResponses, 404: problemResponse('No such member or subsystem') },
});

export function registerMemberRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => c.json({ members: (await listMembers(c.var.deps.db)).map(toBody) }, 200));

  app.openapi(registerRoute, async (c) => {
    const body = c.req.valid('json');
    const member = await registerMember(c.var.deps.db, { id: body.id, name: body.name, jwks: body.jwks, actor: operatorActor(c.var.operator) });
    return c.json(toBody(member), 201);
  });

  app.openapi(addKeysRoute, async (c) => {
    const body = c.req.valid('json');
    const member = await addMemberKeys(c.var.deps.db, { id: body.id, jwks: body.jwks, actor: operatorActor(c.var.operator) });
    return c.json(toBody(member), 200);
  });

  app.openapi(revokeKeyRoute, async (c) => {
    const body = c.req.valid('json');
    const member = await revokeMemberKey(c.var.deps.db, { id: body.id, kid: body.kid, reason: body.reason, compromised: body.compromised ?? false, actor: operatorActor(c.var.operator) });
    return c.json(toBody(member), 200);
  });

  app.openapi(setStatusRoute, async (c) => {
    const body = c.req.valid('json');
    const member = await setMemberStatus(c.var.deps.db, { id: body.id, status: body.status, reason: body.reason, actor: operatorActor(c.var.operator) });
    return c.json(toBody(member), 200);
  });
}
