// The road-safety systems through the hub (issue 15), on PGlite with the in-process queue and, when present, on
// PostgreSQL + Redis: a vehicle sold reaches the infractions system, so the next ticket goes to the new owner at the
// date of the offence (an earlier offence still to the old one); a licence losing its last points becomes the person's
// `licence` change, which reaches the exam appointment system and blocks that CIN's booking, and points given back
// unblock it; a name corrected by the civil registry reaches both systems' own data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infractionsIdentitySubscriptionInput, infractionsSubscriptionInput, infractionsIdentityPurpose, infractionsSyncPurpose, makeInfractionsAdapter } from '../adapters/infractions/adapter.ts';
import { infractionsProvider } from '../adapters/infractions/binding.ts';
import { getLicence } from '../adapters/infractions/licence-client.ts';
import { startInfractionsSimulator, type InfractionsSimulator } from '../adapters/infractions/simulator.ts';
import { candidateAttributes, permisAdapter, permisSyncPurpose } from '../adapters/permis-rdv/adapter.ts';
import { permisSubsystem } from '../adapters/permis-rdv/binding.ts';
import { startPermisSimulator, type PermisSimulator } from '../adapters/permis-rdv/simulator.ts';
import { referentialModules } from '../referentials/index.ts';
import { personsModule } from '../referentials/persons/module.ts';
import { vehiclesModule } from '../referentials/vehicles/module.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { createSubscription, type SubscriptionInput } from '../src/sync/subscriptions.ts';
import { startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';
import { waitFor } from './helpers/wait.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];
const fast = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4' };
const token = 'road-safety-token-0123456789';
/** The appointment system's persons fields (as its demo convention lists them): identity, death, the licence. */
const permisFields = ['cin', 'firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic', 'birthDate', 'status', 'deathDate', 'licence'].map((f) => `changes.record.attributes.${f}`);

describe.each(setups)('road safety through the hub on $name', (setup) => {
  let world!: ExchangeWorld;
  let infractions!: InfractionsSimulator;
  let permis!: PermisSimulator;
  const infractionsAdapter = makeInfractionsAdapter();

  const subscribe = async (input: SubscriptionInput) =>
    createSubscription({ db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['persons', 'vehicles'] }, { ...input, actor: 'test' });
  const book = async (cin: string) => {
    const request = permis.store.data.requests[0];
    if (!request) throw new Error('no request');
    const answer = await fetch(`${permis.url}/appointments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cin, centre: request.centre, date: '2026-11-20', slot: '10:00', use: 'first-issue', schoolAgentNumber: request.schoolAgentNumber }),
    });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };
  const golden = async (cin: string) =>
    (await world.db.query<{ attributes: Record<string, { value: unknown; source: { system: string; id: string } }> }>(
      `SELECT attributes FROM ref_golden WHERE referential = 'persons' AND status = 'active' AND attributes->'cin'->>'value' = $1`, [cin],
    )).rows[0]?.attributes;

  beforeAll(async () => {
    infractions = await startInfractionsSimulator();
    permis = await startPermisSimulator({ token, seed: 15, candidates: 12, schools: 2 });
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fast, referentials: referentialModules, syncAdapters: [infractionsAdapter, permisAdapter] });
    const infractionsMember = await world.registerConsumer(infractionsProvider);
    const permisMember = await world.registerConsumer(permisSubsystem);
    await allowSubscription(world, permisMember, { referential: 'persons', purpose: permisSyncPurpose, fields: permisFields });
    await allowSubscription(world, infractionsMember, { referential: 'vehicles', purpose: infractionsSyncPurpose });
    await allowSubscription(world, infractionsMember, { referential: 'persons', purpose: infractionsIdentityPurpose, fields: ['cin', 'firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic'].map((f) => `changes.record.attributes.${f}`) });
    await subscribe({ subscriber: permisSubsystem, referential: 'persons', purpose: permisSyncPurpose, mode: 'push', target: `adapter:${permisAdapter.id}`, from: 'now', batchSize: 50 });
    await subscribe(infractionsSubscriptionInput(infractionsProvider));
    await subscribe(infractionsIdentitySubscriptionInput(infractionsProvider));
    await configureAdapter(world.db, permisAdapter, { baseUrl: permis.url, token });
    await configureAdapter(world.db, infractionsAdapter, { endpoint: infractions.url, timeoutMs: 2000 });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await infractions?.close();
    await permis?.close();
  });

  it('addresses the next ticket of a vehicle sold to its new owner, and an earlier offence still to the old one', async () => {
    await contribute(world.db, vehiclesModule as unknown as ReferentialModule, { sourceSystem: 'narsa', sourceId: 'cg-9876-D-33', attributes: { plate: '9876-D-33', category: 'car', owner: { type: 'person', cin: 'CD222333' } } });
    const change = await waitFor(() => infractions.store.ownershipChanges.find((c) => c.ownerCin === 'CD222333') ?? false, 'the sale in the infractions system', { timeoutMs: 30_000 });
    const dayBefore = new Date(Date.parse(`${change.from}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const earlier = infractions.store.add({ issuedAt: `${dayBefore}T10:00:00+00:00`, communeCode: '06.141.01.0', plate: '9876-D-33', offenceCode: 'V-20', source: 'speed-camera' });
    const next = infractions.store.add({ issuedAt: `${change.from}T23:00:00+00:00`, communeCode: '06.141.01.0', plate: '9876-D-33', offenceCode: 'V-20', source: 'speed-camera' });
    expect([earlier.ownerCin, next.ownerCin]).toEqual(['J456789', 'CD222333']);
  });

  it('blocks the booking of a CIN whose licence lost its last points, and unblocks it when points are given back', async () => {
    const candidate = permis.store.data.candidates[3];
    if (!candidate) throw new Error('no candidate');
    const names = { latin: `${candidate.firstNameLatin} ${candidate.lastNameLatin}`, arabic: `${candidate.firstNameArabic} ${candidate.lastNameArabic}` };
    infractions.store.licences.enrol(candidate.cin, names);
    // Eight red lights (4 points each) take the 30 points.
    for (let day = 1; day <= 8; day++) {
      infractions.store.add({ issuedAt: `2026-03-0${day}T09:00:00+01:00`, communeCode: '06.141.01.0', plate: '12345-A-6', driverCin: candidate.cin, driverNameLatin: names.latin, offenceCode: 'F-01', source: 'agent' });
    }
    expect(infractions.store.licences.holders.get(candidate.cin)).toMatchObject({ status: 'suspended', points: 0, suspendedAt: '2026-03-08' });

    await waitFor(() => permis.store.suspended.get(candidate.cin)?.fromLicence === true, 'the suspension in the appointment system', { timeoutMs: 30_000 });
    const attributes = await golden(candidate.cin);
    expect(attributes?.licence).toMatchObject({ value: { status: 'suspended', points: 0, suspendedAt: '2026-03-08' }, source: { system: 'infractions', id: `licence:${candidate.cin}` } });
    const refused = await book(candidate.cin);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ title: 'the CIN is under suspension: driving licence suspended since 2026-03-08: no points left (infractions register, 0 points)', errors: [{ location: 'body.cin' }] });
    // Another candidate books as before: the block is this CIN's alone.
    expect((await book(permis.store.data.candidates[5]?.cin ?? '')).status).toBe(201);

    infractions.store.licences.restore(candidate.cin, 6);
    await waitFor(() => !permis.store.suspended.has(candidate.cin), 'the suspension lifted in the appointment system', { timeoutMs: 30_000 });
    expect((await golden(candidate.cin))?.licence?.value).toEqual({ status: 'valid', points: 6 });
    expect((await book(candidate.cin)).status).toBe(201);
  });

  it('brings a name corrected by the civil registry to both systems', async () => {
    const candidate = permis.store.data.candidates[6];
    if (!candidate) throw new Error('no candidate');
    infractions.store.licences.enrol(candidate.cin, { latin: `${candidate.firstNameLatin} ${candidate.lastNameLatin}` });
    await waitFor(async () => (await golden(candidate.cin))?.licence !== undefined, 'the licence on the golden record', { timeoutMs: 30_000 });
    await contribute(world.db, personsModule as unknown as ReferentialModule, { sourceSystem: 'civil-registry', sourceId: `ec-${candidate.cin}`, attributes: { ...candidateAttributes(candidate), lastNameLatin: 'Corrigé-Alaoui' } });
    await waitFor(() => permis.store.candidate(candidate.cin)?.lastNameLatin === 'Corrigé-Alaoui', 'the correction in the appointment system', { timeoutMs: 30_000 });
    const read = async () => (await getLicence(infractions.url, candidate.cin, { timeoutMs: 2000 })).holderNameLatin;
    await waitFor(async () => (await read()) === `${candidate.firstNameLatin} Corrigé-Alaoui`, 'the correction in the licence file', { timeoutMs: 30_000 });
  });
});
