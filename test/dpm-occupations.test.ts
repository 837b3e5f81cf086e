// The maritime public-domain occupation register's simulator and adapter without a hub (issue 16 item 3): its answers
// against its published contract, its data (real coastal communes, valid identifiers, the seed's project table and
// the odd records), the adapter's mapping both ways, and its faults (unavailable, slow, garbage, down): nothing taken
// in, the binding's provider problems, never a half-applied change.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCin, parseIce } from '../referentials/identifiers/index.ts';
import { territory } from '../referentials/territory/territory.ts';
import { companiesByIce } from '../adapters/btp-qualification/data.ts';
import { dpmAdapter, holderChangeOf, holderRecord, type DpmAdapterConfig } from '../adapters/dpm-occupations/adapter.ts';
import { dpmBinding } from '../adapters/dpm-occupations/binding.ts';
import { btpHolderIces, coastalCommunes, generateDpmData, staleCommune, type CompanyHolder, type PersonHolder } from '../adapters/dpm-occupations/data.ts';
import { startDpmSimulator, type DpmSimulator } from '../adapters/dpm-occupations/simulator.ts';
import { ProviderUnavailableError, type ProviderRequest } from '../src/exchange/bindings.ts';
import { pino } from 'pino';

const logger = pino({ enabled: false });

const token = 'dpm-unit-token-0123456789';
const contract = parseYaml(readFileSync(new URL('../contracts/MA.GOV.METLE.dpm-occupations/permits/openapi.yaml', import.meta.url), 'utf8')) as { components: { schemas: Record<string, unknown> } };
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema({ $id: 'dpm', $defs: JSON.parse(JSON.stringify(contract.components.schemas).replaceAll('#/components/schemas/', 'dpm#/$defs/')) as object });
const validPage = ajv.getSchema('dpm#/$defs/PermitPage');
const validPermit = ajv.getSchema('dpm#/$defs/Permit');

function request(operationId: string, pathParams: Record<string, string>, pathAndQuery: string): ProviderRequest {
  return { operationId, pathParams, pathAndQuery, method: 'GET', headers: {}, body: Buffer.alloc(0) } as unknown as ProviderRequest;
}

describe('the occupation register\'s data', () => {
  const data = generateDpmData({ seed: 16 });

  it('is the same for the same seed, in real coastal communes, with valid identifiers and the seed\'s project table', () => {
    expect(generateDpmData({ seed: 16 })).toEqual(data);
    const places = territory();
    for (const c of coastalCommunes) expect(places.unit(c.code)?.nameFr, c.code).toBe(c.name);
    for (const p of data.permits) {
      expect(places.resolve(p.commune).found, p.commune).toBe(true);
      expect(p.startDate < p.endDate).toBe(true);
      for (const x of p.projects) {
        expect(x.description).toMatch(/^Projet .+ [0-9]{2}\/[0-9]{2}\/[0-9]{4}$/);
        expect(x.progress).toBeGreaterThanOrEqual(0);
        expect(x.progress).toBeLessThanOrEqual(100);
      }
    }
    expect(data.permits.some((p) => p.projects.some((x) => x.progress === 100))).toBe(true);
    for (const h of data.holders) {
      if (h.kind === 'company' && h.ice) expect(parseIce(h.ice).ok, h.ice).toBe(true);
      if (h.kind === 'person' && h.cin) expect(parseCin(h.cin).ok, h.cin).toBe(true);
    }
    // Every holder holds at least one permit; the BTP platform's companies with their names there.
    for (const h of data.holders) expect(data.permits.some((p) => p.holderRef === h.ref), h.ref).toBe(true);
    for (const ice of btpHolderIces) expect((data.holders.find((h) => h.kind === 'company' && h.ice === ice) as CompanyHolder).raisonSociale).toBe(companiesByIce.get(ice)?.profile.raisonSociale);
  });

  it('holds the odd records: no identifier, Arabic names only, a 2014 commune code, one company filed twice', () => {
    expect(data.holders.filter((h) => h.kind === 'company' && !h.ice)).toHaveLength(1);
    expect(data.holders.some((h) => h.kind === 'person' && h.nomLatin === undefined && h.nomArabe.length > 0)).toBe(true);
    expect(data.permits.filter((p) => p.commune === staleCommune.code2014)).toHaveLength(1);
    expect(territory().resolve(staleCommune.code2014)).toMatchObject({ found: true, via: 'crosswalk-2014', unit: { code: staleCommune.code2024 } });
    const ices = data.holders.flatMap((h) => (h.kind === 'company' && h.ice ? [h.ice] : []));
    expect(ices.length - new Set(ices).size).toBe(1);
  });
});

