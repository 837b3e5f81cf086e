// The driving-licence exam appointment system on a real hub with workers (issue 15 item 3): its candidates become
// persons golden records and its schools companies; a golden person change made elsewhere (the civil registry, more
// trusted) is pushed to the adapter's deliver and reaches the system; its slot availability is served through the exchange.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referentialModules } from '../referentials/index.ts';
import { personsModule } from '../referentials/persons/module.ts';
import { candidateAttributes, permisAdapter, permisSystem } from '../adapters/permis-rdv/adapter.ts';
import { permisBinding, permisService, permisSubsystem } from '../adapters/permis-rdv/binding.ts';
import { startPermisSimulator, type PermisSimulator } from '../adapters/permis-rdv/simulator.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { createSubscription } from '../src/sync/subscriptions.ts';
import { portalId, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';
import { waitFor } from './helpers/wait.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];
const fast = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4' };
const token = 'permis-hub-token-0123456789';
const purpose = 'exam-slot-information';

async function ingested(world: ExchangeWorld, referential: string): Promise<Array<{ source_id: string; decision: string; golden_id: string | null }>> {
  return (await world.db.query<{ source_id: string; decision: string; golden_id: string | null }>(
    'SELECT source_id, decision, golden_id FROM sync_ingested WHERE system = $1 AND referential = $2 ORDER BY source_id', [permisSystem, referential],
  )).rows;
}

describe.each(setups)('the permis-rdv system on a hub on $name', (setup) => {
  let world!: ExchangeWorld;
  let sim!: PermisSimulator;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fast, referentials: referentialModules, syncAdapters: [permisAdapter] });
    sim = await startPermisSimulator({ token, seed: 15, candidates: 30, schools: 3 });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await sim?.close();
  });

  it('takes its candidates in as persons and its schools as companies, and delivers a golden person change back to it', async () => {
    const system = await world.registerConsumer(permisSubsystem);
    await allowSubscription(world, system, { referential: 'persons', purpose: 'person-referential-sync' });
    await createSubscription(
      { db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['persons'] },
      { subscriber: permisSubsystem, referential: 'persons', purpose: 'person-referential-sync', mode: 'push', target: 'adapter:permis-rdv', from: 'now', batchSize: 50, actor: 'test' },
    );
    await configureAdapter(world.db, permisAdapter, { baseUrl: sim.url, token });
    await waitFor(async () => (await ingested(world, 'persons')).length === 30 && (await ingested(world, 'companies')).length === 3, 'the 30 candidates and 3 schools taken in', { timeoutMs: 30_000 });
    const persons = await ingested(world, 'persons');
    expect(persons.map((p) => p.source_id).sort()).toEqual(sim.store.data.candidates.map((c) => c.cin).sort());
    expect(persons.every((p) => p.golden_id !== null)).toBe(true);

    // The civil registry (trusted first) corrects a candidate's name and records a death: the golden record changes and
    // the hub pushes it to the adapter, which applies it to the system.
    const candidate = sim.store.data.candidates[4];
    if (!candidate) throw new Error('no candidate');
    await contribute(world.db, personsModule as unknown as ReferentialModule, {
      sourceSystem: 'civil-registry', sourceId: `rec-${candidate.cin}`,
      attributes: { ...candidateAttributes(candidate), lastNameLatin: 'Bennani-Corrigé', status: 'deceased', deathDate: '2026-02-01' },
    });
    await waitFor(async () => sim.store.candidate(candidate.cin)?.state === 'closed', 'the death applied in the system', { timeoutMs: 30_000 });
    expect(sim.store.candidate(candidate.cin)).toMatchObject({ lastNameLatin: 'Bennani-Corrigé', deathDate: '2026-02-01' });
  });

  it('serves a centre\'s slot availability through the exchange', async () => {
    await world.addConvention({
      provider: permisSubsystem, service: 'appointments', consumer: portalId,
      purposes: [{ code: purpose, description: 'shows a candidate the free exam slots', legalBasis: 'test' }],
      operations: [{ operationId: 'getCentreSlots' }, { operationId: 'getAppointmentStatistics' }],
    });
    world.loadAdapter('permis-rdv-appointments', permisBinding({ baseUrl: sim.url, token }));
    await world.bind(permisService, { kind: 'adapter', adapter: 'permis-rdv-appointments', timeoutMs: 5000 });
    const request = sim.store.data.requests[0];
    if (!request) throw new Error('no request');
    const answer = await world.send(await world.sign(world.portal.identity, { method: 'GET', target: `/x/v1/${permisService}/centres/${request.centre}/slots?date=${request.date}`, purpose }));
    expect(answer.status, answer.body.toString()).toBe(200);
    const body = JSON.parse(answer.body.toString()) as { slots: Array<{ slot: string; booked: number }> };
    expect(body.slots.map((s) => s.slot)).toEqual(['08:30', '09:00', '09:30', '10:00', '10:30', '11:00', '11:30']);
    expect(body.slots.find((s) => s.slot === request.slot)?.booked).toBe(sim.store.slots(sim.store.centre(request.centre) as never, request.date).find((s) => s.slot === request.slot)?.booked);
    const stats = await world.send(await world.sign(world.portal.identity, { method: 'GET', target: `/x/v1/${permisService}/statistics?year=2026`, purpose }));
    expect(stats.status, stats.body.toString()).toBe(200);
    const months = (JSON.parse(stats.body.toString()) as { months: Array<{ total: number }> }).months;
    expect(months.reduce((s, m) => s + m.total, 0)).toBe(sim.store.data.requests.length);
  });
});
