// MARROUTE on a real hub with workers (issue 16 item 2), on PGlite and, when present, PostgreSQL + Redis: a commune
// renumbering recorded in the territory referential reaches MARROUTE through its push subscription (target
// adapter:marroute) and re-files its events; its road events are served through the exchange, an event still filed
// under a 2014 code found under today's before and after; MARROUTE down delays a renumbering, never half-applies it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marrouteAdapter, marrouteSubscriptionInput, marrouteSubsystem, marrouteTerritoryPurpose } from '../adapters/marroute/adapter.ts';
import { marrouteBinding, marrouteService, type HubRoadEvent } from '../adapters/marroute/binding.ts';
import { demoRenumbering } from '../adapters/marroute/data.ts';
import { startMarrouteSimulator, type MarrouteSimulator } from '../adapters/marroute/simulator.ts';
import { territoryModule } from '../referentials/territory/module.ts';
import { contribute } from '../src/golden/engine.ts';
import { ContributionRefusedError } from '../src/golden/engine-types.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { createSubscription, getSubscription } from '../src/sync/subscriptions.ts';
import { portalId, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';
import { waitFor } from './helpers/wait.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];
const fast = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4', SYNC_CIRCUIT_SECONDS: '0.2' };
const token = 'marroute-hub-token-0123456789';
const purpose = 'road-conditions-information';
const territory = territoryModule as unknown as ReferentialModule;
const { code2014, code2024, province } = demoRenumbering;

describe.each(setups)('MARROUTE on a hub on $name', (setup) => {
  let world!: ExchangeWorld;
  let sim!: MarrouteSimulator;
  let subscription = '';

  async function subscriptionNow() {
    const found = await getSubscription(world.db, subscription);
    if (!found) throw new Error(`subscription ${subscription} is gone`);
    return found;
  }

  async function roadEvents(query: string): Promise<{ status: number; body: { events: HubRoadEvent[]; omitted: unknown[]; commune: unknown } & Record<string, unknown> }> {
    const answer = await world.send(await world.sign(world.portal.identity, { method: 'GET', target: `/x/v1/${marrouteService}/provinces/${query}`, purpose }));
    return { status: answer.status, body: JSON.parse(answer.body.toString()) as never };
  }

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fast, referentials: [territory], syncAdapters: [marrouteAdapter] });
    sim = await startMarrouteSimulator({ token });
    // MARROUTE is the provider of its road events and the subscriber of the territory: registered with keys first.
    const system = await world.registerConsumer(marrouteSubsystem);
    await world.addConvention({
      provider: marrouteSubsystem, service: 'road-events', consumer: portalId,
      purposes: [{ code: purpose, description: 'shows a citizen the road events before a journey', legalBasis: 'test' }],
      operations: [{ operationId: 'listRoadEventsByProvince' }, { operationId: 'getRoadEvent' }],
    });
    world.loadAdapter('marroute-road-events', marrouteBinding({ baseUrl: sim.url, token, timeoutMs: 2000 }));
    await world.bind(marrouteService, { kind: 'adapter', adapter: 'marroute-road-events', timeoutMs: 5000 });
    await allowSubscription(world, system, { referential: 'territory', purpose: marrouteTerritoryPurpose, fields: ['changes.record.attributes.code', 'changes.record.attributes.formerCodes', 'changes.record.attributes.nameFr'] });
    subscription = (await createSubscription(
      { db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['territory'] },
      { ...marrouteSubscriptionInput(), actor: 'test' },
    )).id;
    await configureAdapter(world.db, marrouteAdapter, { baseUrl: sim.url, token });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await sim?.close();
  });

  it('serves a commune\'s events through the exchange: those MARROUTE still files under the 2014 code are found under today\'s', async () => {
    const answer = await roadEvents(`${province}/events?commune=${code2024}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.commune).toEqual({ code: code2024, nameFr: 'Ait Kamra', nameAr: 'آيت قمرة' });
    const stale = answer.body.events.filter((e) => e.filedUnder === code2014);
    expect(stale.length).toBeGreaterThanOrEqual(2);
    expect(answer.body.events.every((e) => e.commune?.code === code2024)).toBe(true);
    // Asked by the 2014 code, the same answer.
    expect((await roadEvents(`${province}/events?commune=${code2014}`)).body.events.map((e) => e.id)).toEqual(answer.body.events.map((e) => e.id));
  });

  it('a renumbering recorded in the territory referential reaches MARROUTE, which re-files its events; a stale code given as current is refused, nothing in the feed', async () => {
    await expect(contribute(world.db, territory, { sourceSystem: 'hcp', sourceId: `hcp-${code2014}`, attributes: { code: code2014 } })).rejects.toBeInstanceOf(ContributionRefusedError);
    const result = await contribute(world.db, territory, { sourceSystem: 'hcp', sourceId: `hcp-${code2024}`, attributes: { code: code2024, formerCodes: [code2014] } });
    expect(result.decision).toBe('created');
    await waitFor(() => sim.store.renumberings().length === 1, 'the renumbering applied in MARROUTE', { timeoutMs: 30_000 });
    expect(sim.store.renumberings()).toEqual([{ former: code2014, code: code2024 }]);
    const { rows } = await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ref_changes WHERE referential = 'territory'");
    expect(rows[0]?.n).toBe(1);
    await waitFor(async () => (await subscriptionNow()).deliveredCount === 1, 'the delivery settled');
    // The push is in the message log: to MARROUTE, for its purpose, under its convention (the demo shows this log id).
    const logged = await world.db.query<{ seq: string; status: number; purpose: string }>(
      "SELECT seq, status, purpose FROM message_log WHERE client = $1 AND service = 'MA/GOV/HUB/referentials/territory' AND operation = 'push'", [marrouteSubsystem]);
    expect(logged.rows.map((r) => [r.status, r.purpose])).toEqual([[200, marrouteTerritoryPurpose]]);

    const answer = await roadEvents(`${province}/events?commune=${code2024}`);
    expect(answer.status).toBe(200);
    expect(answer.body.events.length).toBeGreaterThanOrEqual(2);
    expect(answer.body.events.filter((e) => e.filedUnder !== null)).toEqual([]);
    expect(answer.body.events.filter((e) => e.label?.includes('Ait Kamra')).every((e) => e.version === 2)).toBe(true);
  });

  it('MARROUTE down: the renumbering waits and is retried, applied whole once it is back; the exchange answers 502, a bad code 400 before any call', async () => {
    sim.fault = 'down';
    try {
      const before = (await subscriptionNow()).failedCount;
      await contribute(world.db, territory, { sourceSystem: 'hcp', sourceId: 'hcp-01.051.11.07', attributes: { code: '01.051.11.07', formerCodes: ['01.051.05.07'] } });
      await waitFor(async () => (await subscriptionNow()).failedCount > before, 'a failed attempt recorded', { timeoutMs: 30_000 });
      expect(sim.store.renumberings()).toHaveLength(1);
      expect((await roadEvents(`${province}/events`)).status).toBe(502);
      const refused = await roadEvents('01/events');
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain('path.province');
    } finally {
      sim.fault = 'none';
    }
    await waitFor(() => sim.store.renumberings().length === 2, 'the renumbering applied once MARROUTE is back', { timeoutMs: 30_000 });
    expect(sim.store.renumberings()[1]).toEqual({ former: '01.051.05.07', code: '01.051.11.07' });
    expect((await subscriptionNow()).state).toBe('active');
  });
});
