// The BTP qualification platform's sync adapter (src/sync/adapter.ts): pulls the companies its staff changed (GET
// /sync/companies after a change sequence) into the companies referential, in the referential's vocabulary. The other
// way, the hub pushes golden company changes to the platform's POST /hub/company-changes under a push subscription
// (btpSubscriptionInput), signed by the hub; the platform checks the signature and updates its own copy.
import { z } from 'zod';
import { defineAdapter, type InboundRecord } from '../../src/sync/adapter.ts';
import type { SubscriptionInput } from '../../src/sync/subscriptions.ts';
import type { CompanyProfile } from './data.ts';
import type { CompanyChangePage } from './store.ts';
import { probeHealth, systemCaller } from '../shared/system-call.ts';

/** The platform's name as a source system of the companies referential. */
export const btpSystem = 'btp-qualification';
export const btpSubsystem = 'MA/GOV/METLE/qualification-btp';
/** The purpose of the demo convention hub-companies-metle-btp (contracts/MA.GOV.HUB.referentials/companies). */
export const btpSyncPurpose = 'company-referential-sync';

export const btpAdapterConfig = z.object({
  /** The platform's base URL. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Its integration API's bearer token. */
  token: z.string().min(16).max(512),
  pageSize: z.number().int().min(1).max(1000).default(200),
});
export type BtpAdapterConfig = z.infer<typeof btpAdapterConfig>;

/** A platform dossier's company as a contribution to the companies referential. */
export function companyAttributes(profile: CompanyProfile): Record<string, unknown> {
  return {
    ice: profile.ice,
    nameFr: profile.raisonSociale,
    ...(profile.raisonSocialeAr ? { nameAr: profile.raisonSocialeAr } : {}),
    legalForm: profile.formeJuridique,
    rc: { number: profile.rc.numero, court: profile.rc.tribunal },
    if: profile.identifiantFiscal,
    cnss: profile.cnss,
    address: profile.adresse.ligne,
    commune: profile.adresse.communeCode,
    createdOn: profile.dateCreation,
  };
}

/**
 * The cursor is `<epoch>:<sequence>`: the simulator numbers its changes afresh at each start (a new epoch), so a cursor
 * of another epoch starts over from 0. The source version carries the epoch too, so a restarted platform's versions are
 * never mistaken for ones already taken in.
 */
function parseCursor(cursor: string | null): { epoch: string; since: number } {
  const m = cursor ? /^([0-9a-f]{1,32}):([0-9]{1,16})$/.exec(cursor) : null;
  return m ? { epoch: m[1] as string, since: Number(m[2]) } : { epoch: '', since: 0 };
}

const getJson = systemCaller('the BTP platform');

export const btpAdapter = defineAdapter<BtpAdapterConfig>({
  id: 'btp-qualification',
  system: btpSystem,
  config: btpAdapterConfig,
  health: probeHealth((config, signal) => getJson(config, '/sync/companies?limit=1', signal)),
  pull: {
    every: 2000,
    async run({ config, signal }, cursor) {
      const at = parseCursor(cursor);
      const first = (await getJson(config, `/sync/companies?since=${at.since}&limit=${config.pageSize}`, signal)) as CompanyChangePage;
      // Another instance of the platform numbered these: start its sequence from the beginning.
      const page = first.epoch === at.epoch || at.since === 0 ? first : ((await getJson(config, `/sync/companies?since=0&limit=${config.pageSize}`, signal)) as CompanyChangePage);
      const records: InboundRecord[] = page.items.map((item) => ({
        referential: 'companies',
        sourceSystem: btpSystem,
        sourceId: item.ice,
        sourceVersion: `${page.epoch}:${item.version}`,
        attributes: companyAttributes(item.profile),
      }));
      return { records, cursor: `${page.epoch}:${page.cursor}`, more: page.more };
    },
  },
});

/** The push subscription that brings golden company changes to the platform (created by the demo, and by the tests). */
export function btpSubscriptionInput(simulatorUrl: string): SubscriptionInput {
  return { subscriber: btpSubsystem, referential: 'companies', purpose: btpSyncPurpose, mode: 'push', target: new URL('/hub/company-changes', simulatorUrl).href, from: 'now', batchSize: 50 };
}
