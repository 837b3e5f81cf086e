// The infractions system's sync adapter (src/sync/adapter.ts). In: ListInfractionsSince with a cursor; each ticket
// gives its vehicle (plate, and owner when the system knows one) and its persons (the driver with a name, the owner
// by CIN only when the ticket names them) to the referentials. Out: the vehicles referential's changes pushed to
// `adapter:infractions` become RecordOwnershipChange calls, so that the system addresses the next ticket to the
// owner at the date of the offence.
import { z } from 'zod';
import { parseCin, parsePlate } from '../../referentials/identifiers/index.ts';
import { defineAdapter, type InboundRecord, type SyncAdapter } from '../../src/sync/adapter.ts';
import { PermanentDeliveryError, type PushedChange } from '../../src/sync/push.ts';
import type { SubscriptionInput } from '../../src/sync/subscriptions.ts';
import { SoapError } from './soap.ts';
import { recordOwnershipChange, ticketsSince, type TicketView } from './tickets.ts';

/** The system's name as a source of the vehicles and persons referentials (VEHICLE_TRUST ranks it last). */
export const infractionsSystem = 'infractions';
export const infractionsAdapterId = 'infractions';
/** The purpose under which the system follows the vehicles referential's changes. */
export const infractionsSyncPurpose = 'vehicle-ownership-for-tickets';

export const infractionsAdapterConfig = z.object({
  /** The SOAP endpoint. */
  endpoint: z.url({ protocol: /^https?$/ }),
  pageSize: z.number().int().min(1).max(1000).default(200),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
});
export type InfractionsAdapterConfig = z.infer<typeof infractionsAdapterConfig>;

/** A ticket's contributions: its vehicle, its driver (when named), its owner (by CIN). Invalid identifiers are left out. */
export function ticketRecords(t: TicketView): InboundRecord[] {
  const records: InboundRecord[] = [];
  const version = String(t.sequence);
  const plate = parsePlate(t.plate);
  const owner = t.ownerCin ? parseCin(t.ownerCin) : undefined;
  if (plate.ok) {
    records.push({
      referential: 'vehicles',
      sourceSystem: infractionsSystem,
      sourceId: `plate:${plate.value.key}`,
      sourceVersion: version,
      attributes: { plate: t.plate, ...(owner?.ok ? { owner: { type: 'person', cin: owner.value.value } } : {}) },
    });
  }
  const driver = t.driverCin ? parseCin(t.driverCin) : undefined;
  // A person needs a name: the driver has one on an agent's ticket; the owner's is not in the ticket.
  if (driver?.ok && (t.driverNameLatin || t.driverNameArabic)) {
    const [firstLatin, ...lastLatin] = (t.driverNameLatin ?? '').split(' ');
    const [firstArabic, ...lastArabic] = (t.driverNameArabic ?? '').split(' ');
    records.push({
      referential: 'persons',
      sourceSystem: infractionsSystem,
      sourceId: `cin:${driver.value.value}`,
      sourceVersion: version,
      attributes: {
        cin: driver.value.value,
        ...(t.driverNameLatin && lastLatin.length > 0 ? { firstNameLatin: firstLatin, lastNameLatin: lastLatin.join(' ') } : {}),
        ...(t.driverNameArabic && lastArabic.length > 0 ? { firstNameArabic: firstArabic, lastNameArabic: lastArabic.join(' ') } : {}),
      },
    });
  }
  return records;
}

/** One record per source id in a page: the latest version (a page holding two tickets of one plate). */
function latestPerSource(records: InboundRecord[]): InboundRecord[] {
  const byId = new Map<string, InboundRecord>();
  for (const r of records) byId.set(`${r.referential}|${r.sourceId}`, r);
  return [...byId.values()];
}

/** A pushed vehicle change as an ownership change: a person owner, a plate, the date it took effect. */
export function ownershipChange(change: PushedChange): { plate: string; ownerCin: string; effectiveDate: string } | undefined {
  const attributes = change.record?.attributes;
  const plate = attributes?.plate;
  const owner = attributes?.owner as { type?: string; cin?: string } | undefined;
  if (typeof plate !== 'string' || owner?.type !== 'person' || typeof owner.cin !== 'string') return undefined;
  return { plate, ownerCin: owner.cin, effectiveDate: change.at.slice(0, 10) };
}

/**
 * The adapter. A delivery handler receives no configuration (src/sync/push.ts), so `deliver` uses the configuration
 * the runner last gave health or pull; before any, a delivery fails and is retried. Made by a function so that each
 * hub (and each test) holds its own.
 */
export function makeInfractionsAdapter(): SyncAdapter {
  let current: InfractionsAdapterConfig | undefined;
  return defineAdapter<InfractionsAdapterConfig>({
    id: infractionsAdapterId,
    system: infractionsSystem,
    config: infractionsAdapterConfig,
    async health({ config, signal }) {
      current = config;
      try {
        await ticketsSince(config.endpoint, 0, 1, { timeoutMs: config.timeoutMs, signal });
        return { ok: true };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
    pull: {
      every: 2000,
      async run({ config, signal }, cursor) {
        current = config;
        const since = cursor && /^[0-9]{1,15}$/.test(cursor) ? Number(cursor) : 0;
        const page = await ticketsSince(config.endpoint, since, config.pageSize, { timeoutMs: config.timeoutMs, signal });
        return { records: latestPerSource(page.tickets.flatMap(ticketRecords)), cursor: String(page.cursor), more: page.more };
      },
    },
    async deliver(push, signal) {
      const config = current;
      if (!config) throw new Error('the infractions adapter has no configuration yet (it has not pulled)');
      for (const change of push.deliveries) {
        const ownership = ownershipChange(change);
        if (!ownership) continue;
        try {
          await recordOwnershipChange(config.endpoint, ownership, { timeoutMs: config.timeoutMs, signal });
        } catch (err) {
          // The system refusing the change itself (a client fault) will refuse it again: no retry.
          if (err instanceof SoapError && err.failure === 'fault' && err.faultCode === 'Client') throw new PermanentDeliveryError(err.message);
          throw err;
        }
      }
    },
  });
}

export const infractionsAdapter = makeInfractionsAdapter();

/** The push subscription that brings vehicle changes to the system through its adapter. */
export function infractionsSubscriptionInput(subscriber: string): SubscriptionInput {
  return { subscriber, referential: 'vehicles', purpose: infractionsSyncPurpose, mode: 'push', target: `adapter:${infractionsAdapterId}`, from: 'now', batchSize: 50 };
}
