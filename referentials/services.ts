// The referentials' part of a hub (referentialParts, composed by bin/parts.ts): the referentials themselves (the hub's
// catalog), their services' adapter bindings, the outbox consumers of batches and change events, and a plug-in that
// binds each service of MA/GOV/HUB/referentials at start and numbers the change feed periodically.
import { bindService, type ServiceBinding } from '../src/exchange/bindings.ts';
import { hubSubsystems } from '../src/hub/bootstrap.ts';
import type { HubParts, HubPlugin, OutboxConsumer } from '../src/plugins.ts';
import { batchConsumer } from '../src/golden/batches.ts';
import { ReferentialCatalog } from '../src/golden/catalog.ts';
import { goldenChangedBatchTopic, goldenChangedTopic, startNumberingRecovery } from '../src/golden/changes.ts';
import { lockReferential } from '../src/golden/locks.ts';
import { blockingKeyHash, rekeyStale } from '../src/golden/keys.ts';
import type { Db } from '../src/storage/db.ts';
import type { Logger } from 'pino';
import type { ReferentialModule } from '../src/golden/module.ts';
import { goldenService } from './golden-service.ts';
import { referentialModules } from './index.ts';
import { territoryModule } from './territory/module.ts';
import { territoryAdapter, territoryService, territoryServiceWithChanges } from './territory/service.ts';

/** The consumer of these referentials' batches, and the golden-record change events' consumers. */
function referentialConsumers(referentials: ReferentialCatalog): OutboxConsumer[] {
  return [
    batchConsumer(referentials),
    // Golden-record change events: readers pull them from the change feed today; the adapters' push subscribers (the
    // next issue) will hang here. Consuming them now keeps the outbox from re-driving undeliverable rows forever.
    ...[goldenChangedTopic, goldenChangedBatchTopic].map((topic) => ({ topic, handler: async () => undefined, concurrency: 4 })),
  ];
}

/**
 * The backfill's task name: a new definition of the blocking keys takes a new name, and every record whose keys are
 * not today's is keyed again (v2: the near-date and commune keys of decisions §31).
 */
export const blockingKeysTask = 'blocking-keys-v2';

/**
 * Golden records whose blocking keys are not the module's of today (written before blocking keys existed, migration
 * 0009, or under an earlier definition) get today's, so that matching finds them: one pass in the background, in id
 * order a thousand at a time, recorded in ref_maintenance once complete so that later starts skip it (records written
 * since always have today's keys). Until the pass reaches a record, a contribution may miss it as a candidate. Returns
 * how many records it keyed again. `modules`: the hub's referentials.
 */
export async function backfillBlockingKeys(db: Db, modules: readonly ReferentialModule[], logger: Pick<Logger, 'info'>, options: { stopped?: () => boolean } = {}): Promise<number> {
  const { rows: done } = await db.query('SELECT 1 FROM ref_maintenance WHERE task = $1', [blockingKeysTask]);
  if (done.length > 0) return 0;
  let keyed = 0;
  for (const module of modules) {
    if (!module.blockingKeys) continue;
    let after = '';
    for (;;) {
      if (options.stopped?.()) return keyed;
      const { rows } = await db.query<{ id: string; blocking_keys: string[] | null; keyed: boolean }>(
        // Keyed: its first listed key is there (a primary-key probe; ref_blocking_keys has no index by record: migration 0022).
        `SELECT g.id, g.blocking_keys, EXISTS (SELECT 1 FROM ref_blocking_keys b WHERE b.key_hash = ${blockingKeyHash('g.referential', 'g.blocking_keys[1]')} AND b.golden_id = g.id) AS keyed FROM ref_golden g
          WHERE g.referential = $1 AND g.status = 'active' AND g.version > 0 AND g.id > $2 ORDER BY g.id LIMIT 1000`,
        [module.name, after],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]?.id ?? after;
      keyed += await db.transaction(async (tx) => {
        await lockReferential(tx, module.name, 'shared');
        return rekeyStale(tx, module, rows);
      });
    }
  }
  await db.query('INSERT INTO ref_maintenance (task, detail) VALUES ($1, $2::jsonb) ON CONFLICT (task) DO NOTHING', [blockingKeysTask, JSON.stringify({ keyed })]);
  // Said whenever a pass ran to its end, so that an operator upgrading a hub knows when matching sees every record again.
  logger.info({ task: blockingKeysTask, records: keyed }, "blocking-key backfill done: golden records keyed again (they had no blocking keys, or an earlier definition's)");
  return keyed;
}

export const goldenAdapter = (name: string) => `hub:referentials:${name}`;

export const referentialServicesPlugin: HubPlugin = {
  name: 'referential-services',
  async start(context) {
    const { db, services } = context;
    const subsystem = hubSubsystems(context.config.HUB_ID).referentials;
    const wanted: Array<[string, string]> = [[`${subsystem}/territory`, territoryAdapter]];
    // The hub's own referentials (HubParts.referentials), whichever part gave them.
    for (const module of services.referentials.modules()) {
      const golden = goldenService(module, db, context.reportBackgroundFailure);
      // The territory's service answers its units from the bundled index; its change feed (listChanges, contribute:
      // renumberings recorded as commune records) is the golden engine's, under the one service id.
      if (module.name === 'territory') {
        services.adapters.register(territoryAdapter, territoryServiceWithChanges(golden));
        continue;
      }
      services.adapters.register(goldenAdapter(module.name), golden);
      wanted.push([`${subsystem}/${module.name}`, goldenAdapter(module.name)]);
    }
    let changed = false;
    for (const [serviceId, adapter] of wanted) {
      const binding: ServiceBinding | undefined = services.directory.binding(serviceId);
      if (binding?.kind !== 'adapter' || binding.adapter !== adapter) {
        await bindService(db, { serviceId, binding: { kind: 'adapter', adapter, timeoutMs: 10_000 }, actor: 'hub-bootstrap' });
        changed = true;
      }
    }
    if (changed) await services.directory.reload();
    let stopping = false;
    void backfillBlockingKeys(db, services.referentials.modules(), context.logger, { stopped: () => stopping }).catch((err: unknown) => context.reportBackgroundFailure(blockingKeysTask, err, { after: 'start' }));
    // Contributions number their changes after commit themselves; this catches what a crash between the two left.
    const numbering = startNumberingRecovery(db, context.reportBackgroundFailure);
    return {
      async stop() {
        stopping = true;
        numbering.stop();
      },
    };
  },
};

/**
 * The referentials' part of a hub: the referentials (persons, companies, vehicles and the territory's commune records
 * unless told otherwise), the territory's binding, the consumers, the plug-in that binds the golden services. The batch consumer applies the
 * batches of these referentials, the ones this part gives the hub.
 */
export function referentialParts(modules: readonly ReferentialModule[] = [...referentialModules, territoryModule as unknown as ReferentialModule]): HubParts {
  const referentials = new ReferentialCatalog(modules);
  return { referentials: referentials.modules(), adapters: { [territoryAdapter]: territoryService }, consumers: referentialConsumers(referentials), plugins: [referentialServicesPlugin] };
}
