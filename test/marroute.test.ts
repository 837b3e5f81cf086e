// MARROUTE (issue 16 item 2) without a hub: its data, its simulator's contract, the territory's commune records, the
// adapter's mappings both ways (a pushed renumbering → MARROUTE's re-filing; MARROUTE's events → the hub's shape on the
// territory referential), and its faults (down, slow, garbage) as the adapter and the binding see them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marrouteAdapter, territoryChangeOf } from '../adapters/marroute/adapter.ts';
import { hubEventOf, marrouteBinding } from '../adapters/marroute/binding.ts';
import { demoRenumbering, generateMarrouteData, type RoadEvent } from '../adapters/marroute/data.ts';
import { renumberingExample } from '../adapters/marroute/demo.ts';
import { startMarrouteSimulator, type MarrouteSimulator } from '../adapters/marroute/simulator.ts';
import { normaliseCommuneRecord } from '../referentials/territory/module.ts';
import type { ProviderRequest } from '../src/exchange/bindings.ts';
import { captureLogger } from './helpers/hub.ts';
import { PermanentDeliveryError, type PushedChange } from '../src/sync/push.ts';

const token = 'marroute-test-token-0123456789';
const { code2014, code2024, province } = demoRenumbering;

function pushed(id: string, attributes: Record<string, unknown> | null): PushedChange {
  return { id, seq: 1, type: 'golden.updated', goldenId: 'g-1', version: 2, at: '2026-02-01T10:00:00.000Z', ...(attributes ? { record: { goldenId: 'g-1', version: 2, status: 'active', mergedInto: null, attributes } } : {}) };
}

function request(operationId: string, pathParams: Record<string, string>, query = ''): ProviderRequest {
  return { serviceId: 'MA/GOV/METLE/marroute/road-events', operationId, pathParams, method: 'GET', pathAndQuery: `/x${query ? `?${query}` : ''}`, headers: {}, body: new Uint8Array(), client: 'MA/GOV/ADD/portail-citoyen', purpose: 'road-conditions-information', requestId: 'r-1' };
}

async function answer(binding: ReturnType<typeof marrouteBinding>, req: ProviderRequest): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await binding.handle(req, AbortSignal.timeout(10_000));
  return { status: res.status, body: JSON.parse(Buffer.from(res.body).toString()) as Record<string, unknown> };
}

describe('MARROUTE data', () => {
  it('is the same for the same seed, and holds stale 2014 codes and the odd records', () => {
    const a = generateMarrouteData({ seed: 7 });
    expect(generateMarrouteData({ seed: 7 })).toEqual(a);
    expect(generateMarrouteData({ seed: 8 }).events).not.toEqual(a.events);
    expect(a.events.filter((e) => e.codeCommune === code2014).length).toBeGreaterThanOrEqual(2);
    expect(a.events.some((e) => e.codeCommune === '01.051.99.99')).toBe(true);
    expect(a.events.some((e) => e.libelle === null && e.libelleAr !== null)).toBe(true);
    expect(new Set(a.events.map((e) => e.id)).size).toBe(a.events.length);
  });
});

describe('the territory\'s commune records (referentials/territory/module.ts)', () => {
  it('takes a renumbering: the current code, its 2014 code as a former one', () => {
    const r = normaliseCommuneRecord({ code: code2024, formerCodes: [code2014] });
    expect(r).toMatchObject({ ok: true, attributes: { code: code2024, formerCodes: [code2014], nameFr: 'Ait Kamra', provinceCode: province, regionCode: '01', commune: code2024 } });
    expect(normaliseCommuneRecord({ code: code2024, formerCodes: `${code2014}` })).toMatchObject({ ok: true, attributes: { formerCodes: [code2014] } });
  });

  it('refuses a stale code given as current, a former code the crosswalk gives another commune, one of another province, one in use today', () => {
    const problems = (input: unknown) => { const r = normaliseCommuneRecord(input); return r.ok ? [] : r.problems; };
    expect(problems({ code: code2014 })).toEqual([{ location: 'body.code', message: expect.stringContaining(`renumbered ${code2024}`) }]);
    expect(problems({ code: code2024, formerCodes: ['01.051.05.07'] })).toEqual([{ location: 'body.formerCodes[0]', message: expect.stringContaining('maps 01.051.05.07 to 01.051.11.07') }]);
    expect(problems({ code: code2024, formerCodes: ['04.411.05.01'] })).toEqual([{ location: 'body.formerCodes[0]', message: expect.stringMatching(/outside province 01\.051|crosswalk maps/) }]);
    expect(problems({ code: code2024, formerCodes: ['01.511.01.01'] })).toEqual([{ location: 'body.formerCodes[0]', message: expect.stringContaining('is today the code of') }]);
    expect(problems({})).toEqual([{ location: 'body.code', message: expect.stringContaining('required') }]);
    expect(problems({ code: 42 })[0]?.location).toBe('body.code');
  });

  it('the demo\'s example file is a record it takes', () => {
    const line = JSON.parse(renumberingExample()) as { attributes: unknown };
    expect(normaliseCommuneRecord(line.attributes).ok).toBe(true);
  });
});

