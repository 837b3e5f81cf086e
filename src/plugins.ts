// What a hub is composed of beyond its core: referentials, adapters, outbox consumers, routes and plug-ins, given to
// startHub as an explicit list (HubParts) by the composition root (bin/parts.ts). Nothing here is module-global: two
// hubs in one process share no part they were not both given. src/ never imports adapters/ or the referentials.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { AdapterBinding } from './exchange/bindings.ts';
import type { ReferentialModule } from './golden/module.ts';
import type { HubServices } from './hub/services.ts';
import type { AppEnv } from './http/context.ts';
import type { BackgroundFailureReport } from './observability/metrics.ts';
import type { OutboxHandler } from './queue/outbox.ts';
import type { Db } from './storage/db.ts';
import type { DeliveryHandler } from './sync/push.ts';

export interface PluginContext {
  config: Config;
  db: Db;
  services: HubServices;
  logger: Logger;
  /** The hub's own base URL (loopback), for plugins that call it back (a simulator fetching the hub's JWKS). */
  hubUrl: string;
  /** Logs and counts the failure of work a plugin does in the background (on a timer, after an answer). */
  reportBackgroundFailure: BackgroundFailureReport;
}

export interface RunningPlugin {
  /** One line for the start-up banner, if the plugin has something to tell the operator. */
  banner?: string;
  stop(): Promise<void>;
}

/** Started after the HTTP server listens (serve only), stopped after it has closed. */
export interface HubPlugin {
  name: string;
  start(context: PluginContext): Promise<RunningPlugin | undefined>;
}

/** A module that consumes an outbox topic (referential batches, change events, adapter pushes…). */
export interface OutboxConsumer {
  topic: string;
  handler: OutboxHandler<Record<string, unknown>>;
  concurrency?: number;
}

/** The parts of one hub; each list absent means none. */
export interface HubParts {
  /** The referentials the golden-record engine serves in this hub (HubServices.referentials; each name once). */
  referentials?: readonly ReferentialModule[];
  /** Adapter bindings by the name service_bindings.adapter gives (a plug-in may add more at start: services.adapters). */
  adapters?: Readonly<Record<string, AdapterBinding>>;
  /** Run by the workers (serve and worker). */
  consumers?: readonly OutboxConsumer[];
  /** Add routes to the app (serve only). */
  routes?: ReadonlyArray<(app: OpenAPIHono<AppEnv>) => void>;
  plugins?: readonly HubPlugin[];
  /** In-process receivers of pushed changes, by the name a subscription's `adapter:<name>` target gives (docs/sync.md). */
  deliveryHandlers?: Readonly<Record<string, DeliveryHandler>>;
}

/** Several parts lists as one (the referentials' and the adapters', in bin/parts.ts). */
export function mergeHubParts(...parts: readonly HubParts[]): Required<HubParts> {
  return {
    referentials: parts.flatMap((p) => p.referentials ?? []),
    adapters: Object.assign({}, ...parts.map((p) => p.adapters ?? {})) as Record<string, AdapterBinding>,
    consumers: parts.flatMap((p) => p.consumers ?? []),
    routes: parts.flatMap((p) => p.routes ?? []),
    plugins: parts.flatMap((p) => p.plugins ?? []),
    deliveryHandlers: Object.assign({}, ...parts.map((p) => p.deliveryHandlers ?? {})) as Record<string, DeliveryHandler>,
  };
}
