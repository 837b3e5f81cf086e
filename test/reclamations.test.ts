// The complaints platform (issue 16 item 1) on its own: the simulator's contract (the seed's 3,661 complaints by
// category and status, the submit and follow flows, an agent's moves and name corrections, the statistics), the
// adapter's mappings both ways, and its faults (a platform down, slow or answering garbage: the pull fails whole and
// its cursor stays; the exchange binding answers the provider problems, a bad filter is refused before any call).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { categories, seedComplaintTotal, statuses, type Category, type Status } from '../adapters/reclamations/data.ts';
import { complainantRecord, parseCursor, personChangeOf, reclamationsAdapter, type ReclamationsAdapterConfig } from '../adapters/reclamations/adapter.ts';
import { complaintsBinding, complaintsService } from '../adapters/reclamations/binding.ts';
import { startComplaintsSimulator, type ComplaintsSimulator } from '../adapters/reclamations/simulator.ts';
import type { PushedChange } from '../src/sync/push.ts';
import { routedRequest, serviceContract } from './helpers/routed-request.ts';

const token = 'reclamations-test-token-0123456789';
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const logger = pino({ level: 'silent' });

let sim!: ComplaintsSimulator;
beforeAll(async () => {
  sim = await startComplaintsSimulator({ token, seed: 16, persons: 60, companies: 12 });
});
afterAll(async () => {
  await sim?.close();
});

const get = (path: string, headers: Record<string, string> = auth) => fetch(new URL(path, sim.url), { headers });
const post = (path: string, body: unknown, headers: Record<string, string> = auth, method = 'POST') => fetch(new URL(path, sim.url), { method, headers, body: JSON.stringify(body) });

