// Service `road-events` of MA/GOV/METLE/marroute served through the exchange (contracts/MA.GOV.METLE.marroute/
// road-events/openapi.yaml): each operation reads MARROUTE's API with its integration token and answers its events on
// the hub's territory referential. The codes asked are checked before MARROUTE is called (400 naming the field); an
// event's commune is resolved through the territory index, so one still filed under a 2014 code is found under
// today's; events whose place cannot be trusted, or reported twice, are left out with the reason. MARROUTE down,
// slow or answering garbage is a provider problem (502/504), never a 500 of the hub.
import { z } from 'zod';
import { adapterProblem, type AdapterBinding, type ProviderResponse } from '../../src/exchange/bindings.ts';
import { operationBinding } from '../../src/exchange/operation-binding.ts';
import { AnswerTooLargeError, readBounded } from '../shared/bounded-body.ts';
import { territory, type TerritorialUnit } from '../../referentials/territory/territory.ts';
import { eventStates, eventTypes, type EventState, type EventType } from './data.ts';

export const marrouteService = 'MA/GOV/METLE/marroute/road-events';

/** The hub's words for MARROUTE's: the contract speaks English, the system French. */
const kindOf: Readonly<Record<EventType, 'closure' | 'works' | 'condition'>> = { fermeture: 'closure', travaux: 'works', condition: 'condition' };
const stateOf: Readonly<Record<EventState, 'planned' | 'active' | 'ended'>> = { prevu: 'planned', en_cours: 'active', termine: 'ended' };
const typeOfKind = Object.fromEntries(Object.entries(kindOf).map(([k, v]) => [v, k])) as Record<string, EventType>;
const etatOfState = Object.fromEntries(Object.entries(stateOf).map(([k, v]) => [v, k])) as Record<string, EventState>;

/** An event as MARROUTE answers it: what the binding reads, checked field by field (an event that fails is left out). */
const marrouteEvent = z.object({
  id: z.string().regex(/^MR-\d{2}-\d{6}$/),
  type: z.enum(eventTypes),
  nature: z.string().min(1).max(120),
  route: z.string().min(1).max(12),
  pkDebut: z.number().finite(),
  pkFin: z.number().finite(),
  codeProvince: z.string().max(13),
  codeCommune: z.string().max(13).nullable(),
  libelle: z.string().max(300).nullable(),
  libelleAr: z.string().max(300).nullable(),
  debut: z.string().max(40),
  finPrevue: z.string().max(40).nullable(),
  etat: z.enum(eventStates),
  deviation: z.string().max(300).nullable(),
  source: z.string().max(120),
  version: z.number().int().min(1),
});
type MarrouteEvent = z.infer<typeof marrouteEvent>;

interface Place {
  code: string;
  nameFr: string;
  nameAr: string;
}

export interface HubRoadEvent {
  id: string;
  kind: 'closure' | 'works' | 'condition';
  cause: string;
  road: string;
  fromKm: number;
  toKm: number;
  province: Place;
  commune: Place | null;
  filedUnder: string | null;
  label: string | null;
  labelAr: string | null;
  start: string;
  expectedEnd: string | null;
  state: 'planned' | 'active' | 'ended';
  detour: string | null;
  reportedBy: string;
  version: number;
}

const place = (u: TerritorialUnit): Place => ({ code: u.code, nameFr: u.nameFr, nameAr: u.nameAr });

/**
 * One of MARROUTE's events on the territory referential, or the reason it is left out: its province must be one, its
 * commune (today's code, or a 2014 code the crosswalk maps) must lie in that province.
 */
