// Admin API, audit trail: who changed what through the admin API or the CLI, newest first.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../http/context.ts';
import { listAudit } from '../audit.ts';
import { adminProblemResponses, adminSecurity, adminTag, iso, requireRole } from './shared.ts';

export const auditEntrySchema = z
  .object({
    id: z.string().openapi({ example: '57' }),
    at: z.string().openapi({ format: 'date-time', example: '2025-06-01T09:00:00.000Z' }),
    actor: z.string().openapi({ description: '`operator:<id>` (admin API) or `cli:<os user>` (command line)', example: 'operator:3f9a1c2b4d5e6f70' }),
    action: z.string().openapi({ example: 'member.register' }),
    target: z.string().openapi({ example: 'MA/GOV/MEF/marches-publics' }),
    detail: z.record(z.string(), z.unknown()).openapi({ example: { name: 'Portail des marchés publics', kids: ['es256-2025'] } }),
  })
  .openapi('AuditEntry');
export type AuditEntryBody = z.infer<typeof auditEntrySchema>;

const listRoute = createRoute({
  method: 'get',
  path: '/admin/v1/audit',
  operationId: 'adminListAudit',
  tags: [adminTag],
  summary: 'The admin audit trail, newest first (auditor)',
  security: adminSecurity,
  middleware: [requireRole('auditor')] as const,
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ example: 100 }) }) },
  responses: {
    200: { description: 'The latest entries', content: { 'application/json': { schema: z.object({ entries: z.array(auditEntrySchema) }).openapi('AuditList') } } },
    ...adminProblemResponses,
  },
});

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const entries = await listAudit(c.var.deps.db, c.req.valid('query').limit);
    return c.json({ entries: entries.map((e) => ({ ...e, id: String(e.id), at: iso(e.at) })) }, 200);
  });
}