describe('the complaints platform simulator', () => {
  it('holds the seed\'s 3,661 complaints with the fixed split by category and status, and serves it by commune, category and status', async () => {
    const { complaints } = sim.store.data;
    expect(complaints).toHaveLength(seedComplaintTotal);
    for (const [code, c] of Object.entries(categories)) expect(complaints.filter((x) => x.category === code).length, code).toBe(c.count);
    for (const [code, s] of Object.entries(statuses)) expect(complaints.filter((x) => x.status === code).length, code).toBe(s.count);
    expect(new Set(complaints.map((c) => c.number)).size).toBe(seedComplaintTotal);

    const all = (await (await get('/statistics')).json()) as { total: number; rows: Array<{ commune: string; category: Category; status: Status; count: number }> };
    expect(all.total).toBe(seedComplaintTotal);
    expect(all.rows.reduce((s, r) => s + r.count, 0)).toBe(seedComplaintTotal);
    expect(all.rows.filter((r) => r.category === 'routes-ouvrages').reduce((s, r) => s + r.count, 0)).toBe(categories['routes-ouvrages'].count);
    const commune = complaints[0]?.commune ?? '';
    const one = (await (await get(`/statistics?commune=${commune}&status=cloturee`)).json()) as { total: number; rows: Array<{ commune: string; status: string }> };
    expect(one.total).toBe(complaints.filter((c) => c.commune === commune && c.status === 'cloturee').length);
    expect(one.rows.every((r) => r.commune === commune && r.status === 'cloturee')).toBe(true);
    const bad = await get('/statistics?status=perdue');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ location: 'query.status' }] });
  });

  it('gives every complaint a deadline sixty days after filing and a history that starts with its filing and ends at its status', () => {
    for (const c of sim.store.data.complaints.slice(0, 200)) {
      expect(c.history[0]?.status).toBe('deposee');
      expect(c.history.at(-1)?.status).toBe(c.status);
      expect(Date.parse(c.deadline) - Date.parse(c.submittedAt.slice(0, 10))).toBe(60 * 86_400_000);
    }
  });

  it('lets a citizen file a complaint and follow it with its number and access code, and nobody else', async () => {
    const filed = await post('/complaints', {
      complainant: { kind: 'person', cin: 'BK123456', firstNameLatin: 'Salma', lastNameLatin: 'Bennani', phone: '0612345678' },
      subject: 'Route coupée depuis les pluies', category: 'routes-ouvrages', channel: 'portail', commune: '04.421.01.0', description: 'La route est coupée.',
    }, { 'content-type': 'application/json' });
    expect(filed.status).toBe(201);
    const { number, accessCode, status, deadline } = (await filed.json()) as { number: string; accessCode: string; status: string; deadline: string };
    expect(number).toMatch(/^REC-[0-9]{4}-[0-9]{6}$/);
    expect(status).toBe('deposee');
    expect(deadline).toMatch(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/);
    const followed = await get(`/complaints/${number}?code=${accessCode}`, {});
    expect(followed.status).toBe(200);
    const view = (await followed.json()) as Record<string, unknown>;
    expect(view).toMatchObject({ number, status: 'deposee', commune: '04.421.01.0' });
    expect(JSON.stringify(view)).not.toContain('BK123456');
    expect(JSON.stringify(view)).not.toContain(accessCode);
    const wrong = await get(`/complaints/${number}?code=${accessCode === '00000000' ? '11111111' : '00000000'}`, {});
    const unknown = await get(`/complaints/REC-1999-000001?code=${accessCode}`, {});
    expect([wrong.status, unknown.status]).toEqual([404, 404]);
    expect(await wrong.text()).toBe(await unknown.text());
  });

  it('refuses a filing that lacks what the form asks, naming the field', async () => {
    const base = { complainant: { kind: 'person', lastNameLatin: 'Alaoui' }, subject: 'Objet', category: 'autre', commune: '04.421.01.0', description: 'x' };
    for (const [body, field] of [
      [{ ...base, category: 'meteo' }, 'body.category'],
      [{ ...base, commune: '99.999.99.99' }, 'body.commune'],
      [{ ...base, complainant: { kind: 'person', cin: 'nope' , lastNameLatin: 'A' } }, 'body.complainant.cin'],
      [{ ...base, complainant: { kind: 'company', ice: '12' } }, 'body.complainant.ice'],
    ] as const) {
      const answer = await post('/complaints', body, { 'content-type': 'application/json' });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(((await answer.json()) as { errors: Array<{ location: string }> }).errors[0]?.location).toBe(field);
    }
    expect((await fetch(new URL('/complaints', sim.url), { method: 'POST', body: '{not json' })).status).toBe(400);
  });

  it('moves a complaint only along its workflow, and lists each move as a status change', async () => {
    const open = sim.store.data.complaints.find((c) => c.status === 'deposee');
    if (!open) throw new Error('no deposee complaint');
    const before = sim.store.statusChangesSince(0, 1000).cursor;
    expect((await post(`/admin/complaints/${open.number}/status`, { status: 'cloturee' })).status).toBe(409);
    const moved = await post(`/admin/complaints/${open.number}/status`, { status: 'en-cours' });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ status: 'en-cours', service: categories[open.category].service });
    expect((await post('/admin/complaints/REC-1999-000001/status', { status: 'en-cours' })).status).toBe(404);
    expect((await post(`/admin/complaints/${open.number}/status`, { status: 'en-cours' }, {})).status).toBe(401);
    const page = (await (await get(`/sync/status-changes?since=${before}`)).json()) as { items: Array<{ item: { number: string; status: string; version: number } }> };
    expect(page.items.map((i) => i.item)).toEqual([expect.objectContaining({ number: open.number, status: 'en-cours', version: open.history.length })]);
  });

  it('lets an agent correct a complainant\'s name: a new version listed to the hub', async () => {
    const person = sim.store.data.complainants.find((c) => c.kind === 'person' && c.cin);
    if (!person) throw new Error('no person');
    const before = sim.store.complainantsSince(0, 10_000).cursor;
    const answer = await post(`/admin/complainants/${person.id}`, { lastNameLatin: 'Benjelloun' }, auth, 'PATCH');
    expect(answer.status).toBe(200);
    const page = (await (await get(`/sync/complainants?since=${before}`)).json()) as { items: Array<{ version: number; item: { id: string; lastNameLatin: string } }> };
    expect(page.items).toEqual([{ version: 2, item: expect.objectContaining({ id: person.id, lastNameLatin: 'Benjelloun' }) }]);
    expect((await post(`/admin/complainants/${person.id}`, {}, auth, 'PATCH')).status).toBe(400);
    expect((await post('/admin/complainants/P-99999', { lastNameLatin: 'X' }, auth, 'PATCH')).status).toBe(404);
  });

  it('holds the odd records of a counter-and-telephone platform', () => {
    const { complainants } = sim.store.data;
    expect(complainants.some((c) => c.kind === 'person' && c.cin === null)).toBe(true);
    expect(complainants.some((c) => c.kind === 'company' && c.ice === null)).toBe(true);
    expect(complainants.some((c) => c.kind === 'person' && c.lastNameLatin === null && c.lastNameArabic !== null)).toBe(true);
    const cins = complainants.flatMap((c) => (c.kind === 'person' && c.cin ? [c.cin] : []));
    expect(new Set(cins).size).toBeLessThan(cins.length);
  });
});