describe('the adapter\'s mapping both ways', () => {
  const data = generateDpmData({ seed: 16 });

  it('maps holders into the referentials\' vocabulary, and pushed changes into the register\'s', () => {
    const company = data.holders[0] as CompanyHolder;
    expect(holderRecord(company, 'e:1')).toEqual({ referential: 'companies', sourceSystem: 'dpm-occupations', sourceId: company.ref, sourceVersion: 'e:1', attributes: { ice: company.ice, nameFr: company.raisonSociale, nameAr: company.raisonSocialeAr } });
    const arabicOnly = data.holders.find((h): h is PersonHolder => h.kind === 'person' && h.nomLatin === undefined) as PersonHolder;
    expect(holderRecord(arabicOnly, 'e:1').attributes).toEqual({ cin: arabicOnly.cin, firstNameArabic: arabicOnly.prenomArabe, lastNameArabic: arabicOnly.nomArabe });
    const change = { id: '1', seq: 1, type: 'updated', goldenId: 'g1', version: 3, at: '2026-01-01T00:00:00Z', record: { goldenId: 'g1', version: 3, status: 'active', mergedInto: null, attributes: { ice: company.ice, nameFr: 'X' } } };
    expect(holderChangeOf('companies', change)).toEqual({ referential: 'companies', goldenId: 'g1', version: 3, attributes: { ice: company.ice, nameFr: 'X' } });
    expect(holderChangeOf('companies', { ...change, record: undefined })).toBeUndefined();
    expect(holderChangeOf('vehicles', change)).toBeUndefined();
  });
});

