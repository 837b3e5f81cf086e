// The admin API (/admin/v1): operators authenticate with a bearer token; auditors read and verify, admins do everything.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../http/context.ts';
import { registerAuditRoutes } from './audit.ts';
import { registerBindingRoutes } from './bindings.ts';
import { registerConventionRoutes } from './conventions.ts';
import { registerDeadLetterRoutes } from './dead-letters.ts';
import { registerLogRoutes } from './log.ts';
import { registerMemberRoutes } from './members.ts';
import { registerStewardshipRoutes } from './stewardship.ts';
import { registerSubscriptionRoutes } from './subscriptions.ts';

export function registerAdminRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An operator token (tbd_op_…), created with `tabadol operator add` and shown once',
  });
  registerMemberRoutes(app);
  registerConventionRoutes(app);
  registerBindingRoutes(app);
  registerLogRoutes(app);
  registerAuditRoutes(app);
  registerStewardshipRoutes(app);
  registerSubscriptionRoutes(app);
  registerDeadLetterRoutes(app);
}