describe('the complaints adapter', () => {
  const config = (): ReclamationsAdapterConfig => ({ baseUrl: sim.url, token, pageSize: 500 });
  const run = (cursor: string | null, signal = AbortSignal.timeout(10_000)) => {
    if (!reclamationsAdapter.pull) throw new Error('no pull');
    return reclamationsAdapter.pull.run({ config: config(), logger, signal }, cursor);
  };

  it('maps a complainant to a person by CIN or a company by ICE, and one without either to no record', () => {
    const person = { id: 'P-1', kind: 'person' as const, cin: 'AB12345', firstNameLatin: 'Ali', lastNameLatin: null, firstNameArabic: 'علي', lastNameArabic: 'الفاسي', commune: '04.421.01.0', phone: null };
    expect(complainantRecord(person, 3)).toEqual({
      referential: 'persons', sourceSystem: 'complaints', sourceId: 'P-1', sourceVersion: '3',
      attributes: { cin: 'AB12345', firstNameLatin: 'Ali', firstNameArabic: 'علي', lastNameArabic: 'الفاسي', addressCommune: '04.421.01.0' },
    });
    expect(complainantRecord({ ...person, cin: null }, 1)).toEqual({ skipped: expect.stringContaining('no CIN') });
    const company = { id: 'E-1', kind: 'company' as const, ice: '001234567000089', nameFr: 'Atlas BTP', nameAr: null, commune: '01.051.01.01', phone: null };
    expect(complainantRecord(company, 1)).toMatchObject({ referential: 'companies', attributes: { ice: '001234567000089', nameFr: 'Atlas BTP', commune: '01.051.01.01' } });
    expect(complainantRecord({ ...company, ice: null }, 1)).toEqual({ skipped: expect.stringContaining('no ICE') });
  });

  it('maps a golden person change to a name correction by CIN, and none without a CIN', () => {
    const change = (attributes: Record<string, unknown>) => ({ goldenId: 'g1', version: 3, at: '2026-01-01T00:00:00.000Z', record: { attributes } }) as unknown as PushedChange;
    expect(personChangeOf(change({ cin: 'AB12345', lastNameLatin: 'Tazi', birthDate: '1980-01-01' }))).toEqual({ cin: 'AB12345', goldenId: 'g1', version: 3, at: '2026-01-01T00:00:00.000Z', lastNameLatin: 'Tazi' });
    expect(personChangeOf(change({ lastNameLatin: 'Tazi' }))).toBeUndefined();
  });

  it('pulls every identified complainant, pages with a cursor of this start\'s epoch, and reads again from 0 after a restart', async () => {
    const first = await run(null);
    const identified = sim.store.data.complainants.filter((c) => (c.kind === 'person' ? c.cin : c.ice));
    expect(first.more).toBe(false);
    expect(new Set(first.records.map((r) => r.sourceId))).toEqual(new Set(identified.map((c) => c.id)));
    const cursor = parseCursor(first.cursor);
    expect(cursor.epoch).toBe(sim.store.epoch);
    expect((await run(first.cursor)).records).toEqual([]);
    // Another epoch (a restarted platform): everything again.
    expect((await run(`000000000000:${cursor.complainants}:0`)).records.length).toBe(first.records.length);
  });

  it('fails a pull whole when the platform is down, slow or answers garbage (the runner keeps the cursor)', async () => {
    try {
      sim.fault = 'down';
      await expect(run(null)).rejects.toThrow(/answered 503/);
      sim.fault = 'garbage';
      await expect(run(null)).rejects.toThrow(/not JSON/);
      sim.fault = 'slow';
      sim.slowMs = 2000;
      await expect(run(null, AbortSignal.timeout(100))).rejects.toThrow();
    } finally {
      sim.fault = 'none';
    }
  });

  it('delivers golden name corrections to the platform, which applies them to the complainants with that CIN without listing them back', async () => {
    const person = sim.store.data.complainants.find((c) => c.kind === 'person' && c.cin);
    if (!person || person.kind !== 'person' || !person.cin) throw new Error('no person');
    const before = sim.store.complainantsSince(0, 10_000).cursor;
    const pushed = (version: number, at: string, firstNameArabic: string) => ({ goldenId: 'g-1', version, at, record: { attributes: { cin: person.cin, firstNameArabic } } });
    await reclamationsAdapter.deliver?.({ referential: 'persons', deliveries: [pushed(2, new Date().toISOString(), 'مريم')] } as never, { config: config(), logger, signal: AbortSignal.timeout(5000) });
    expect(sim.store.complainant(person.id)).toMatchObject({ firstNameArabic: 'مريم' });
    expect(sim.store.complainantsSince(before, 10).items).toEqual([]);
    // The same golden change late, or an older one: nothing changes.
    await reclamationsAdapter.deliver?.({ referential: 'persons', deliveries: [pushed(1, new Date().toISOString(), 'زينب')] } as never, { config: config(), logger, signal: AbortSignal.timeout(5000) });
    expect(sim.store.complainant(person.id)).toMatchObject({ firstNameArabic: 'مريم' });
  });

  it('keeps an agent\'s correction over a golden change made before it (the correction reaches the hub by the next pull)', async () => {
    const person = sim.store.data.complainants.find((c) => c.kind === 'person' && c.cin && c.id !== 'P-00001' && c.id !== 'P-00002');
    if (!person || person.kind !== 'person' || !person.cin) throw new Error('no person');
    const madeBefore = new Date(Date.now() - 60_000).toISOString();
    expect((await post(`/admin/complainants/${person.id}`, { lastNameLatin: 'Chraibi' }, auth, 'PATCH')).status).toBe(200);
    await reclamationsAdapter.deliver?.({ referential: 'persons', deliveries: [{ goldenId: 'g-2', version: 1, at: madeBefore, record: { attributes: { cin: person.cin, lastNameLatin: 'Ancien' } } }] } as never, { config: config(), logger, signal: AbortSignal.timeout(5000) });
    expect(sim.store.complainant(person.id)).toMatchObject({ lastNameLatin: 'Chraibi' });
  });
});

