// Plug-in point for what lives outside src/ (adapters, the demo world): registered by the composition root (bin/),
// started by serve once the HTTP server listens, stopped on shutdown. src/ never imports adapters/.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { HubServices } from './hub/services.ts';
import type { BackgroundFailureReport } from './observability/metrics.ts';
import type { OutboxConsumer } from './runtime.ts';
import type { Db } from './storage/db.ts';

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

export interface HubPlugin {
  name: string;
  start(context: PluginContext): Promise<RunningPlugin | undefined>;
}

const plugins: HubPlugin[] = [];

export function registerPlugin(plugin: HubPlugin): void {
  if (!plugins.some((p) => p.name === plugin.name)) plugins.push(plugin);
}

export function registeredPlugins(): readonly HubPlugin[] {
  return plugins;
}

// Outbox consumers that modules outside the hub's core register (referential batches…): serve and worker run them
// when startHub is given no explicit list.
const outboxConsumers: OutboxConsumer[] = [];

export function registerOutboxConsumer(consumer: OutboxConsumer): void {
  if (!outboxConsumers.some((c) => c.topic === consumer.topic)) outboxConsumers.push(consumer);
}

export function registeredOutboxConsumers(): readonly OutboxConsumer[] {
  return outboxConsumers;
}
