// The complaints platform's sync adapter (issue 16 item 1). In: its complainants into the persons (by CIN) and
// companies (by ICE) referentials, under the source name `complaints` that the persons' trust rules already rank; a
// complainant without a CIN or ICE stays in the platform, flagged there, and is not contributed (nothing to resolve
// it by: a golden record made of a name alone would be a guess). Out: its status changes, told to the citizen portal
// through the exchange (service MA/GOV/ADD/portail-citoyen/complaint-status, operation notifyComplaintStatus, signed
// as MA/GOV/METLE/reclamations), and the golden person changes the hub pushes (target `adapter:reclamations`) to its
// POST /hub/person-changes. One cursor `<epoch>:<complainants seq>:<status seq>`: the status part moves only once the
// portal took every change of the page, so a portal or hub that is down holds them back and the pull's backoff
// retries them (at least once; the portal keeps the highest version per complaint).
import { z } from 'zod';
import { loadClientIdentity, TabadolClient } from '../../src/client/index.ts';
import { defineAdapter, type AdapterContext, type InboundRecord } from '../../src/sync/adapter.ts';
import type { PushedChange } from '../../src/sync/push.ts';
import type { Complainant } from './data.ts';
import type { PersonChange, StatusChange } from './store.ts';
import { probeHealth, systemCaller } from '../shared/system-call.ts';

export const reclamationsSystem = 'reclamations';
/** The source name of its records in the referentials (PERSON_TRUST ranks `complaints` last but one). */
export const complaintsSource = 'complaints';
export const reclamationsSubsystem = 'MA/GOV/METLE/reclamations';
export const portalSubsystem = 'MA/GOV/ADD/portail-citoyen';
export const portalStatusService = `${portalSubsystem}/complaint-status`;
export const portalPurpose = 'complaint-follow-up';

export const reclamationsAdapterConfig = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  token: z.string().min(16).max(512),
  pageSize: z.number().int().min(1).max(1000).default(200),
  /** Where status changes go: the hub's exchange, signed with the platform's key (a file path; the key never enters the database). */
  portal: z.object({
    hubUrl: z.url({ protocol: /^https?$/ }),
    hubId: z.string().min(1).max(200),
    keyPath: z.string().min(1).max(1000),
    purpose: z.string().min(1).max(100).default(portalPurpose),
  }).optional(),
});
export type ReclamationsAdapterConfig = z.infer<typeof reclamationsAdapterConfig>;

const pageSchema = <T extends z.ZodType>(item: T) => z.object({
  epoch: z.string().min(1).max(64),
  items: z.array(z.object({ version: z.number().int().min(1), item })).max(1000),
  cursor: z.number().int().min(0),
  more: z.boolean(),
});
const nullableName = z.string().max(200).nullable();
const complainantSchema = z.discriminatedUnion('kind', [
  z.object({ id: z.string().min(1).max(40), kind: z.literal('person'), cin: z.string().max(20).nullable(), firstNameLatin: nullableName, lastNameLatin: nullableName, firstNameArabic: nullableName, lastNameArabic: nullableName, commune: z.string().max(20), phone: z.string().max(20).nullable() }),
  z.object({ id: z.string().min(1).max(40), kind: z.literal('company'), ice: z.string().max(20).nullable(), nameFr: nullableName, nameAr: nullableName, commune: z.string().max(20), phone: z.string().max(20).nullable() }),
]);
const statusChangeSchema = z.object({
  number: z.string().regex(/^REC-[0-9]{4}-[0-9]{6}$/), status: z.string().min(1).max(40), statusLabel: z.string().max(200), at: z.string().max(40),
  service: z.string().max(20).nullable(), deadline: z.string().max(10), version: z.number().int().min(1), cin: z.string().max(20).nullable(), ice: z.string().max(20).nullable(),
});
const complainantPage = pageSchema(complainantSchema);
const statusPage = pageSchema(statusChangeSchema);

const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== ''));

/** A complainant as a referential record, or why it is not one. */
export function complainantRecord(c: Complainant, version: number): InboundRecord | { skipped: string } {
  if (c.kind === 'person') {
    if (!c.cin) return { skipped: `complainant ${c.id} has no CIN: kept in the platform, flagged, not contributed` };
    return {
      referential: 'persons', sourceSystem: complaintsSource, sourceId: c.id, sourceVersion: String(version),
      attributes: defined({ cin: c.cin, firstNameLatin: c.firstNameLatin, lastNameLatin: c.lastNameLatin, firstNameArabic: c.firstNameArabic, lastNameArabic: c.lastNameArabic, addressCommune: c.commune }),
    };
  }
  if (!c.ice) return { skipped: `complainant ${c.id} has no ICE: kept in the platform, flagged, not contributed` };
  return { referential: 'companies', sourceSystem: complaintsSource, sourceId: c.id, sourceVersion: String(version), attributes: defined({ ice: c.ice, nameFr: c.nameFr, nameAr: c.nameAr, commune: c.commune }) };
}