describe('the occupation register\'s simulator', () => {
  let sim!: DpmSimulator;
  const config: DpmAdapterConfig = { baseUrl: '', token, pageSize: 10 };
  const get = async (path: string, auth = token) => {
    const answer = await fetch(new URL(path, sim.url), { headers: { authorization: `Bearer ${auth}` } });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sim = await startDpmSimulator({ token, seed: 16 });
    config.baseUrl = sim.url;
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('answers as its contract says, and refuses a wrong token or a malformed query naming the field', async () => {
    const page = await get('/permits?commune=06.141.01.0&limit=100');
    expect(page.status).toBe(200);
    expect(validPage?.(page.body), JSON.stringify(validPage?.errors)).toBe(true);
    for (const p of sim.store.data.permits) {
      const one = await get(`/permits/${p.number}`);
      expect(validPermit?.(one.body), `${p.number}: ${JSON.stringify(validPermit?.errors)}`).toBe(true);
    }
    expect((await get('/permits?commune=06.141.01.0', 'wrong-token-wrong-token')).status).toBe(401);
    const bad = await get('/permits?commune=6.141');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('query.commune');
    expect((await get('/permits')).status).toBe(400);
  });

  it('applies a pushed change whole or not at all, once, and ignores holders it does not have', async () => {
    const company = sim.store.data.holders[1] as CompanyHolder;
    const push = async (changes: unknown[]) => (await fetch(new URL('/hub/holder-changes', sim.url), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ changes }) })).json() as Promise<Record<string, number>>;
    expect(await push([{ referential: 'companies', goldenId: 'g-2', version: 2, attributes: { ice: company.ice, nameFr: 'Souss Travaux Maritimes SA', status: 'struck-off' } }])).toEqual({ applied: 1 });
    expect(sim.store.holder(company.ref)).toMatchObject({ raisonSociale: 'Souss Travaux Maritimes SA', radiee: true });
    expect(sim.store.byHolderId(company.ice ?? '').every((p) => p.flags.includes('TITULAIRE_RADIE'))).toBe(true);
    // The same change again, and an older one late: nothing changes.
    expect(await push([{ referential: 'companies', goldenId: 'g-2', version: 2, attributes: { ice: company.ice, nameFr: 'Y' } }, { referential: 'companies', goldenId: 'g-2', version: 1, attributes: { ice: company.ice, nameFr: 'Z' } }])).toEqual({ stale: 2 });
    expect(sim.store.holder(company.ref)).toMatchObject({ raisonSociale: 'Souss Travaux Maritimes SA' });
    // Back on the register: the flag goes.
    await push([{ referential: 'companies', goldenId: 'g-2', version: 3, attributes: { ice: company.ice, nameFr: 'Souss Travaux Maritimes SA', status: 'active' } }]);
    expect(sim.store.byHolderId(company.ice ?? '').some((p) => p.flags.includes('TITULAIRE_RADIE'))).toBe(false);
    expect(await push([{ referential: 'companies', goldenId: 'g-9', version: 1, attributes: { ice: '000000000000000' } }])).toEqual({ unknown: 1 });
    // A malformed batch is refused whole: its valid first change is not applied either.
    const before = JSON.stringify(sim.store.data);
    const refused = await fetch(new URL('/hub/holder-changes', sim.url), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ changes: [{ referential: 'companies', goldenId: 'g-2', version: 9, attributes: { ice: company.ice, nameFr: 'Half' } }, { referential: 'vehicles' }] }) });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(sim.store.data)).toBe(before);
  });

  it('pulls its holders page by page, and a register unavailable or answering garbage takes nothing in', async () => {
    const run = dpmAdapter.pull?.run;
    if (!run) throw new Error('no pull');
    const ctx = { config, logger, signal: AbortSignal.timeout(5000) };
    let cursor: string | null = null;
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const page = await run(ctx, cursor);
      seen.push(...page.records.map((r) => r.sourceId));
      cursor = page.cursor;
      if (!page.more) break;
    }
    expect(seen.sort()).toEqual(sim.store.data.holders.map((h) => h.ref).sort());
    // A counter correction is the next page's only record.
    sim.store.editHolder('T-00004', (h) => void ((h as CompanyHolder).raisonSociale = 'Nour Bâtiment SARL'));
    const next = await run(ctx, cursor);
    expect(next.records.map((r) => [r.sourceId, r.attributes.nameFr])).toEqual([['T-00004', 'Nour Bâtiment SARL']]);
    for (const fault of ['unavailable', 'garbage'] as const) {
      sim.fault = fault;
      await expect(run(ctx, next.cursor)).rejects.toThrow(/occupation register/);
    }
    sim.fault = 'none';
    expect((await run(ctx, next.cursor)).records).toEqual([]);
  });

  it('its binding answers bad input with a 400 naming the field, and a register down, slow or garbled as unavailable', async () => {
    const binding = dpmBinding({ baseUrl: sim.url, token }, { timeoutMs: 300 });
    const signal = AbortSignal.timeout(5000);
    const bad = await binding.handle(request('listPermitsByCommune', { commune: '6.141' }, '/communes/6.141/permits'), signal);
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toContain('path.commune');
    const badLimit = await binding.handle(request('listPermitsByCompany', { ice: btpHolderIces[0] }, `/companies/${btpHolderIces[0]}/permits?limit=0`), signal);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.toString()).toContain('query.limit');
    const ok = await binding.handle(request('listPermitsByCompany', { ice: btpHolderIces[0] }, `/companies/${btpHolderIces[0]}/permits`), signal);
    expect(ok.status).toBe(200);
    for (const fault of ['unavailable', 'garbage', 'slow'] as const) {
      sim.fault = fault;
      sim.slowMs = 1000;
      await expect(binding.handle(request('getPermit', { number: 'AOT-DPM-2013-0001' }, '/permits/AOT-DPM-2013-0001'), signal)).rejects.toBeInstanceOf(ProviderUnavailableError);
    }
    sim.fault = 'none';
    const down = dpmBinding({ baseUrl: 'http://127.0.0.1:9', token });
    await expect(down.handle(request('getPermit', { number: 'AOT-DPM-2013-0001' }, '/permits/AOT-DPM-2013-0001'), signal)).rejects.toBeInstanceOf(ProviderUnavailableError);
  });
});