describe('the adapter\'s mappings', () => {
  it('a pushed territory change becomes a renumbering; one without former codes or a record is nothing to re-file', () => {
    expect(territoryChangeOf(pushed('sub-1:5', { code: code2024, formerCodes: [code2014], nameFr: 'Ait Kamra' }))).toEqual({ id: 'sub-1:5', code: code2024, formerCodes: [code2014], nameFr: 'Ait Kamra' });
    expect(territoryChangeOf(pushed('sub-1:6', { code: code2024 }))).toBeUndefined();
    expect(territoryChangeOf(pushed('sub-1:7', null))).toBeUndefined();
    expect(territoryChangeOf(pushed('sub-1:8', { code: 'x', formerCodes: [code2014] }))).toBeUndefined();
  });

  it('an event on the territory referential: a stale code answered as today\'s (filedUnder), an unknown or misplaced commune left out with its reason', () => {
    const base: RoadEvent = (generateMarrouteData().events.find((e) => e.codeCommune === code2014) as RoadEvent);
    const stale = hubEventOf(base);
    expect(stale).toMatchObject({ ok: true, event: { commune: { code: code2024, nameFr: 'Ait Kamra' }, filedUnder: code2014, province: { code: province, nameFr: 'Al Hoceima' } } });
    expect(hubEventOf({ ...base, codeCommune: code2024 })).toMatchObject({ ok: true, event: { filedUnder: null } });
    expect(hubEventOf({ ...base, type: 'travaux', etat: 'prevu' })).toMatchObject({ ok: true, event: { kind: 'works', state: 'planned' } });
    expect(hubEventOf({ ...base, codeCommune: '01.051.99.99' })).toEqual({ ok: false, id: base.id, reason: expect.stringContaining('exists in neither') });
    expect(hubEventOf({ ...base, codeCommune: '01.511.01.01' })).toEqual({ ok: false, id: base.id, reason: expect.stringContaining('is not in province 01.051') });
    expect(hubEventOf({ ...base, pkDebut: 'x' })).toMatchObject({ ok: false, reason: expect.stringContaining('malformed: pkDebut') });
    expect(hubEventOf(null)).toMatchObject({ ok: false, id: '(no id)' });
  });
});

