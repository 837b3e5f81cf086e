// The driving-licence exam appointment system's sync adapter: pulls its candidates into the persons referential and its
// driving schools into the companies referential (one cursor `<candidates seq>:<schools seq>`), and delivers the
// golden person changes the hub pushes (subscription target `adapter:permis-rdv`) to its POST /hub/person-changes:
// identity corrections, deaths, and the licence's state (a licence suspended by the infractions system blocks new
// bookings for that CIN; a licence valid again lifts that block).
import { z } from 'zod';
import { defineAdapter, type InboundRecord } from '../../src/sync/adapter.ts';
import type { PushedChange } from '../../src/sync/push.ts';
import type { Candidate, DrivingSchool } from './data.ts';
import type { ChangePage, PersonChange } from './store.ts';
import { probeHealth, systemCaller } from '../shared/system-call.ts';

export const permisSystem = 'permis-rdv';
export const permisAdapterId = 'permis-rdv';
/** The purpose under which the system follows the persons referential (contracts/MA.GOV.HUB.referentials/persons/conventions/MA.GOV.METLE.permis-rdv.yaml). */
export const permisSyncPurpose = 'person-referential-sync';

export const permisAdapterConfig = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  token: z.string().min(16).max(512),
  pageSize: z.number().int().min(1).max(1000).default(200),
});
export type PermisAdapterConfig = z.infer<typeof permisAdapterConfig>;

export function candidateAttributes(c: Candidate): Record<string, unknown> {
  return {
    cin: c.cin, firstNameLatin: c.firstNameLatin, lastNameLatin: c.lastNameLatin, firstNameArabic: c.firstNameArabic, lastNameArabic: c.lastNameArabic,
    birthDate: c.birthDate, addressCommune: c.commune, ...(c.deathDate ? { status: 'deceased', deathDate: c.deathDate } : {}),
  };
}

export function schoolAttributes(s: DrivingSchool): Record<string, unknown> {
  return { ice: s.ice, nameFr: s.name, nameAr: s.nameAr, commune: s.commune };
}

/** The golden person of a pushed change as the system's change: identity and death, by CIN (none without a CIN). */
export function personChangeOf(change: PushedChange): PersonChange | undefined {
  const a = change.record?.attributes;
  if (!a || typeof a.cin !== 'string') return undefined;
  const out: PersonChange = { cin: a.cin };
  for (const key of ['firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic', 'birthDate', 'status', 'deathDate'] as const) {
    if (typeof a[key] === 'string') out[key] = a[key];
  }
  const licence = a.licence as { status?: unknown; points?: unknown; suspendedAt?: unknown } | undefined;
  if (licence && (licence.status === 'valid' || licence.status === 'suspended') && typeof licence.points === 'number') {
    out.licence = { status: licence.status, points: licence.points, ...(typeof licence.suspendedAt === 'string' ? { suspendedAt: licence.suspendedAt } : {}) };
  }
  return out;
}

const call = systemCaller('the appointment system');

function parseCursor(cursor: string | null): { candidates: number; schools: number } {
  const m = cursor ? /^([0-9]{1,16}):([0-9]{1,16})$/.exec(cursor) : null;
  return m ? { candidates: Number(m[1]), schools: Number(m[2]) } : { candidates: 0, schools: 0 };
}

export const permisAdapter = defineAdapter<PermisAdapterConfig>({
  id: permisAdapterId,
  system: permisSystem,
  config: permisAdapterConfig,
  health: probeHealth((config, signal) => call(config, '/sync/schools?limit=1', signal)),
  pull: {
    every: 1000,
    async run(ctx, cursor) {
      const { config } = ctx;
      const at = parseCursor(cursor);
      const candidates = (await call(config, `/sync/candidates?since=${at.candidates}&limit=${config.pageSize}`, ctx.signal)) as ChangePage<Candidate>;
      const schools = (await call(config, `/sync/schools?since=${at.schools}&limit=${config.pageSize}`, ctx.signal)) as ChangePage<DrivingSchool>;
      const records: InboundRecord[] = [
        ...candidates.items.map(({ version, item }) => ({ referential: 'persons', sourceSystem: permisSystem, sourceId: item.cin, sourceVersion: String(version), attributes: candidateAttributes(item) })),
        ...schools.items.map(({ version, item }) => ({ referential: 'companies', sourceSystem: permisSystem, sourceId: item.agentNumber, sourceVersion: String(version), attributes: schoolAttributes(item) })),
      ];
      return { records, cursor: `${candidates.cursor}:${schools.cursor}`, more: candidates.more || schools.more };
    },
  },
  async deliver(push, { config, signal }) {
    if (push.referential !== 'persons') return;
    const changes = push.deliveries.map(personChangeOf).filter((c): c is PersonChange => c !== undefined);
    if (changes.length > 0) await call(config, '/hub/person-changes', signal, { changes });
  },
});