describe('the complaints statistics binding', () => {
  const request = (pathAndQuery: string) =>
    routedRequest(serviceContract(complaintsService), { serviceId: complaintsService, method: 'GET', pathAndQuery, headers: {}, body: new Uint8Array(), client: 'MA/GOV/METLE/pilotage', purpose: 'complaints-steering', requestId: 'r1' });

  it('answers the counts, refuses a bad filter before any call, and answers provider problems for a platform down or garbled', async () => {
    const binding = complaintsBinding({ baseUrl: sim.url, token });
    const ok = await binding.handle(request('/statistics?category=ports-marine'), AbortSignal.timeout(5000));
    expect(ok.status).toBe(200);
    expect((ok.json as { total: number }).total).toBe(sim.store.data.complaints.filter((c) => c.category === 'ports-marine').length);
    try {
      sim.fault = 'down';
      const bad = await binding.handle(request('/statistics?commune=Rabat'), AbortSignal.timeout(5000));
      expect(bad.status).toBe(400);
      expect(JSON.parse(Buffer.from(bad.body).toString())).toMatchObject({ errors: [{ location: 'query.commune' }] });
      await expect(binding.handle(request('/statistics'), AbortSignal.timeout(5000))).rejects.toMatchObject({ name: 'ProviderUnavailableError' });
      sim.fault = 'garbage';
      const garbled = await binding.handle(request('/statistics'), AbortSignal.timeout(5000));
      expect(garbled.status).toBe(502);
    } finally {
      sim.fault = 'none';
    }
    const closed = complaintsBinding({ baseUrl: 'http://127.0.0.1:9', token });
    await expect(closed.handle(request('/statistics'), AbortSignal.timeout(5000))).rejects.toMatchObject({ name: 'ProviderUnavailableError' });
  });
});