describe('the MARROUTE simulator and the adapter against it', () => {
  let sim!: MarrouteSimulator;
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const get = async (path: string) => {
    const res = await fetch(`${sim.url}${path}`, { headers: auth });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const ctx = () => ({ config: marrouteAdapter.config.parse({ baseUrl: sim.url, token, timeoutMs: 500 }), logger: captureLogger().logger, signal: AbortSignal.timeout(5000) });

  beforeAll(async () => {
    sim = await startMarrouteSimulator({ token });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('answers only with its token, and names the query field it refuses', async () => {
    expect((await fetch(`${sim.url}/evenements?province=${province}`)).status).toBe(401);
    expect((await fetch(`${sim.url}/evenements?province=${province}`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect(await get('/evenements?province=1')).toMatchObject({ status: 400, body: { errors: [{ location: 'query.province' }] } });
    expect(await get(`/evenements?province=${province}&etat=ouvert`)).toMatchObject({ status: 400, body: { errors: [{ location: 'query.etat' }] } });
    const all = (await get(`/evenements?province=${province}`)).body.evenements as RoadEvent[];
    expect(all.length).toBeGreaterThan(3);
    expect(all.every((e) => e.codeProvince === province)).toBe(true);
  });

  it('re-files the events of a former code when a renumbering arrives (once per change id), and files a later stale report under today\'s code', async () => {
    expect(((await get(`/evenements?province=${province}&commune=${code2024}`)).body.evenements as RoadEvent[]).filter((e) => e.codeCommuneDeclare === undefined && e.codeCommune === code2014)).toEqual([]);
    const before = ((await get(`/evenements?province=${province}&commune=${code2014}`)).body.evenements as RoadEvent[]).map((e) => e.id);
    expect(before.length).toBeGreaterThanOrEqual(2);
    await marrouteAdapter.health(ctx());
    await marrouteAdapter.deliver?.({ subscription: 'sub-1', subscriber: 'MA/GOV/METLE/marroute', referential: 'territory', purpose: 'road-events-territory-sync', deliveries: [pushed('sub-1:1', { code: code2024, formerCodes: [code2014] }), pushed('sub-1:2', { code: '01.051.11.07' })] }, ctx());
    const after = (await get(`/evenements?province=${province}&commune=${code2024}`)).body.evenements as RoadEvent[];
    expect(after.filter((e) => before.includes(e.id)).map((e) => [e.codeCommune, e.codeCommuneDeclare, e.version])).toEqual(before.map(() => [code2024, code2014, 2]));
    // Asked by its former code, MARROUTE answers today's.
    expect(((await get(`/evenements?province=${province}&commune=${code2014}`)).body.evenements as RoadEvent[]).map((e) => e.id)).toEqual(after.map((e) => e.id));
    // The same change again changes nothing.
    expect(await post('/hub/territory-changes', { changes: [{ id: 'sub-1:1', code: code2024, formerCodes: [code2014] }] })).toMatchObject({ status: 200, body: { applied: 0, duplicates: 1, refiled: [] } });
    expect(sim.store.event(before[0] as string)?.version).toBe(2);
    const reported = await post('/evenements', {
      type: 'condition', nature: 'Brouillard dense', route: 'RN2', pkDebut: 210, pkFin: 214, codeProvince: province, codeCommune: code2014, libelle: null, libelleAr: 'ضباب كثيف',
      debut: '2026-02-14T07:00:00+01:00', finPrevue: null, etat: 'en_cours', deviation: null, source: 'DPETL Al Hoceima',
    });
    expect(reported).toMatchObject({ status: 201, body: { codeCommune: code2024, codeCommuneDeclare: code2014, version: 1 } });
    expect(await get('/renumerotations')).toEqual({ status: 200, body: { renumerotations: [{ former: code2014, code: code2024 }] } });
  });

  it('refuses a malformed renumbering whole (nothing applied), naming the field; the adapter makes it a permanent refusal', async () => {
    const refused = await post('/hub/territory-changes', { changes: [{ id: 'sub-1:9', code: '01.051.11.15', formerCodes: ['01.051.05.15'] }, { id: 'sub-1:10', code: 'Ait Kamra', formerCodes: [] }] });
    expect(refused).toMatchObject({ status: 400, body: { errors: [{ location: 'body.changes.1.code' }] } });
    expect(sim.store.renumberings()).toHaveLength(1);
    // MARROUTE refusing a change (more former codes than it keeps) will refuse it again: a permanent refusal, nothing applied.
    const many = Array.from({ length: 9 }, (_, i) => `01.051.05.${i + 30}`);
    await expect(marrouteAdapter.deliver?.({ subscription: 'sub-1', subscriber: 'MA/GOV/METLE/marroute', referential: 'territory', purpose: 'p', deliveries: [pushed('sub-1:12', { code: '01.051.11.15', formerCodes: many })] }, ctx()))
      .rejects.toBeInstanceOf(PermanentDeliveryError);
    expect(sim.store.renumberings()).toHaveLength(1);
    // A former code the adapter cannot read is dropped before the call; the rest goes.
    await marrouteAdapter.deliver?.({ subscription: 'sub-1', subscriber: 'MA/GOV/METLE/marroute', referential: 'territory', purpose: 'p', deliveries: [pushed('sub-1:11', { code: '01.051.11.15', formerCodes: ['01.051.05.15', '01.051.05.150'] })] }, ctx());
    expect(sim.store.renumberings().map((r) => r.former)).toEqual([code2014, '01.051.05.15']);
  });

  it('a state flips back and forth, each flip a new version', async () => {
    const closure = sim.store.data.events.find((e) => e.type === 'fermeture' && e.etat === 'en_cours') as RoadEvent;
    const v = closure.version;
    expect((await post(`/evenements/${closure.id}/etat`, { etat: 'termine' })).body).toMatchObject({ etat: 'termine', version: v + 1 });
    expect((await post(`/evenements/${closure.id}/etat`, { etat: 'en_cours' })).body).toMatchObject({ etat: 'en_cours', version: v + 2 });
    expect((await post(`/evenements/${closure.id}/etat`, { etat: 'ferme' })).status).toBe(400);
  });

  it('faults: down, garbage and slow are retried deliveries (never permanent), nothing applied until MARROUTE is back; the pull fails', async () => {
    const deliver = (id: string) => marrouteAdapter.deliver?.({ subscription: 'sub-1', subscriber: 'MA/GOV/METLE/marroute', referential: 'territory', purpose: 'p', deliveries: [pushed(id, { code: '01.051.11.21', formerCodes: ['01.051.05.21'] })] }, ctx());
    try {
      sim.fault = 'down';
      await expect(deliver('sub-1:20')).rejects.toThrow(/answered 503/);
      await expect(deliver('sub-1:20')).rejects.not.toBeInstanceOf(PermanentDeliveryError);
      await expect(marrouteAdapter.pull?.run(ctx(), '1')).rejects.toThrow(/503/);
      sim.fault = 'garbage';
      await expect(deliver('sub-1:20')).rejects.toThrow(/not JSON/);
      sim.fault = 'slow';
      sim.slowMs = 2000;
      await expect(deliver('sub-1:20')).rejects.toThrow(/timed out/);
    } finally {
      sim.fault = 'none';
    }
    expect(sim.store.renumberings().some((r) => r.former === '01.051.05.21')).toBe(false);
    await deliver('sub-1:20');
    expect(sim.store.renumberings().some((r) => r.former === '01.051.05.21')).toBe(true);
    expect(await marrouteAdapter.pull?.run(ctx(), null)).toEqual({ records: [], cursor: String(sim.store.renumberings().length) });
  });

  it('the binding: codes checked before MARROUTE is called; MARROUTE down, slow or answering garbage is a provider problem', async () => {
    const binding = marrouteBinding({ baseUrl: sim.url, token, timeoutMs: 300 });
    const ok = await answer(binding, request('listRoadEventsByProvince', { province }, `commune=${code2014}`));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ province: { code: province }, commune: { code: code2024 } });
    expect((ok.body.omitted as unknown[]).length).toBe(0);
    const whole = await answer(binding, request('listRoadEventsByProvince', { province: '01051' }));
    expect(whole.body.omitted).toEqual(expect.arrayContaining([expect.objectContaining({ reason: expect.stringContaining('01.051.99.99') }), expect.objectContaining({ reason: expect.stringContaining('Assilah') })]));
    const twice = await answer(binding, request('listRoadEventsByProvince', { province: '07.041' }));
    expect(twice.body.omitted).toEqual(expect.arrayContaining([expect.objectContaining({ reason: expect.stringContaining('duplicate of') })]));
    try {
      sim.fault = 'down';
      // Refused before any call: MARROUTE being down does not change these answers.
      expect(await answer(binding, request('listRoadEventsByProvince', { province: '01' }))).toMatchObject({ status: 400, body: { errors: [{ location: 'path.province' }] } });
      expect(await answer(binding, request('listRoadEventsByProvince', { province: 'x1' }))).toMatchObject({ status: 400, body: { errors: [{ location: 'path.province' }] } });
      expect(await answer(binding, request('listRoadEventsByProvince', { province: '99.999' }))).toMatchObject({ status: 404 });
      expect(await answer(binding, request('listRoadEventsByProvince', { province }, 'commune=01.511.01.01'))).toMatchObject({ status: 400, body: { errors: [{ location: 'query.commune' }] } });
      expect(await answer(binding, request('listRoadEventsByProvince', { province }, 'kind=snow'))).toMatchObject({ status: 400, body: { errors: [{ location: 'query.kind' }] } });
      expect(await answer(binding, request('getRoadEvent', { eventId: 'MR-1' }))).toMatchObject({ status: 400, body: { errors: [{ location: 'path.eventId' }] } });
      expect(await answer(binding, request('listRoadEventsByProvince', { province }))).toMatchObject({ status: 502, body: { type: expect.stringContaining('provider-unavailable') } });
      sim.fault = 'garbage';
      expect(await answer(binding, request('listRoadEventsByProvince', { province }))).toMatchObject({ status: 502, body: { type: expect.stringContaining('provider-response-invalid') } });
      sim.fault = 'slow';
      sim.slowMs = 1500;
      expect(await answer(binding, request('getRoadEvent', { eventId: 'MR-26-000001' }))).toMatchObject({ status: 504, body: { type: expect.stringContaining('provider-timeout') } });
    } finally {
      sim.fault = 'none';
    }
    expect(await answer(binding, request('getRoadEvent', { eventId: 'MR-26-999999' }))).toMatchObject({ status: 404 });
    const wrongToken = marrouteBinding({ baseUrl: sim.url, token: `${token}-wrong`, timeoutMs: 300 });
    expect(await answer(wrongToken, request('getRoadEvent', { eventId: 'MR-26-000001' }))).toMatchObject({ status: 502 });
  });
});
