// Registers the referentials with the hub: their modules, their services' adapter bindings, a plug-in that binds each
// service of MA/GOV/HUB/referentials at start, and the periodic numbering of the change feed.
import { bindService, registerAdapterBinding, type ServiceBinding } from '../src/exchange/bindings.ts';
import { hubSubsystems } from '../src/hub/bootstrap.ts';
import { registerOutboxConsumer, registerPlugin } from '../src/plugins.ts';
import { batchConsumer, registerBatchColumns } from '../src/referentials/batches.ts';
import { assignChangePositions, goldenChangedBatchTopic, goldenChangedTopic } from '../src/referentials/changes.ts';
import { lockReferential } from '../src/referentials/locks.ts';
import { reindexBlockingKeys } from '../src/referentials/store.ts';
import type { Db } from '../src/storage/db.ts';
import type { Logger } from 'pino';
import { referentials } from '../src/referentials/module.ts';
import { goldenService } from './golden-service.ts';
import { registerReferentials } from './index.ts';
import { territoryAdapter, territoryService } from './territory/service.ts';
import { CSV_COLUMNS } from './generator/output.ts';

registerReferentials();
registerAdapterBinding(territoryAdapter, territoryService);

// Batches: the CSV columns of each referential (attributes, nested ones dotted) and the consumer that applies them.
registerBatchColumns('persons', [...(CSV_COLUMNS.persons ?? []), 'birthPlace']);
registerBatchColumns('companies', CSV_COLUMNS.companies ?? []);
registerBatchColumns('vehicles', CSV_COLUMNS.vehicles ?? []);
registerOutboxConsumer(batchConsumer());
// Golden-record change events: readers pull them from the change feed today; the adapters' push subscribers (the next
// issue) will hang here. Consuming them now keeps the outbox from re-driving undeliverable rows forever.
for (const topic of [goldenChangedTopic, goldenChangedBatchTopic]) registerOutboxConsumer({ topic, handler: async () => undefined, concurrency: 4 });

/**
 * Golden records written before blocking keys existed (migration 0009) get theirs, so that matching finds them: in
 * the background at start, a thousand at a time. Records whose sources give no key at all are left after one try.
 */
export async function backfillBlockingKeys(db: Db, logger: Pick<Logger, 'info'>): Promise<number> {
  let done = 0;
  for (const module of referentials()) {
    if (!module.blockingKeys) continue;
    const tried = new Set<string>();
    for (;;) {
      const { rows } = await db.query<{ id: string }>(
        `SELECT g.id FROM ref_golden g WHERE g.referential = $1 AND g.status = 'active' AND g.version > 0
            AND NOT EXISTS (SELECT 1 FROM ref_blocking_keys b WHERE b.golden_id = g.id) AND NOT (g.id = ANY($2::text[])) LIMIT 1000`,
        [module.name, [...tried]],
      );
      if (rows.length === 0) break;
      const ids = rows.map((r) => r.id);
      await db.transaction(async (tx) => {
        await lockReferential(tx, module.name, 'shared');
        await reindexBlockingKeys(tx, module, ids);
      });
      for (const id of ids) tried.add(id);
      done += ids.length;
    }
  }
  if (done > 0) logger.info({ records: done }, 'blocking keys indexed for golden records that had none');
  return done;
}

export const goldenAdapter = (name: string) => `hub:referentials:${name}`;

registerPlugin({
  name: 'referential-services',
  async start(context) {
    const { db, services } = context;
    const subsystem = hubSubsystems(context.config.HUB_ID).referentials;
    const wanted: Array<[string, string]> = [[`${subsystem}/territory`, territoryAdapter]];
    for (const module of referentials()) {
      registerAdapterBinding(goldenAdapter(module.name), goldenService(module, db));
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
    void backfillBlockingKeys(db, context.logger).catch((err: unknown) => context.logger.warn({ err: { message: (err as Error).message } }, 'blocking-key backfill failed'));
    // Contributions number their changes after commit themselves; this catches what a crash between the two left.
    const timer = setInterval(() => {
      void assignChangePositions(db).catch((err: unknown) => context.logger.warn({ err: { message: (err as Error).message } }, 'change feed numbering failed'));
    }, 2000);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
      },
    };
  },
});