export function hubEventOf(raw: unknown): { ok: true; event: HubRoadEvent } | { ok: false; id: string; reason: string } {
  const parsed = marrouteEvent.safeParse(raw);
  const id = typeof (raw as { id?: unknown } | null)?.id === 'string' ? String((raw as { id: string }).id).slice(0, 40) : '(no id)';
  if (!parsed.success) return { ok: false, id, reason: `malformed: ${parsed.error.issues[0]?.path.join('.') || 'event'} ${parsed.error.issues[0]?.message ?? ''}`.trim() };
  const e: MarrouteEvent = parsed.data;
  const province = territory().unit(e.codeProvince);
  if (province?.kind !== 'province') return { ok: false, id: e.id, reason: `province ${e.codeProvince} is not a province of the territory referential` };
  let commune: Place | null = null;
  let filedUnder: string | null = null;
  if (e.codeCommune !== null) {
    const resolved = territory().resolve(e.codeCommune);
    if (!resolved.found || resolved.unit.kind !== 'commune') return { ok: false, id: e.id, reason: `commune ${e.codeCommune} exists in neither the 2024 numbering nor the 2014 crosswalk` };
    if (resolved.unit.provinceCode !== province.code) return { ok: false, id: e.id, reason: `commune ${resolved.unit.code} (${resolved.unit.nameFr}) is not in province ${province.code} (${province.nameFr})` };
    commune = place(resolved.unit);
    if (resolved.via === 'crosswalk-2014') filedUnder = e.codeCommune;
  }
  return {
    ok: true,
    event: {
      id: e.id, kind: kindOf[e.type], cause: e.nature, road: e.route, fromKm: e.pkDebut, toKm: e.pkFin, province: place(province), commune, filedUnder,
      label: e.libelle, labelAr: e.libelleAr, start: e.debut, expectedEnd: e.finPrevue, state: stateOf[e.etat], detour: e.deviation, reportedBy: e.source, version: e.version,
    },
  };
}

/** The same road, stretch, cause and start reported under two ids: the first kept, the other said to be its duplicate. */
function withoutDuplicates(events: HubRoadEvent[]): { kept: HubRoadEvent[]; duplicates: Array<{ id: string; reason: string }> } {
  const seen = new Map<string, string>();
  const kept: HubRoadEvent[] = [];
  const duplicates: Array<{ id: string; reason: string }> = [];
  for (const e of events) {
    const key = JSON.stringify([e.road, e.fromKm, e.toKm, e.cause, e.start]);
    const first = seen.get(key);
    if (first !== undefined) duplicates.push({ id: e.id, reason: `duplicate of ${first} (same road, stretch, cause and start)` });
    else {
      seen.set(key, e.id);
      kept.push(e);
    }
  }
  return { kept, duplicates };
}

function json(status: number, body: unknown): ProviderResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)), json: body };
}

const invalid = (detail: string, location: string): ProviderResponse => adapterProblem('request-invalid', detail, [{ location, message: detail }]);

export interface MarrouteTarget {
  baseUrl: string;
  token: string;
  /** Below the service binding's timeout, so that a slow MARROUTE is this binding's 504, not the hub's. */
  timeoutMs?: number;
}

/** A province's events are a few hundred kilobytes at most: an answer beyond this is not read further. */
const maxAnswerBytes = 4 * 1024 * 1024;

