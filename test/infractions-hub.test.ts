// The infractions system on a hub (issue 15 item 1): its REST face served through the exchange by the SOAP adapter
// binding (tickets by plate and by CIN, minimised to the convention's fields), its SOAP faults, garbage and slowness
// answered as the protocol's provider problems (502, 504, never a 500), its tickets pulled into the vehicles and
// persons referentials, and a vehicle sold (a NARSA change of owner) pushed to it, so that the next ticket goes to
// the new owner. On PGlite with the in-process queue and, when present, on PostgreSQL + Redis.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeInfractionsAdapter, infractionsSubscriptionInput, infractionsSyncPurpose, infractionsSystem } from '../adapters/infractions/adapter.ts';
import { infractionsBinding, infractionsBindingName, infractionsProvider, infractionsService } from '../adapters/infractions/binding.ts';
import { startInfractionsSimulator, type InfractionsSimulator } from '../adapters/infractions/simulator.ts';
import { referentialModules } from '../referentials/index.ts';
import { vehiclesModule } from '../referentials/vehicles/module.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { createSubscription } from '../src/sync/subscriptions.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';
import { waitFor } from './helpers/wait.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

const fast = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4' };
const contract = fileURLToPath(new URL('../contracts/MA.GOV.METLE.infractions/tickets/openapi.yaml', import.meta.url));
const policeId = 'MA/GOV/DGSN/controle-routier';
const purpose = 'roadside-check';
/** What a roadside check needs of a ticket: no names, no CINs (law 09-08). */
const ticketFields = ['infractions.ticketNumber', 'infractions.issuedAt', 'infractions.offence.code', 'infractions.offence.label', 'infractions.amount', 'infractions.paymentState'];

