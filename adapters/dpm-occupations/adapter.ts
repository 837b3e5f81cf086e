// The maritime public-domain occupation system's sync adapter: pulls its permit holders into the referentials (a
// company holder into companies, a person into persons; cursor `<epoch>:<sequence>`), and delivers the golden company
// and person changes the hub pushes (subscriptions with target `adapter:dpm-occupations`) to its POST
// /hub/holder-changes: a company renamed or struck off, a person's name corrected or deceased reach the permits.
import { z } from 'zod';
import { defineAdapter, type InboundRecord } from '../../src/sync/adapter.ts';
import type { PushedChange } from '../../src/sync/push.ts';
import type { SubscriptionInput } from '../../src/sync/subscriptions.ts';
import type { Holder } from './data.ts';
import type { HolderChangePage, HubHolderChange } from './store.ts';
import { probeHealth, systemCaller } from '../shared/system-call.ts';

export const dpmSystem = 'dpm-occupations';
export const dpmSubsystem = 'MA/GOV/METLE/dpm-occupations';
/** The purpose of its conventions with the referentials (contracts/MA.GOV.HUB.referentials/{companies,persons}/conventions/MA.GOV.METLE.dpm-occupations.yaml). */
export const dpmSyncPurpose = 'occupation-holder-sync';

export const dpmAdapterConfig = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  token: z.string().min(16).max(512),
  pageSize: z.number().int().min(1).max(1000).default(200),
});
export type DpmAdapterConfig = z.infer<typeof dpmAdapterConfig>;

/** A holder as a contribution to its referential. A company without any identifier goes as it is: the referential refuses it and says why. */
export function holderRecord(holder: Holder, sourceVersion: string): InboundRecord {
  if (holder.kind === 'company') {
    return {
      referential: 'companies', sourceSystem: dpmSystem, sourceId: holder.ref, sourceVersion,
      attributes: { ...(holder.ice ? { ice: holder.ice } : {}), nameFr: holder.raisonSociale, ...(holder.raisonSocialeAr ? { nameAr: holder.raisonSocialeAr } : {}) },
    };
  }
  return {
    referential: 'persons', sourceSystem: dpmSystem, sourceId: holder.ref, sourceVersion,
    attributes: {
      ...(holder.cin ? { cin: holder.cin } : {}),
      ...(holder.prenomLatin ? { firstNameLatin: holder.prenomLatin } : {}), ...(holder.nomLatin ? { lastNameLatin: holder.nomLatin } : {}),
      firstNameArabic: holder.prenomArabe, lastNameArabic: holder.nomArabe,
      ...(holder.dateNaissance ? { birthDate: holder.dateNaissance } : {}),
    },
  };
}

/** A pushed golden change as the system's change; none for a record the hub no longer has (merged away, erased). */
export function holderChangeOf(referential: string, change: PushedChange): HubHolderChange | undefined {
  const attributes = change.record?.attributes;
  if (!attributes || (referential !== 'companies' && referential !== 'persons')) return undefined;
  return { referential, goldenId: change.goldenId, version: change.version, attributes };
}

const call = systemCaller('the occupation register');

function parseCursor(cursor: string | null): { epoch: string; since: number } {
  const m = cursor ? /^([0-9a-f]{1,32}):([0-9]{1,16})$/.exec(cursor) : null;
  return m ? { epoch: m[1] as string, since: Number(m[2]) } : { epoch: '', since: 0 };
}

const pageSchema = z.object({
  epoch: z.string().regex(/^[0-9a-f]{1,32}$/),
  cursor: z.number().int().min(0),
  more: z.boolean(),
  items: z.array(z.object({ version: z.number().int().min(1), holder: z.object({ kind: z.enum(['company', 'person']), ref: z.string().min(1).max(40) }).passthrough() })),
});

/** The page as the adapter expects it, or an error (nothing of a malformed page is taken in). */
async function holderPage(config: DpmAdapterConfig, since: number, signal: AbortSignal): Promise<HolderChangePage> {
  const parsed = pageSchema.safeParse(await call(config, `/sync/holders?since=${since}&limit=${config.pageSize}`, signal));
  if (!parsed.success) throw new Error('the occupation register answered a holders page of an unexpected shape');
  return parsed.data as unknown as HolderChangePage;
}

export const dpmAdapter = defineAdapter<DpmAdapterConfig>({
  id: 'dpm-occupations',
  system: dpmSystem,
  config: dpmAdapterConfig,
  health: probeHealth((config, signal) => holderPage(config, 0, signal)),
  pull: {
    every: 2000,
    async run(ctx, cursor) {
      const config = ctx.config;
      const at = parseCursor(cursor);
      const first = await holderPage(config, at.since, ctx.signal);
      // Another instance of the system numbered these: start its sequence from the beginning.
      const page = first.epoch === at.epoch || at.since === 0 ? first : await holderPage(config, 0, ctx.signal);
      return { records: page.items.map(({ version, holder }) => holderRecord(holder, `${page.epoch}:${version}`)), cursor: `${page.epoch}:${page.cursor}`, more: page.more };
    },
  },
  async deliver(push, { config, signal }) {
    const changes = push.deliveries.map((d) => holderChangeOf(push.referential, d)).filter((c): c is HubHolderChange => c !== undefined);
    if (changes.length > 0) await call(config, '/hub/holder-changes', signal, { changes });
  },
});

/** The push subscriptions that bring golden company and person changes to the system (created by the demo and the tests). */
export function dpmSubscriptionInputs(): SubscriptionInput[] {
  return (['companies', 'persons'] as const).map((referential) => ({ subscriber: dpmSubsystem, referential, purpose: dpmSyncPurpose, mode: 'push', target: `adapter:${dpmSystem}`, from: 'now', batchSize: 50 }));
}
