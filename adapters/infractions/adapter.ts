// The infractions system's sync adapter (src/sync/adapter.ts). In: ListInfractionsSince with a cursor; each ticket
// gives its vehicle (plate, and owner when the system knows one) and its persons (the driver with a name, the owner
// by CIN only when the ticket names them) to the referentials; ListLicencesSince gives each licence's points and state
// as the persons' `licence` attribute (a suspension becomes a person change others subscribe to). Out: the vehicles
// referential's changes pushed to `adapter:infractions` become RecordOwnershipChange calls, so that the system
// addresses the next ticket to the owner at the date of the offence; the persons referential's changes become
// RecordIdentityCorrection calls (a name corrected elsewhere reaches its licence file).
import { z } from 'zod';
import { parseCin, parsePlate } from '../../referentials/identifiers/index.ts';
import { defineAdapter, type InboundRecord, type SyncAdapter } from '../../src/sync/adapter.ts';
import { PermanentDeliveryError, type HandedPush, type PushedChange } from '../../src/sync/push.ts';
import type { SubscriptionInput } from '../../src/sync/subscriptions.ts';
import { licencesSince, recordIdentityCorrection, type LicenceView } from './licence-client.ts';
import { SoapError, type SoapCallOptions } from './soap.ts';
import { recordOwnershipChange, ticketsSince, type TicketView } from './tickets.ts';

/** The system's name as a source of the vehicles and persons referentials (VEHICLE_TRUST ranks it last). */
export const infractionsSystem = 'infractions';
export const infractionsAdapterId = 'infractions';
/** The purpose under which the system follows the vehicles referential's changes. */
export const infractionsSyncPurpose = 'vehicle-ownership-for-tickets';
/** The purpose under which it follows the persons referential's changes (identity corrections for its licence file). */
export const infractionsIdentityPurpose = 'licence-holder-identity';

export const infractionsAdapterConfig = z.object({
  /** The SOAP endpoint. */
  endpoint: z.url({ protocol: /^https?$/ }),
  pageSize: z.number().int().min(1).max(1000).default(200),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
});
export type InfractionsAdapterConfig = z.infer<typeof infractionsAdapterConfig>;

