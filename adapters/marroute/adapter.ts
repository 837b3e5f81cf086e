// MARROUTE's sync adapter: delivers the territory referential's changes (a commune's current code and its former
// codes, pushed by a subscription whose target is `adapter:marroute`) to the system's POST /hub/territory-changes,
// which re-files the events held under a former code. Road events are not a referential: nothing comes in. Its pull
// reads the renumberings MARROUTE holds, so that `tabadol sync status` shows how many have reached it (the cursor).
import { z } from 'zod';
import { defineAdapter } from '../../src/sync/adapter.ts';
import { PermanentDeliveryError, type PushedChange } from '../../src/sync/push.ts';
import type { SubscriptionInput } from '../../src/sync/subscriptions.ts';
import type { TerritoryChange } from './store.ts';

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

/** A refusal of the system's (4xx but 408/429) is for good; anything else is retried. */
class MarrouteCallError extends Error {
  constructor(readonly status: number | null, message: string) {
    super(message);
  }

  get permanent(): boolean {
    return this.status !== null && this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

async function call(config: MarrouteAdapterConfig, path: string, signal: AbortSignal, body?: unknown): Promise<unknown> {
  const method = body === undefined ? 'GET' : 'POST';
  let answer: Response;
  try {
    answer = await fetch(new URL(path, config.baseUrl), {
      method,
      headers: { authorization: `Bearer ${config.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
      redirect: 'error',
    });
  } catch (err) {
    throw new MarrouteCallError(null, `MARROUTE did not answer ${method} ${path}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable'}`);
  }
  if (!answer.ok) throw new MarrouteCallError(answer.status, `MARROUTE answered ${answer.status} to ${method} ${path}`);
  try {
    return await answer.json();
  } catch {
    // An HTML maintenance page with a 200: not an answer; retried.
    throw new MarrouteCallError(null, `MARROUTE's answer to ${method} ${path} is not JSON`);
  }
}


async function renumberingCount(config: MarrouteAdapterConfig, signal: AbortSignal): Promise<number> {
  const body = (await call(config, '/renumerotations', signal)) as { renumerotations?: unknown };
  if (!Array.isArray(body.renumerotations)) throw new MarrouteCallError(null, 'MARROUTE listed no renumerotations');
  return body.renumerotations.length;
}

export const marrouteAdapter = defineAdapter<MarrouteAdapterConfig>({
  id: 'marroute',
  system: marrouteSystem,
  config: marrouteAdapterConfig,
  async health(ctx) {
    try {
      await renumberingCount(ctx.config, ctx.signal);
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  },
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
      if (err instanceof MarrouteCallError && err.permanent) throw new PermanentDeliveryError(err.message);
      throw err;
    }
  },
});

/** The push subscription that brings the territory's changes to MARROUTE through its adapter. */
export function marrouteSubscriptionInput(): SubscriptionInput {
  return { subscriber: marrouteSubsystem, referential: 'territory', purpose: marrouteTerritoryPurpose, mode: 'push', target: `adapter:${marrouteAdapter.id}`, from: 'start', batchSize: 50 };
}
