// MARROUTE's sync adapter: delivers the territory referential's changes (a commune's current code and its former
// codes, pushed by a subscription whose target is `adapter:marroute`) to the system's POST /hub/territory-changes,
// which re-files the events held under a former code. Road events are not a referential: nothing comes in. Its pull
// reads the renumberings MARROUTE holds, so that `tabadol sync status` shows how many have reached it (the cursor).
import { z } from 'zod';
import { defineAdapter } from '../../src/sync/adapter.ts';
import { PermanentDeliveryError, type PushedChange } from '../../src/sync/push.ts';
import type { SubscriptionInput } from '../../src/sync/subscriptions.ts';
import type { TerritoryChange } from './store.ts';
import { probeHealth, SystemCallError, systemCaller } from '../shared/system-call.ts';

export const marrouteSystem = 'marroute';
export const marrouteSubsystem = 'MA/GOV/METLE/marroute';
/** The purpose of its territory subscription (contracts/MA.GOV.HUB.referentials/territory/conventions/MA.GOV.METLE.marroute.yaml). */
export const marrouteTerritoryPurpose = 'road-events-territory-sync';

export const marrouteAdapterConfig = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  token: z.string().min(16).max(512),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
});
export type MarrouteAdapterConfig = z.infer<typeof marrouteAdapterConfig>;

const communeCode = /^\d{2}\.\d{3}\.\d{2}\.\d{1,2}$/;

/**
 * A pushed territory change as MARROUTE's renumbering: the commune's code and its former codes. undefined when there is
 * nothing to re-file (a commune recorded without former codes, a merge without a record).
 */
export function territoryChangeOf(change: PushedChange): TerritoryChange | undefined {
  const a = change.record?.attributes;
  if (!a || typeof a.code !== 'string' || !communeCode.test(a.code)) return undefined;
  const formerCodes = Array.isArray(a.formerCodes) ? a.formerCodes.filter((c): c is string => typeof c === 'string' && communeCode.test(c)) : [];
  if (formerCodes.length === 0) return undefined;
  return { id: change.id, code: a.code, formerCodes, ...(typeof a.nameFr === 'string' ? { nameFr: a.nameFr } : {}) };
}

const call = systemCaller('MARROUTE');

async function renumberingCount(config: MarrouteAdapterConfig, signal: AbortSignal): Promise<number> {
  const body = (await call(config, '/renumerotations', signal)) as { renumerotations?: unknown } | null;
  if (typeof body !== 'object' || body === null || !Array.isArray(body.renumerotations)) throw new SystemCallError(null, 'MARROUTE listed no renumerotations');
  return body.renumerotations.length;
}

export const marrouteAdapter = defineAdapter<MarrouteAdapterConfig>({
  id: 'marroute',
  system: marrouteSystem,
  config: marrouteAdapterConfig,
  health: probeHealth((config, signal) => renumberingCount(config, signal)),
  pull: {
    every: 5000,
    async run(ctx) {
      return { records: [], cursor: String(await renumberingCount(ctx.config, ctx.signal)) };
    },
  },
  async deliver(push, { config, signal }) {
    if (push.referential !== 'territory') return;
    const changes = push.deliveries.map(territoryChangeOf).filter((c): c is TerritoryChange => c !== undefined);
    if (changes.length === 0) return;
    try {
      await call(config, '/hub/territory-changes', signal, { changes });
    } catch (err) {
      if (err instanceof SystemCallError && err.permanent) throw new PermanentDeliveryError(err.message);
      throw err;
    }
  },
});

/** The push subscription that brings the territory's changes to MARROUTE through its adapter. */
export function marrouteSubscriptionInput(): SubscriptionInput {
  return { subscriber: marrouteSubsystem, referential: 'territory', purpose: marrouteTerritoryPurpose, mode: 'push', target: `adapter:${marrouteAdapter.id}`, from: 'start', batchSize: 50 };
}