/** MARROUTE's answer as JSON, or the provider problem the consumer gets. */
async function read(target: MarrouteTarget, path: string): Promise<{ ok: true; status: number; body: unknown } | { ok: false; problem: ProviderResponse }> {
  let answer: Response;
  try {
    answer = await fetch(new URL(path, target.baseUrl), {
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(target.timeoutMs ?? 4000),
      redirect: 'error',
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return { ok: false, problem: adapterProblem('provider-timeout', 'MARROUTE did not answer in time') };
    return { ok: false, problem: adapterProblem('provider-unavailable', 'MARROUTE is unreachable') };
  }
  if (answer.status >= 500) return { ok: false, problem: adapterProblem('provider-unavailable', `MARROUTE answered ${answer.status}`) };
  // The hub checked what it asks before asking: a refusal other than "no such event" is MARROUTE's (its token, its rules).
  if (answer.status >= 400 && answer.status !== 404) return { ok: false, problem: adapterProblem('provider-unavailable', `MARROUTE refused the hub's call (${answer.status})`) };
  const type = answer.headers.get('content-type') ?? '';
  let text: string;
  try {
    text = (await readBounded(answer, maxAnswerBytes)).toString('utf8');
  } catch (err) {
    if (err instanceof AnswerTooLargeError) return { ok: false, problem: adapterProblem('provider-response-invalid', `MARROUTE's answer is larger than ${maxAnswerBytes} bytes`) };
    // The body stopped coming: cut by the time bound, or by MARROUTE.
    if ((err as Error).name === 'TimeoutError') return { ok: false, problem: adapterProblem('provider-timeout', 'MARROUTE did not finish its answer in time') };
    return { ok: false, problem: adapterProblem('provider-unavailable', 'MARROUTE broke off its answer') };
  }
  let body: unknown;
  try {
    body = type.includes('json') ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (body === undefined) return { ok: false, problem: adapterProblem('provider-response-invalid', `MARROUTE's answer is not JSON (${type.split(';')[0] || 'no content type'}, status ${answer.status})`) };
  return { ok: true, status: answer.status, body };
}

/** The binding, for a hub to load under an adapter name and bind the service to. */
export function marrouteBinding(target: MarrouteTarget): AdapterBinding {
  return operationBinding('road-events', {
    async listRoadEventsByProvince(path, query) {
      const province = territory().resolve(path.province ?? '');
      if (!province.found) return province.reason === 'malformed' ? invalid(province.message, 'path.province') : adapterProblem('not-found', province.message, [{ location: 'path.province', message: province.message }]);
      if (province.unit.kind !== 'province') return invalid(`${path.province} is a ${province.unit.kind} code, not a province`, 'path.province');
      let commune: TerritorialUnit | undefined;
      const communeAsked = query.get('commune');
      if (communeAsked !== null) {
        const resolved = territory().resolve(communeAsked);
        if (!resolved.found) return invalid(resolved.message, 'query.commune');
        if (resolved.unit.kind !== 'commune') return invalid(`${communeAsked} is a ${resolved.unit.kind} code, not a commune`, 'query.commune');
        if (resolved.unit.provinceCode !== province.unit.code) return invalid(`commune ${resolved.unit.code} (${resolved.unit.nameFr}) is not in province ${province.unit.code}`, 'query.commune');
        commune = resolved.unit;
      }
      const kind = query.get('kind');
      if (kind !== null && typeOfKind[kind] === undefined) return invalid('kind must be closure, works or condition', 'query.kind');
      const state = query.get('state');
      if (state !== null && etatOfState[state] === undefined) return invalid('state must be planned, active or ended', 'query.state');
      // The whole province: MARROUTE files by the code it holds, which may be a commune's 2014 one; the commune is
      // chosen here, after each event's code is resolved.
      const params = new URLSearchParams({ province: province.unit.code });
      if (kind !== null) params.set('type', typeOfKind[kind] as string);
      if (state !== null) params.set('etat', etatOfState[state] as string);
      const answer = await read(target, `/evenements?${params.toString()}`);
      if (!answer.ok) return answer.problem;
      const list = (answer.body as { evenements?: unknown }).evenements;
      if (answer.status !== 200 || !Array.isArray(list)) return adapterProblem('provider-response-invalid', `MARROUTE's answer holds no list of events (status ${answer.status})`);
      const omitted: Array<{ id: string; reason: string }> = [];
      const placed: HubRoadEvent[] = [];
      for (const raw of list) {
        const mapped = hubEventOf(raw);
        // An event that cannot be placed is listed for its province; asked for a commune, it is not that commune's.
        if (!mapped.ok) {
          if (commune === undefined) omitted.push({ id: mapped.id, reason: mapped.reason });
        }
        else if (commune === undefined || mapped.event.commune?.code === commune.code) placed.push(mapped.event);
      }
      const { kept, duplicates } = withoutDuplicates(placed);
      return json(200, { province: place(province.unit), commune: commune ? place(commune) : null, events: kept, omitted: [...omitted, ...duplicates] });
    },
    async getRoadEvent(path) {
      const id = path.eventId ?? '';
      if (!/^MR-\d{2}-\d{6}$/.test(id)) return invalid('an event number such as MR-26-000123', 'path.eventId');
      const answer = await read(target, `/evenements/${encodeURIComponent(id)}`);
      if (!answer.ok) return answer.problem;
      if (answer.status === 404) return adapterProblem('not-found', `MARROUTE has no event ${id}`);
      if (answer.status !== 200) return adapterProblem('provider-response-invalid', `MARROUTE answered ${answer.status} for one event`);
      const mapped = hubEventOf(answer.body);
      if (!mapped.ok && mapped.reason.startsWith('malformed')) return adapterProblem('provider-response-invalid', `MARROUTE's event ${id} is ${mapped.reason}`);
      if (!mapped.ok) return adapterProblem('not-found', `event ${id} is left out: ${mapped.reason}`);
      return json(200, mapped.event);
    },
  });
}
