// The exchange side of a hub process: keys, directory, conventions, limiter, forwarder, message log and the pipeline;
// and the referentials it serves (its catalog, from its parts).
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { ConventionRegistry } from '../conventions/registry.ts';
import { memberKeyResolver } from '../identity/key-resolvers.ts';
import { RegistryVersionPoller } from '../storage/registry-version.ts';
import { HubDirectory } from '../exchange/directory.ts';
import { ReferentialCatalog } from '../golden/catalog.ts';
import type { ReferentialModule } from '../golden/module.ts';
import { AdapterBindings, type AdapterBinding } from '../exchange/bindings.ts';
import { Forwarder } from '../exchange/forward.ts';
import { createPostgresLimiter, createRedisLimiter, type ExchangeLimiter } from '../exchange/limits.ts';
import { MetaServices } from '../exchange/meta.ts';
import { ExchangePipeline, type ExchangeDeps } from '../exchange/pipeline.ts';
import { HubKeyring, loadOrCreateHubKeys } from '../identity/hub-keys.ts';
import { MessageLog } from '../message-log/message-log.ts';
import { backgroundFailureReporter, type BackgroundFailureReport } from '../observability/metrics.ts';
import type { Db } from '../storage/db.ts';
import { transparencyBinding } from '../transparency/service.ts';
import { ensureHubIdentity, transparencyAdapter } from './bootstrap.ts';

export interface HubServices {
  keyring: HubKeyring;
  /** This hub's adapter bindings (its parts' and its own services'); plug-ins add theirs at start. */
  adapters: AdapterBindings;
  directory: HubDirectory;
  conventions: ConventionRegistry;
  limiter: ExchangeLimiter;
  log: MessageLog;
  pipeline: ExchangePipeline;
  /** The referentials this hub was given (HubParts.referentials): no other hub's. */
  referentials: ReferentialCatalog;
  close(): Promise<void>;
}

export async function startHubServices(config: Config, db: Db, logger: Logger, options: { adapters?: Readonly<Record<string, AdapterBinding>>; referentials?: readonly ReferentialModule[]; queuePrefix?: string; pollMs?: number; recordExchange?: ExchangeDeps['recordExchange']; reportBackgroundFailure?: BackgroundFailureReport } = {}): Promise<HubServices> {
  const referentials = new ReferentialCatalog(options.referentials);
  const keyring = new HubKeyring(config.HUB_ID, await loadOrCreateHubKeys({ dataDir: config.DATA_DIR, hubKeyFile: config.HUB_KEY_FILE }));
  await ensureHubIdentity(db, keyring);
  const adapters = new AdapterBindings(options.adapters);
  adapters.register(transparencyAdapter, transparencyBinding(db, keyring));
  const onError = (err: Error) => logger.warn({ err: { name: err.name, message: err.message } }, 'registry reload failed; serving the last verified state');
  const directory = new HubDirectory(db);
  await directory.reload();
  let pipeline: ExchangePipeline | undefined; // eslint-disable-line prefer-const -- read by onReload before it is assigned
  const conventions = new ConventionRegistry(db, {
    resolveKey: memberKeyResolver(db),
    keyring,
    onError,
    onReload: ({ refused }) => {
      // Contracts compiled now rather than inside the first call under each convention (pipeline.prepare).
      if (pipeline) void pipeline.prepare(conventions.all());
      for (const r of refused) logger.error({ convention: `${r.id} v${r.version}`, problems: r.problems }, 'active convention refused: its signatures do not verify; not enforced');
    },
  });
  await conventions.reload();
  // One poll of registry_version for both views: each reloads when a change was committed by any process.
  const registryPoller = new RegistryVersionPoller(db, [directory, conventions], onError);
  registryPoller.start(options.pollMs ?? 1000);
  const limiter = config.REDIS_URL ? createRedisLimiter({ redisUrl: config.REDIS_URL, prefix: options.queuePrefix }) : createPostgresLimiter(db, options.reportBackgroundFailure ?? backgroundFailureReporter(logger));
  const log = new MessageLog({ db, keyring, logger });
  const forwarder = new Forwarder(adapters);
  pipeline = new ExchangePipeline({ hubId: config.HUB_ID, keyring, directory, conventions, limiter, forwarder, log, logger, meta: new MetaServices(directory, conventions), recordExchange: options.recordExchange });
  // In the background: readiness does not wait for contracts that no call may need soon.
  void pipeline.prepare(conventions.all());
  return {
    keyring,
    adapters,
    directory,
    conventions,
    limiter,
    log,
    pipeline,
    referentials,
    async close() {
      await registryPoller.stop();
      await directory.stop();
      await conventions.stop();
      await log.close();
      await limiter.close();
      await forwarder.close();
    },
  };
}
