// What every admin route shares: operator authentication and roles, and the documented responses. (Service refusals
// become problems in the app's onError: http/error-mapping.ts.)
import type { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { HubServices } from '../../hub/services.ts';
import { authenticateOperator, type Operator, type OperatorRole } from '../../identity/operators.ts';
import { requestHeader } from '../../http/app.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { ProblemError, problemResponse, problemResponses } from '../../http/problem.ts';
import { jsonFaults } from '../../storage/storable.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The authenticated operator, set by requireRole before any admin handler runs. */
    operator: Operator;
  }
}

export const adminTag = 'admin';
export const adminSecurity = [{ bearerAuth: [] }];

/** The responses every admin route may give besides its own: spread into each createRoute so that the spec lists them. */
export const adminProblemResponses = {
  ...problemResponses,
  401: problemResponse('No operator token, or an invalid or revoked one (`WWW-Authenticate: Bearer`)'),
  403: problemResponse("The operator's role does not allow this operation (auditors read and verify; admins do everything)"),
} as const;

const unauthenticated = (detail: string) => new ProblemError('unauthenticated', detail, { headers: { 'www-authenticate': 'Bearer realm="tabadol-admin"' } });

/**
 * Authenticates the bearer operator token and checks its role; runs before the request is validated, so that an
 * unauthenticated caller learns nothing about what a valid request looks like. The token itself is never logged.
 */
export function requireRole(role: OperatorRole): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const authorization = requestHeader(c, 'authorization');
    const token = authorization ? /^Bearer +(\S+) *$/i.exec(authorization)?.[1] : undefined;
    if (!token) throw unauthenticated('send the operator token as Authorization: Bearer <token>');
    const operator = await authenticateOperator(c.var.deps.db, token);
    if (!operator) throw unauthenticated('the operator token is invalid or has been revoked');
    if (role === 'admin' && operator.role !== 'admin') {
      throw new ProblemError('forbidden', `operator ${operator.id} is an ${operator.role}: this operation needs the admin role`);
    }
    c.set('operator', operator);
    await next();
  };
}

/** The exchange side of the process; absent only in the app built to generate openapi.yaml. */
export function hubOf(deps: AppDeps): HubServices {
  if (!deps.hub) throw new ProblemError('not-found', 'this process serves no exchanges, so it has no admin API');
  return deps.hub;
}

/**
 * The refinement every admin request schema (body, query, path) carries: text PostgreSQL cannot store (U+0000, a lone
 * surrogate) or a value nested too deep, anywhere in the value, is a request-invalid problem naming the field, decided
 * with the rest of validation, before any SQL (they would otherwise be a 500 from the database).
 */
export function storable(value: unknown, ctx: z.RefinementCtx): void {
  for (const fault of jsonFaults(value)) ctx.addIssue({ code: 'custom', path: fault.path, message: fault.message });
}

/** A required JSON request body of this schema, with the storable refinement. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema: schema.superRefine(storable) } } });

export const iso = (date: Date): string => date.toISOString();
export const isoOrNull = (date: Date | null): string | null => (date ? date.toISOString() : null);