describe.each(setups)('the infractions system on a hub on $name', (setup) => {
  let world!: ExchangeWorld;
  let sim!: InfractionsSimulator;
  let police!: Consumer;
  let system!: Consumer;
  const adapter = makeInfractionsAdapter();

  const get = async (target: string) => world.send(await world.sign(police.identity, { method: 'GET', target: `/x/v1/${infractionsService}${target}`, purpose }));

  beforeAll(async () => {
    sim = await startInfractionsSimulator();
    world = await startExchangeWorld({
      storage: setup.storage,
      redis: setup.redis,
      workers: true,
      env: fast,
      referentials: referentialModules,
      syncAdapters: [adapter],
      adapters: { [infractionsBindingName]: infractionsBinding({ endpoint: sim.url, timeoutMs: 1000 }) },
    });
    system = await world.registerConsumer(infractionsProvider);
    police = await world.registerConsumer(policeId);
    const dir = join(world.contractsDir, 'MA.GOV.METLE.infractions', 'tickets');
    mkdirSync(dir, { recursive: true });
    copyFileSync(contract, join(dir, 'openapi.yaml'));
    await world.addConvention({
      provider: infractionsProvider,
      service: 'tickets',
      consumer: policeId,
      purposes: [{ code: purpose, description: 'contrôle routier : amendes impayées du véhicule contrôlé', legalBasis: 'loi 52-05 portant code de la route' }],
      operations: [
        { operationId: 'getInfractionsByPlate', fields: ['plateKey', ...ticketFields] },
        { operationId: 'getInfractionsByCin', fields: ['licencePoints', ...ticketFields] },
      ],
    });
    await world.bind(infractionsService, { kind: 'adapter', adapter: infractionsBindingName, timeoutMs: 5000 });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await sim?.close();
  });
  afterEach(() => {
    sim.fault = 'none';
  });

  it('answers tickets by plate (either notation) and by CIN, minimised to the convention\'s fields', async () => {
    const latin = await get(`/plates/${encodeURIComponent('12345-A-6')}/infractions`);
    expect(latin.status).toBe(200);
    const body = latin.json as { plateKey: string; infractions: Array<Record<string, unknown>> };
    expect(body.plateKey).toBe('12345|A|6');
    expect(body.infractions).toHaveLength(2);
    expect(Object.keys(body.infractions[0] ?? {}).sort()).toEqual(['amount', 'issuedAt', 'offence', 'paymentState', 'ticketNumber']);
    expect(latin.text).not.toContain('BK123456');
    const arabic = await get(`/plates/${encodeURIComponent('12345-أ-6')}/infractions`);
    expect(arabic.json).toEqual(latin.json);

    const byCin = await get('/persons/EE998877/infractions');
    expect(byCin.status).toBe(200);
    expect(byCin.json).toEqual({ licencePoints: 28, infractions: [expect.objectContaining({ offence: { code: 'T-01', label: 'Usage du téléphone en conduisant' } })] });
    expect(byCin.text).not.toContain('فاطمة');

    const bad = await get('/plates/not-a-plate/infractions');
    expect(bad.status).toBe(400);
  });

  it.each([
    ['soap-fault', 502, 'provider-unavailable'],
    ['truncated', 502, 'provider-response-invalid'],
    ['html-200', 502, 'provider-response-invalid'],
    ['charset', 502, 'provider-response-invalid'],
    ['slow', 504, 'provider-timeout'],
  ] as const)('answers the simulator fault %s as %i %s', async (fault, status, code) => {
    sim.fault = fault;
    sim.slowMs = 3000;
    const answer = await get(`/plates/${encodeURIComponent('12345-A-6')}/infractions`);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((answer.json as { type: string }).type).toMatch(new RegExp(`${code}$`));
  });

  it('pulls its tickets into the vehicles and persons referentials, and a vehicle sold reaches it so that the next ticket goes to the new owner', async () => {
    await configureAdapter(world.db, adapter, { endpoint: sim.url, timeoutMs: 2000 });
    const ingested = async () =>
      (await world.db.query<{ source_id: string }>('SELECT DISTINCT source_id FROM sync_ingested WHERE system = $1 ORDER BY source_id', [infractionsSystem])).rows.map((r) => r.source_id);
    // The points register's licences too (their holders, with the licence attribute group).
    const expected = ['cin:BK123456', 'cin:EE998877', 'cin:J456789', 'licence:AB654321', 'licence:BK123456', 'licence:EE998877', 'licence:J456789', 'plate:12345|A|6', 'plate:22222|W|40', 'plate:4567|B|1', 'plate:9876|D|33'];
    await waitFor(async () => (await ingested()).length === expected.length, 'the tickets\' vehicles and persons taken in', { timeoutMs: 30_000 });
    expect(await ingested()).toEqual(expected);
    const settled = async () => (await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE topic = $1 AND delivered_at IS NULL', [`ingest.${infractionsSystem}`])).rows[0]?.n === 0;
    await waitFor(settled, 'the ingest queue drained');

    // The system follows the vehicles referential from now on (what it contributed itself is already taken in).
    await allowSubscription(world, system, { referential: 'vehicles', purpose: infractionsSyncPurpose });
    await createSubscription(
      { db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['vehicles'] },
      { ...infractionsSubscriptionInput(infractionsProvider), actor: 'test' },
    );
    // The NARSA registers the sale of 12345-A-6 (its owner is trusted before the infractions system's). On the Redis
    // driver a drained outbox means queued, not yet applied: a late ingest job may still restate today's owner to the
    // new subscription; what must never follow the sale is the old owner.
    const beforeSale = sim.store.ownershipChanges.length;
    await contribute(world.db, vehiclesModule as unknown as ReferentialModule, { sourceSystem: 'narsa', sourceId: 'cg-12345-A-6', attributes: { plate: '12345-A-6', category: 'car', owner: { type: 'person', cin: 'CD111222' } } });
    await waitFor(async () => sim.store.ownershipChanges.some((c) => c.ownerCin === 'CD111222'), 'the ownership change in the infractions system', { timeoutMs: 30_000 });
    const change = sim.store.ownershipChanges.find((c) => c.ownerCin === 'CD111222');
    expect(change?.plate).toBe('12345-A-6');
    expect(sim.store.ownershipChanges.slice(beforeSale).filter((c) => c.ownerCin === 'BK123456')).toEqual([]);

    const from = change?.from as string;
    const dayBefore = new Date(Date.parse(`${from}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const earlier = sim.store.add({ issuedAt: `${dayBefore}T10:00:00+00:00`, communeCode: '04.421.01.0', plate: '12345-أ-6', offenceCode: 'V-20', source: 'speed-camera' });
    const next = sim.store.add({ issuedAt: `${from}T23:00:00+00:00`, communeCode: '04.421.01.0', plate: '12345-أ-6', offenceCode: 'V-20', source: 'speed-camera' });
    expect(earlier.ownerCin).toBe('BK123456');
    expect(next.ownerCin).toBe('CD111222');
  });
});
