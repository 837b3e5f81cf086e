// Admin API, service bindings: how the hub reaches each provider service (a base URL or an adapter).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../http/context.ts';
import { operatorActor } from '../actor.ts';
import { listBindings, setBinding } from '../bindings.ts';
import { adminProblemResponses, adminSecurity, adminTag, jsonBody, requireRole } from './shared.ts';

const serviceId = z.string().min(1).max(400).openapi({ description: 'A service id: provider subsystem plus service code', example: 'MA/GOV/METLE/qualification-btp/classification' });
const timeoutMs = z.number().int().min(1).max(300_000).openapi({ description: 'How long the hub waits for the provider', example: 10000 });

export const bindingSchema = z
  .object({
    serviceId,
    kind: z.enum(['http', 'adapter']).openapi({ example: 'http' }),
    baseUrl: z.string().optional().openapi({ example: 'https://qualification-btp.metle.gov.ma/api' }),
    adapter: z.string().optional().openapi({ example: 'metle:soap-classification' }),
    timeoutMs,
    forwardProof: z.enum(['hs256']).optional().openapi({ description: "Present when the hub proves its calls to the provider with this binding's HS256 key; absent, with the hub's ES256 key (docs/protocol.md §5)", example: 'hs256' }),
    forwardKeyId: z.string().optional().openapi({ description: "With hs256: the id of the binding's key (the key itself is never returned here)", example: 'fk-3q2Zb7yXk1mN0pQr' }),
  })
  .openapi('ServiceBinding');
export type BindingBody = z.infer<typeof bindingSchema>;

const listRoute = createRoute({
  method: 'get',
  path: '/admin/v1/bindings',
  operationId: 'adminListBindings',
  tags: [adminTag],
  summary: 'Service bindings, by service id (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  responses: {
    200: { description: 'Every binding', content: { 'application/json': { schema: z.object({ bindings: z.array(bindingSchema) }).openapi('ServiceBindingList') } } },
    ...adminProblemResponses,
  },
});

export const setBindingBody = z
  .object({
    serviceId,
    baseUrl: z.string().min(1).optional().openapi({ description: 'A REST service: http(s) base URL, no query (exactly one of baseUrl and adapter)', example: 'https://qualification-btp.metle.gov.ma/api' }),
    adapter: z.string().min(1).optional().openapi({ description: 'A binding implemented in code, by name', example: 'metle:soap-classification' }),
    timeoutMs: timeoutMs.optional().openapi({ description: 'Default 10000' }),
    forwardProof: z.enum(['es256', 'hs256']).optional().openapi({ description: "es256 (default): the hub's key, verified with its JWKS; hs256: a key of this binding's own, one signature fewer per exchange (REST bindings only)" }),
    rotateForwardKey: z.boolean().optional().openapi({ description: 'With hs256: a new key (the provider must be given it)' }),
  })
  .openapi('SetServiceBinding');
export type SetBindingBody = z.infer<typeof setBindingBody>;

const setRoute = createRoute({
  method: 'put',
  path: '/admin/v1/bindings',
  operationId: 'adminSetBinding',
  tags: [adminTag],
  summary: "Set a service's binding; hub processes pick it up at their next registry poll (admin)",
  security: adminSecurity,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonBody(setBindingBody) },
  responses: { 200: { description: 'The binding as stored', content: { 'application/json': { schema: bindingSchema } } }, ...adminProblemResponses },
});

export function registerBindingRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => c.json({ bindings: await listBindings(c.var.deps.db) }, 200));

  app.openapi(setRoute, async (c) => {
    const body = c.req.valid('json');
    return c.json(await setBinding(c.var.deps.db, { ...body, actor: operatorActor(c.var.operator) }), 200);
  });
}