/** The golden person of a pushed change as the platform's name correction, by CIN (none without a CIN). */
export function personChangeOf(change: PushedChange): PersonChange | undefined {
  const a = change.record?.attributes;
  if (!a || typeof a.cin !== 'string') return undefined;
  const out: PersonChange = { cin: a.cin, goldenId: change.goldenId, version: change.version, at: change.at };
  for (const key of ['firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic'] as const) if (typeof a[key] === 'string') out[key] = a[key];
  return out;
}

const call = systemCaller('the complaints platform');

function parsePage<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`the complaints platform's ${what} page is malformed at ${parsed.error.issues[0]?.path.join('.') || 'the top'}: nothing of it taken`);
  return parsed.data;
}

interface Cursor {
  epoch: string;
  complainants: number;
  statuses: number;
}

export function parseCursor(cursor: string | null): Cursor {
  const m = cursor ? /^([0-9a-z]{1,64}):([0-9]{1,16}):([0-9]{1,16})$/.exec(cursor) : null;
  return m ? { epoch: m[1] as string, complainants: Number(m[2]), statuses: Number(m[3]) } : { epoch: '', complainants: 0, statuses: 0 };
}

/** One client per key file (the key is read once, not at every pull). */
const clients = new Map<string, Promise<TabadolClient>>();
function portalClient(portal: NonNullable<ReclamationsAdapterConfig['portal']>): Promise<TabadolClient> {
  const key = `${portal.hubUrl}\u0000${portal.hubId}\u0000${portal.keyPath}`;
  let client = clients.get(key);
  if (!client) {
    client = loadClientIdentity(reclamationsSubsystem, portal.keyPath).then((identity) => new TabadolClient({ hubUrl: portal.hubUrl.replace(/\/+$/, ''), hubId: portal.hubId, identity }));
    client.catch(() => clients.delete(key));
    clients.set(key, client);
  }
  return client;
}

/**
 * Tells the portal of one status change through the hub. A 2xx, or a refusal of that change alone (a 4xx other than
 * 408/429: retrying would be refused again), settles it; anything else (the hub's 502/503/504 for a portal that is
 * down, a 429) throws, so the cursor stays and the pull's backoff sends it again.
 */
async function notifyPortal(config: NonNullable<ReclamationsAdapterConfig['portal']>, change: StatusChange, ctx: AdapterContext<ReclamationsAdapterConfig>): Promise<void> {
  const client = await portalClient(config);
  const body = JSON.stringify(change);
  const result = await client.call('POST', `/x/v1/${portalStatusService}/complaints/${encodeURIComponent(change.number)}/status`, { purpose: config.purpose, body });
  if (result.status >= 200 && result.status < 300) return;
  if (result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429) {
    ctx.logger.warn({ complaint: change.number, version: change.version, status: result.status, logId: result.logId }, 'complaints: the portal refused a status change; skipped');
    return;
  }
  throw new Error(`the hub answered ${result.status} to the portal notification of ${change.number} (log ${result.logId ?? 'none'})`);
}

export const reclamationsAdapter = defineAdapter<ReclamationsAdapterConfig>({
  id: 'reclamations',
  system: reclamationsSystem,
  config: reclamationsAdapterConfig,
  health: probeHealth((config, signal) => call(config, '/sync/complainants?since=0&limit=1', signal)),
  pull: {
    every: 1000,
    async run(ctx, cursor) {
      const config = ctx.config;
      let at = parseCursor(cursor);
      const first = parsePage(complainantPage, await call(config, `/sync/complainants?since=0&limit=1`, ctx.signal), 'complainants');
      // A restarted platform numbers its changes afresh: read it again from 0 (its versions taken in before change nothing).
      if (first.epoch !== at.epoch) at = { epoch: first.epoch, complainants: 0, statuses: 0 };
      const complainants = parsePage(complainantPage, await call(config, `/sync/complainants?since=${at.complainants}&limit=${config.pageSize}`, ctx.signal), 'complainants');
      let statusCursor = at.statuses;
      let statusMore = false;
      if (config.portal) {
        const changes = parsePage(statusPage, await call(config, `/sync/status-changes?since=${at.statuses}&limit=${config.pageSize}`, ctx.signal), 'status changes');
        for (const { item } of changes.items) await notifyPortal(config.portal, item as StatusChange, ctx);
        statusCursor = changes.cursor;
        statusMore = changes.more;
      }
      const records: InboundRecord[] = [];
      let skipped = 0;
      for (const { version, item } of complainants.items) {
        const record = complainantRecord(item as Complainant, version);
        if ('skipped' in record) skipped++;
        else records.push(record);
      }
      if (skipped > 0) ctx.logger.info({ system: reclamationsSystem, skipped }, 'complaints: complainants without a CIN or ICE kept in the platform, not contributed');
      return { records, cursor: `${first.epoch}:${complainants.cursor}:${statusCursor}`, more: complainants.more || statusMore };
    },
  },
  async deliver(push, { config, signal }) {
    if (push.referential !== 'persons') return;
    const changes = push.deliveries.map(personChangeOf).filter((c): c is PersonChange => c !== undefined);
    if (changes.length > 0) await call(config, '/hub/person-changes', signal, { changes });
  },
});
