// The maritime public-domain occupation register on a real hub with workers (issue 16 item 3), on both drivers: its
// holders become companies and persons golden records (the one without any identifier refused with its reason, the
// company filed twice tied to one record); a company renamed in the BTP platform reaches the permits' holder through
// the companies golden record (the second step of the demo's "a change travels"); a company struck off and a person
// deceased flag their permits; the permits are served by holder and by commune (a 2014 code found under today's)
// through the exchange, and a register down, slow or answering garbage is the protocol's 502/504.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referentialModules } from '../referentials/index.ts';
import { companiesModule } from '../referentials/companies/module.ts';
import { personsModule } from '../referentials/persons/module.ts';
import { btpAdapter, btpSystem } from '../adapters/btp-qualification/adapter.ts';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { startBtpSimulator, type BtpSimulator } from '../adapters/btp-qualification/simulator.ts';
import { dpmAdapter, dpmSubscriptionInputs, dpmSubsystem, dpmSyncPurpose, dpmSystem } from '../adapters/dpm-occupations/adapter.ts';
import { dpmBinding, dpmBindingName, dpmService } from '../adapters/dpm-occupations/binding.ts';
import { staleCommune, type CompanyHolder, type PersonHolder } from '../adapters/dpm-occupations/data.ts';
import { startDpmSimulator, type DpmSimulator } from '../adapters/dpm-occupations/simulator.ts';
import { dpmDemoSystem } from '../adapters/dpm-occupations/demo.ts';
import { listSubscriptions } from '../src/sync/subscriptions.ts';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contribute } from '../src/golden/engine.ts';
import { getGolden } from '../src/golden/reads.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { createSubscription } from '../src/sync/subscriptions.ts';
import { miId, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';
import { waitFor } from './helpers/wait.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];
const fast = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4' };
const token = 'dpm-hub-token-0123456789';
const tokenIn = (dir: string): string => readFileSync(join(dir, 'dpm-occupations-token'), 'utf8').trim();
const btpToken = 'btp-hub-token-0123456789';
const purpose = 'coastal-occupation-follow-up';

interface Ingested { source_id: string; decision: string; golden_id: string | null; problems: unknown }
async function ingested(world: ExchangeWorld, system: string): Promise<Ingested[]> {
  return (await world.db.query<Ingested>('SELECT source_id, decision, golden_id, problems FROM sync_ingested WHERE system = $1 ORDER BY source_id, ingested_at', [system])).rows;
}

describe.each(setups)('the occupation register on a hub on $name', (setup) => {
  let world!: ExchangeWorld;
  let dpm!: DpmSimulator;
  let btp!: BtpSimulator;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fast, referentials: referentialModules, syncAdapters: [btpAdapter, dpmAdapter] });
    dpm = await startDpmSimulator({ token, seed: 16 });
    btp = await startBtpSimulator({ hubJwksUrl: `${world.urls[0]}/.well-known/jwks.json`, hubId: world.hubId, integrationToken: btpToken });
    const system = await world.registerConsumer(dpmSubsystem);
    await allowSubscription(world, system, { referential: 'companies', purpose: dpmSyncPurpose, fields: ['changes.record.attributes.ice', 'changes.record.attributes.nameFr', 'changes.record.attributes.nameAr', 'changes.record.attributes.status'] });
    await allowSubscription(world, system, { referential: 'persons', purpose: dpmSyncPurpose });
    for (const input of dpmSubscriptionInputs()) {
      await createSubscription({ db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['companies', 'persons'] }, { ...input, actor: 'test' });
    }
    await configureAdapter(world.db, btpAdapter, { baseUrl: btp.url, token: btpToken });
    await configureAdapter(world.db, dpmAdapter, { baseUrl: dpm.url, token });
    const holders = dpm.store.data.holders.length;
    await waitFor(async () => (await ingested(world, dpmSystem)).length === holders && (await ingested(world, btpSystem)).length === 50, 'the register\'s holders and the BTP companies taken in', { timeoutMs: 60_000 });
  }, 180_000);
  afterAll(async () => {
    await world?.close();
    await dpm?.close();
    await btp?.close();
  });

  it('takes its holders in, refuses the one without any identifier with its reason, and ties the company filed twice to one record', async () => {
    const rows = await ingested(world, dpmSystem);
    const byRef = new Map(rows.map((r) => [r.source_id, r]));
    const holders = dpm.store.data.holders;
    const cooperative = holders.find((h) => h.kind === 'company' && !h.ice) as CompanyHolder;
    expect(byRef.get(cooperative.ref)?.decision).toBe('rejected');
    expect(JSON.stringify(byRef.get(cooperative.ref)?.problems)).toMatch(/identifier|ice|rc/i);
    for (const h of holders.filter((x) => x !== cooperative)) expect(byRef.get(h.ref)?.golden_id, h.ref).toBeTruthy();
    const lastFiled = holders.at(-1) as CompanyHolder;
    const filedTwice = holders.filter((h): h is CompanyHolder => h.kind === 'company' && h.ice === lastFiled.ice);
    expect(filedTwice).toHaveLength(2);
    expect(byRef.get(filedTwice[0]?.ref ?? '')?.golden_id).toBe(byRef.get(filedTwice[1]?.ref ?? '')?.golden_id);
    // The BTP company holding permits is the BTP platform's golden record: one company, two systems.
    const btpRows = await ingested(world, btpSystem);
    const btpGolden = btpRows.find((r) => r.source_id === demoIces.qualified)?.golden_id;
    expect(btpGolden).toBeTruthy();
    expect(byRef.get('T-00001')?.golden_id).toBe(btpGolden);
  });

  it('a company renamed in the BTP platform reaches the permits\' holder through the golden record', async () => {
    const renamed = 'Atlas Bâtiment et Travaux Maritimes SARL';
    btp.store.edit(demoIces.qualified, { raisonSociale: renamed });
    await waitFor(() => (dpm.store.holder('T-00001') as CompanyHolder).raisonSociale === renamed, 'the rename applied to the permits\' holder', { timeoutMs: 30_000 });
    const goldenId = (await ingested(world, btpSystem)).find((r) => r.source_id === demoIces.qualified)?.golden_id ?? '';
    expect((await getGolden(world.db, 'companies', goldenId))?.attributes.nameFr?.value).toBe(renamed);
    expect(dpm.store.fromHub.some((c) => c.ref === 'T-00001' && c.referential === 'companies')).toBe(true);
  });

  it('a company struck off and a person deceased flag their permits, the company on both its files', async () => {
    const holders = dpm.store.data.holders;
    const twice = holders.at(-1) as CompanyHolder;
    await contribute(world.db, companiesModule as unknown as ReferentialModule, { sourceSystem: 'ompic', sourceId: `rc-${twice.ice}`, attributes: { ice: twice.ice, nameFr: 'Nour Bâtiment SARL', status: 'struck-off' } });
    const refs = holders.filter((h) => h.kind === 'company' && h.ice === twice.ice).map((h) => h.ref);
    const permitsOf = (ref: string) => dpm.store.data.permits.filter((p) => p.holderRef === ref);
    await waitFor(() => refs.every((ref) => permitsOf(ref).length > 0 && permitsOf(ref).every((p) => p.flags.includes('TITULAIRE_RADIE'))), 'the struck-off company\'s permits flagged', { timeoutMs: 30_000 });
    expect(refs.map((ref) => (dpm.store.holder(ref) as CompanyHolder).raisonSociale)).toEqual(['Nour Bâtiment SARL', 'Nour Bâtiment SARL']);

    const person = holders.find((h): h is PersonHolder => h.kind === 'person' && h.nomLatin !== undefined) as PersonHolder;
    await contribute(world.db, personsModule as unknown as ReferentialModule, {
      sourceSystem: 'civil-registry', sourceId: `rec-${person.cin}`,
      attributes: { cin: person.cin, firstNameLatin: person.prenomLatin, lastNameLatin: person.nomLatin, firstNameArabic: person.prenomArabe, lastNameArabic: person.nomArabe, birthDate: person.dateNaissance, status: 'deceased', deathDate: '2026-03-01' },
    });
    await waitFor(() => permitsOf(person.ref).every((p) => p.flags.includes('TITULAIRE_DECEDE')), 'the deceased holder\'s permits flagged', { timeoutMs: 30_000 });
    expect((dpm.store.holder(person.ref) as PersonHolder).decede).toBe(true);
    // Nobody else was flagged.
    expect(dpm.store.data.permits.filter((p) => p.flags.length > 0).every((p) => refs.includes(p.holderRef) || p.holderRef === person.ref)).toBe(true);
  });

  it('serves permits by holder and by commune through the exchange; a register down, slow or answering garbage is 502 or 504', async () => {
    await world.addConvention({
      provider: dpmSubsystem, service: 'permits', consumer: miId,
      purposes: [{ code: purpose, description: 'coastal occupations of a commune', legalBasis: 'test' }],
      operations: [{ operationId: 'listPermitsByCommune' }, { operationId: 'getPermit' }, { operationId: 'listPermitsByCompany' }, { operationId: 'listPermitsByPerson' }],
    });
    world.loadAdapter(dpmBindingName, dpmBinding({ baseUrl: dpm.url, token }));
    await world.bind(dpmService, { kind: 'adapter', adapter: dpmBindingName, timeoutMs: 1000 });
    const get = async (path: string) => {
      const answer = await world.send(await world.sign(world.mi.identity, { method: 'GET', target: `/x/v1/${dpmService}${path}`, purpose }));
      return { status: answer.status, body: JSON.parse(answer.body.toString()) as Record<string, unknown> & { items?: Array<Record<string, unknown>> } };
    };

    const byCompany = await get(`/companies/${demoIces.qualified}/permits`);
    expect(byCompany.status, JSON.stringify(byCompany.body)).toBe(200);
    expect(byCompany.body.total).toBe(dpm.store.byHolderId(demoIces.qualified).length);
    expect(byCompany.body.items?.every((p) => (p.holder as CompanyHolder).raisonSociale === 'Atlas Bâtiment et Travaux Maritimes SARL')).toBe(true);

    // The old file of Ait Kamra, filed under the 2014 code, is found under today's code (and under the old one).
    const today = await get(`/communes/${staleCommune.code2024}/permits`);
    expect(today.status).toBe(200);
    expect(today.body.commune).toEqual({ code: staleCommune.code2024, name: expect.any(String) as string });
    expect(today.body.items?.some((p) => (p.commune as { filedAs?: string }).filedAs === staleCommune.code2014)).toBe(true);
    expect((await get(`/communes/${staleCommune.code2014}/permits`)).body.total).toBe(today.body.total);
    const casablanca = await get('/communes/06.141.01.0/permits?state=EN_VIGUEUR&limit=5');
    expect(casablanca.status).toBe(200);
    expect(casablanca.body.total).toBe(dpm.store.byCommune('06.141.01.0').filter((p) => p.state === 'EN_VIGUEUR').length);

    const number = dpm.store.data.permits[0]?.number ?? '';
    const one = await get(`/permits/${number}`);
    expect(one.status).toBe(200);
    expect((one.body.projects as unknown[]).length).toBe(dpm.store.data.permits[0]?.projects.length);

    // Bad input is a 4xx naming the field, decided before the register is asked.
    const bad = await get('/communes/06.141.01.0/permits?limit=1000');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('query.limit');
    expect((await get('/communes/99.999.99.9/permits')).status).toBe(404);
    expect((await get('/permits/AOT-DPM-1999-9999')).status).toBe(404);

    for (const [fault, status] of [['unavailable', 502], ['garbage', 502], ['slow', 504]] as const) {
      dpm.fault = fault;
      dpm.slowMs = 3000;
      const answer = await get(`/permits/${number}`);
      expect(answer.status, `${fault}: ${JSON.stringify(answer.body)}`).toBe(status);
      expect(JSON.stringify(answer.body)).not.toMatch(/Erreur interne|stack/);
    }
    dpm.fault = 'none';
    expect((await get(`/permits/${number}`)).status).toBe(200);
  });

  it('joins the demo: started twice, it keeps its two subscriptions, binds the service to its new simulator each time and keeps its token private', async () => {
    const hub = world.hubs[0];
    if (!hub) throw new Error('no hub in this process');
    const demoDir = mkdtempSync(join(tmpdir(), 'dpm-demo-'));
    const context = { config: hub.config, db: hub.db, services: hub.services, logger: pino({ enabled: false }), hubUrl: world.urls[0] ?? '', reportBackgroundFailure: () => undefined };
    try {
      for (let start = 0; start < 2; start++) {
        const running = await dpmDemoSystem.start({ context, demoDir, actor: 'test', activity: false });
        try {
          expect((await listSubscriptions(world.db, { subscriber: dpmSubsystem, state: 'active' })).map((x) => x.referential).sort()).toEqual(['companies', 'persons']);
          expect(statSync(join(demoDir, 'dpm-occupations-token')).mode & 0o077).toBe(0);
          expect(running.banner.join('\n')).not.toContain(tokenIn(demoDir));
          const answer = await world.send(await world.sign(world.mi.identity, { method: 'GET', target: `/x/v1/${dpmService}/companies/${demoIces.qualified}/permits`, purpose }));
          expect(answer.status, answer.body.toString()).toBe(200);
          // The demo's simulator is a fresh one: the holder has its name as filed.
          expect(answer.body.toString()).toContain('Atlas Bâtiment et Travaux SARL');
        } finally {
          await running.stop();
        }
      }
    } finally {
      rmSync(demoDir, { recursive: true, force: true });
    }
  });
});
