// The typed Hono context: dependencies injected once per app, read by handlers through c.var.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { ReferentialCatalog } from '../golden/catalog.ts';
import type { HubServices } from '../hub/services.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Queue } from '../queue/queue.ts';
import type { Db } from '../storage/db.ts';

export interface AppDeps {
  config: Pick<Config, 'HUB_ID' | 'BODY_LIMIT_BYTES'> & Partial<Pick<Config, 'BODY_TIMEOUT_SECONDS'>>;
  db: Db;
  queue: Queue;
  logger: Logger;
  metrics: Metrics;
  /** The exchange side (keys, conventions, pipeline); absent only where no exchange is served (OpenAPI generation). */
  hub?: HubServices;
  /** The referentials the admin API's stewardship routes serve (the hub's: HubServices.referentials); absent: none. */
  referentials?: ReferentialCatalog;
  /** Set while the process drains on shutdown: /readyz answers 503 so that balancers stop sending traffic. */
  draining?: () => boolean;
}

export interface AppEnv {
  /** Set by @hono/node-server; absent when the app is called in-process (tests). */
  Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse };
  Variables: {
    deps: AppDeps;
    requestId: string;
  };
}
