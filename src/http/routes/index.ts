// The route modules that the hub serves beyond the core operations routes; openapi.yaml is generated from the same list.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { registerAdminRoutes } from '../../admin/http/index.ts';
import { registerExchangeRoutes } from './exchange.ts';
import { registerExchangeSpec } from './exchange-spec.ts';
import { registerSyncPullRoutes } from './sync-pull.ts';
import { registerConsoleRoutes } from '../../console/index.tsx';

export type RouteModule = (app: OpenAPIHono<AppEnv>) => void;

// Exchange, admin and referential routes register here as they land.
export const routeModules: RouteModule[] = [registerExchangeRoutes, registerExchangeSpec, registerAdminRoutes, registerSyncPullRoutes, registerConsoleRoutes];

export function registerAllRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const register of routeModules) register(app);
}