/** A ticket's contributions: its vehicle, its driver (when named), its owner (by CIN). Invalid identifiers are left out. */
export function ticketRecords(t: TicketView, epoch = ''): InboundRecord[] {
  const records: InboundRecord[] = [];
  // The sequence restarts with the system: the run's name keeps a version of one run from passing for another's.
  const version = epoch ? `${epoch}.${t.sequence}` : String(t.sequence);
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

/** A name as first name and the rest; one word is a last name alone. */
function splitName(name: string | undefined, first: string, last: string): Record<string, string> {
  if (!name) return {};
  const [head, ...rest] = name.split(' ');
  return rest.length > 0 ? { [first]: head as string, [last]: rest.join(' ') } : { [last]: name };
}

/**
 * A licence of the points register as a person's contribution: its holder (CIN and the file's name) and the `licence`
 * attribute group. Its own source id (`licence:<CIN>`), beside a ticket's driver (`cin:<CIN>`): a ticket never
 * carries the licence, so it must not replace the record that does. A licence the persons referential refuses (no
 * name in the file, a CIN that is not one) is recorded as rejected with the referential's reason, nothing applied.
 */
export function licenceRecord(l: LicenceView, epoch = ''): InboundRecord {
  return {
    referential: 'persons',
    sourceSystem: infractionsSystem,
    sourceId: `licence:${l.cin}`,
    sourceVersion: epoch ? `${epoch}.${l.sequence}` : String(l.sequence),
    attributes: {
      cin: l.cin,
      ...splitName(l.holderNameLatin, 'firstNameLatin', 'lastNameLatin'),
      ...splitName(l.holderNameArabic, 'firstNameArabic', 'lastNameArabic'),
      licence: { status: l.status, points: l.points, ...(l.suspendedAt ? { suspendedAt: l.suspendedAt } : {}) },
    },
  };
}

/** Where the pull is: the system's run (epoch) and its two sequences, `<epoch>:<tickets>:<licences>`. */
export interface InfractionsCursor {
  epoch: string;
  tickets: number;
  licences: number;
}

/** A cursor of this adapter; undefined for anything else (none, an older form): the pull starts from the beginning. */
export function parseInfractionsCursor(cursor: string | null): InfractionsCursor | undefined {
  const m = cursor ? /^([0-9a-z]{0,32}):([0-9]{1,15}):([0-9]{1,15})$/.exec(cursor) : null;
  return m ? { epoch: m[1] as string, tickets: Number(m[2]), licences: Number(m[3]) } : undefined;
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

/** A pushed person change as an identity correction: the CIN and the golden names (none without both). */
export function identityCorrection(change: PushedChange): { cin: string; firstNameLatin?: string; lastNameLatin?: string; firstNameArabic?: string; lastNameArabic?: string } | undefined {
  const a = change.record?.attributes;
  if (!a || typeof a.cin !== 'string') return undefined;
  const names: Record<string, string> = {};
  for (const key of ['firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic'] as const) if (typeof a[key] === 'string' && a[key] !== '') names[key] = a[key];
  return Object.keys(names).length > 0 ? { cin: a.cin, ...names } : undefined;
}

/**
 * One pull: the tickets, then the licences, after the cursor. A cursor of another run of the system (it restarted and
 * numbers its changes anew) starts over from the beginning: the versions already taken in are skipped, so re-reading
 * is safe. A restart between the two reads fails the pull, which is retried.
 */
async function pullPage(config: InfractionsAdapterConfig, cursor: string | null, signal: AbortSignal) {
  const options: SoapCallOptions = { timeoutMs: config.timeoutMs, signal };
  const stored = parseInfractionsCursor(cursor);
  let at = stored ?? { epoch: '', tickets: 0, licences: 0 };
  let tickets = await ticketsSince(config.endpoint, at.tickets, config.pageSize, options);
  if (tickets.epoch !== at.epoch) {
    // Another run than the cursor's (or the first pull): this run's changes from its beginning.
    const reread = at.tickets > 0;
    at = { epoch: tickets.epoch, tickets: 0, licences: 0 };
    if (reread) tickets = await ticketsSince(config.endpoint, 0, config.pageSize, options);
  }
  const licences = await licencesSince(config.endpoint, at.licences, config.pageSize, options);
  if (licences.epoch !== at.epoch || tickets.epoch !== at.epoch) throw new Error('the infractions system restarted during the pull; the next pull starts over');
  const records = latestPerSource([...tickets.tickets.flatMap((t) => ticketRecords(t, at.epoch)), ...licences.licences.map((l) => licenceRecord(l, at.epoch))]);
  return { records, cursor: `${at.epoch}:${tickets.cursor}:${licences.cursor}`, more: tickets.more || licences.more };
}

/** SOAP calls of one batch in flight at once: a batch of 50 takes a few round trips, not 50 (the system is slow). */
const deliveryConcurrency = 8;

/** Runs `work` over `items`, `limit` at a time; the first failure is thrown once all started calls have settled. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item).catch((err: unknown) => failures.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  // A refusal for good wins over a passing failure: retrying the batch would meet it again.
  const permanent = failures.find((f) => f instanceof PermanentDeliveryError);
  if (permanent ?? failures[0]) throw permanent ?? failures[0];
}

/**
 * Hands a pushed batch to the system: vehicles as ownership changes, persons as identity corrections; only the last
 * change of a plate or a CIN in the batch (an earlier one is superseded), several calls at once. A batch that fails is
 * sent again whole: both calls are idempotent in the system.
 */
async function deliverTo(config: InfractionsAdapterConfig, push: HandedPush, signal: AbortSignal): Promise<void> {
  const options: SoapCallOptions = { timeoutMs: config.timeoutMs, signal };
  const calls = new Map<string, () => Promise<unknown>>();
  for (const change of push.deliveries) {
    if (push.referential === 'vehicles') {
      const ownership = ownershipChange(change);
      if (ownership) calls.set(`plate:${ownership.plate}`, () => recordOwnershipChange(config.endpoint, ownership, options));
    } else if (push.referential === 'persons') {
      const correction = identityCorrection(change);
      if (correction) calls.set(`cin:${correction.cin}`, () => recordIdentityCorrection(config.endpoint, correction, options));
    }
  }
  await inParallel([...calls.values()], deliveryConcurrency, async (call) => {
    try {
      await call();
    } catch (err) {
      // The system refusing the change itself (a client fault) will refuse it again: no retry.
      if (err instanceof SoapError && err.failure === 'fault' && err.faultCode === 'Client') throw new PermanentDeliveryError(err.message);
      throw err;
    }
  });
}

/** The adapter (made by a function so that each hub, and each test, may hold its own). */
export function makeInfractionsAdapter(): SyncAdapter {
  return defineAdapter<InfractionsAdapterConfig>({
    id: infractionsAdapterId,
    system: infractionsSystem,
    config: infractionsAdapterConfig,
    async health({ config, signal }) {
      try {
        await ticketsSince(config.endpoint, 0, 1, { timeoutMs: config.timeoutMs, signal });
        return { ok: true };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
    pull: {
      every: 2000,
      run: ({ config, signal }, cursor) => pullPage(config, cursor, signal),
    },
    deliver: (push, { config, signal }) => deliverTo(config, push, signal),
  });
}

export const infractionsAdapter = makeInfractionsAdapter();

/** The push subscription that brings vehicle changes to the system through its adapter. */
export function infractionsSubscriptionInput(subscriber: string): SubscriptionInput {
  return { subscriber, referential: 'vehicles', purpose: infractionsSyncPurpose, mode: 'push', target: `adapter:${infractionsAdapterId}`, from: 'now', batchSize: 50 };
}

/** The push subscription that brings person changes (identity corrections) to its licence file. */
export function infractionsIdentitySubscriptionInput(subscriber: string): SubscriptionInput {
  return { subscriber, referential: 'persons', purpose: infractionsIdentityPurpose, mode: 'push', target: `adapter:${infractionsAdapterId}`, from: 'now', batchSize: 50 };
}
