// The driving-licence exam appointment simulator's contract (issue 15 item 3): deterministic data with valid CINs and
// ICEs and real communes, half-hour slots 08:30–12:00 by centre, statistics counted from its requests, booking refused
// for a suspended CIN, person changes from the hub applied, and the integration token required.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidCin, isValidIce } from '../referentials/identifiers/index.ts';
import { territory } from '../referentials/territory/territory.ts';
import { examSlots, generatePermisData } from '../adapters/permis-rdv/data.ts';
import { startPermisSimulator, type PermisSimulator } from '../adapters/permis-rdv/simulator.ts';

const token = 'permis-test-token-0123456789';
const auth = { authorization: `Bearer ${token}` };

describe('the permis-rdv simulator', () => {
  let sim!: PermisSimulator;
  const get = async <T>(path: string) => {
    const res = await fetch(`${sim.url}${path}`, { headers: auth });
    return { status: res.status, body: (await res.json()) as T };
  };
  const post = async <T>(path: string, body: unknown) => {
    const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as T };
  };

  beforeAll(async () => {
    sim = await startPermisSimulator({ token, seed: 15, candidates: 60, schools: 4 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('generates the same data from the same seed, with valid CINs and ICEs, real communes and well-formed request numbers', () => {
    const a = generatePermisData({ seed: 15, candidates: 60, schools: 4 });
    expect(generatePermisData({ seed: 15, candidates: 60, schools: 4 })).toEqual(a);
    expect(generatePermisData({ seed: 16, candidates: 60, schools: 4 })).not.toEqual(a);
    const places = territory();
    for (const c of a.candidates) {
      expect(isValidCin(c.cin), c.cin).toBe(true);
      expect(places.unit(c.commune)?.kind).toBe('commune');
      expect(c.firstNameArabic).toMatch(/[\u0600-\u06FF]/);
    }
    for (const s of a.schools) expect(isValidIce(s.ice), s.ice).toBe(true);
    expect(new Set(a.candidates.map((c) => c.cin)).size).toBe(60);
    for (const r of a.requests) {
      expect(r.number).toMatch(/^[0-9]{5}-[0-9]{5}-[0-9]{3}$/);
      expect(examSlots).toContain(r.slot);
      expect(r.testState).toBe('Prévu');
    }
    expect(new Set(a.requests.map((r) => r.number)).size).toBe(60);
  });

  it('lists candidates and schools changed since a cursor, a page at a time', async () => {
    const first = await get<{ items: Array<{ version: number; item: { cin: string } }>; cursor: number; more: boolean }>('/sync/candidates?since=0&limit=50');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(50);
    expect(first.body.more).toBe(true);
    const rest = await get<{ items: unknown[]; more: boolean }>(`/sync/candidates?since=${first.body.cursor}&limit=50`);
    expect(rest.body.items).toHaveLength(10);
    expect(rest.body.more).toBe(false);
    const schools = await get<{ items: Array<{ item: { ice: string } }> }>('/sync/schools?since=0');
    expect(schools.body.items.map((i) => i.item.ice)).toEqual(sim.store.data.schools.map((s) => s.ice));
  });

  it('gives a centre\'s seven half-hour slots from 08:30 with what its requests booked', async () => {
    const request = sim.store.data.requests[0];
    if (!request) throw new Error('no request');
    const answer = await get<{ slots: Array<{ slot: string; capacity: number; booked: number; available: number }> }>(`/centres/${request.centre}/slots?date=${request.date}`);
    expect(answer.status).toBe(200);
    expect(answer.body.slots.map((s) => s.slot)).toEqual(['08:30', '09:00', '09:30', '10:00', '10:30', '11:00', '11:30']);
    const expected = sim.store.data.requests.filter((r) => r.centre === request.centre && r.date === request.date && r.slot === request.slot).length;
    const slot = answer.body.slots.find((s) => s.slot === request.slot);
    expect(slot?.booked).toBe(expected);
    expect(slot?.available).toBe((slot?.capacity ?? 0) - expected);
    expect((await get(`/centres/CE-99-999/slots?date=${request.date}`)).status).toBe(404);
    expect((await get(`/centres/${request.centre}/slots?date=tomorrow`)).status).toBe(400);
  });

  it('computes the statistics table (month × slot) from its requests', async () => {
    const answer = await get<{ months: Array<{ month: string; counts: Record<string, number>; total: number }> }>('/statistics?year=2026');
    expect(answer.status).toBe(200);
    expect(answer.body.months).toHaveLength(12);
    const grand = answer.body.months.reduce((sum, m) => sum + m.total, 0);
    expect(grand).toBe(sim.store.data.requests.length);
    const r = sim.store.data.requests[3];
    if (!r) throw new Error('no request');
    const cell = answer.body.months.find((m) => m.month === r.date.slice(0, 7))?.counts[r.slot];
    expect(cell).toBe(sim.store.data.requests.filter((q) => q.date.slice(0, 7) === r.date.slice(0, 7) && q.slot === r.slot).length);
    // A new booking counts at once.
    const booked = await post<{ number: string }>('/appointments', { cin: sim.store.data.candidates[5]?.cin, centre: r.centre, date: '2026-03-02', slot: '08:30', use: 'renewal', schoolAgentNumber: 'AE-1000' });
    expect(booked.status).toBe(201);
    expect(booked.body.number).toMatch(/^[0-9]{5}-[0-9]{5}-[0-9]{3}$/);
    const after = await get<{ months: Array<{ month: string; counts: Record<string, number> }> }>('/statistics?year=2026');
    const before = answer.body.months.find((m) => m.month === '2026-03')?.counts['08:30'] ?? 0;
    expect(after.body.months.find((m) => m.month === '2026-03')?.counts['08:30']).toBe(before + 1);
  });

  it('refuses a booking for a suspended CIN, while another CIN books the same slot', async () => {
    const candidate = sim.store.data.candidates[7];
    const centre = sim.store.data.centres[0];
    if (!candidate || !centre) throw new Error('no data');
    expect((await post('/suspensions', { cin: candidate.cin, reason: 'retrait de permis (jugement)' })).status).toBe(204);
    const refused = await post<{ errors: Array<{ location: string }> }>('/appointments', { cin: candidate.cin, centre: centre.code, date: '2026-05-04', slot: '09:00', use: 'first-issue', schoolAgentNumber: 'AE-1001' });
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0]?.location).toBe('body.cin');
    const other = sim.store.data.candidates[8];
    const ok = await post('/appointments', { cin: other?.cin, centre: centre.code, date: '2026-05-04', slot: '09:00', use: 'first-issue', schoolAgentNumber: 'AE-1001' });
    expect(ok.status).toBe(201);
  });

  it('applies identity corrections and deaths from the hub: a deceased candidate is closed and cannot book', async () => {
    const candidate = sim.store.data.candidates[10];
    const centre = sim.store.data.centres[0];
    if (!candidate || !centre) throw new Error('no data');
    const answer = await post<{ applied: number; ignored: number }>('/hub/person-changes', {
      changes: [
        { cin: candidate.cin, lastNameLatin: 'EL CORRIGÉ', status: 'deceased', deathDate: '2026-01-15' },
        { cin: 'ZZ999999', lastNameLatin: 'Nobody' },
      ],
    });
    expect(answer.body).toEqual({ applied: 1, ignored: 1 });
    expect(sim.store.candidate(candidate.cin)).toMatchObject({ lastNameLatin: 'EL CORRIGÉ', state: 'closed', deathDate: '2026-01-15' });
    const refused = await post('/appointments', { cin: candidate.cin, centre: centre.code, date: '2026-05-04', slot: '10:00', use: 'renewal', schoolAgentNumber: 'AE-1000' });
    expect(refused.status).toBe(409);
    // Not listed back as the system's own change (no echo to the hub).
    const page = await get<{ items: Array<{ item: { cin: string } }> }>('/sync/candidates?since=60');
    expect(page.body.items.map((i) => i.item.cin)).not.toContain(candidate.cin);
  });

  it('refuses every route without the integration token', async () => {
    expect((await fetch(`${sim.url}/statistics`)).status).toBe(401);
    expect((await fetch(`${sim.url}/sync/candidates`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });
});
