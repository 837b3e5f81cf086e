// The complaints platform on a real hub with workers (issue 16 item 1), on PGlite and, when present, PostgreSQL + Redis:
// its complainants become persons and companies golden records (those without a CIN or ICE stay in the platform and
// are not contributed); a name an agent corrects reaches the golden record; a status change reaches the citizen
// portal through the exchange (logged with the complainant as subject; a portal down holds it back until it is up);
// a golden person change is pushed back to it; the ministry reads the complaints by commune, category and status
// (a platform down or garbled: 502; slow: 504).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referentialModules } from '../referentials/index.ts';
import { personsModule } from '../referentials/persons/module.ts';
import { complaintsSource, portalPurpose, portalStatusService, reclamationsAdapter, reclamationsSubsystem } from '../adapters/reclamations/adapter.ts';
import { complaintsBinding, complaintsService, ministryPurpose, ministrySubsystem } from '../adapters/reclamations/binding.ts';
import { startPortalReceiver, type PortalReceiver } from '../adapters/reclamations/portal.ts';
import { startComplaintsSimulator, type ComplaintsSimulator } from '../adapters/reclamations/simulator.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { createSubscription } from '../src/sync/subscriptions.ts';
import { portalId, startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';
import { waitFor } from './helpers/wait.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];
const fast = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4' };
const token = 'reclamations-hub-token-0123456789';

async function ingested(world: ExchangeWorld, referential: string): Promise<Array<{ source_id: string; source_version: string; golden_id: string | null }>> {
  return (await world.db.query<{ source_id: string; source_version: string; golden_id: string | null }>(
    'SELECT source_id, source_version, golden_id FROM sync_ingested WHERE system = $1 AND referential = $2 ORDER BY source_id, source_version', [complaintsSource, referential],
  )).rows;
}

async function goldenValue(world: ExchangeWorld, goldenId: string, attribute: string): Promise<unknown> {
  const { rows } = await world.db.query<{ attributes: Record<string, { value: unknown }> }>('SELECT attributes FROM ref_golden WHERE id = $1', [goldenId]);
  return rows[0]?.attributes[attribute]?.value;
}

describe.each(setups)('the complaints platform on a hub on $name', (setup) => {
  let world!: ExchangeWorld;
  let sim!: ComplaintsSimulator;
  let portal!: PortalReceiver;
  let platform!: Consumer;
  let keyDir!: string;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fast, referentials: referentialModules, syncAdapters: [reclamationsAdapter] });
    sim = await startComplaintsSimulator({ token, seed: 16, persons: 25, companies: 6 });
    portal = await startPortalReceiver();
    platform = await world.registerConsumer(reclamationsSubsystem);
    keyDir = mkdtempSync(join(tmpdir(), 'reclamations-key-'));
    writeFileSync(join(keyDir, 'private.jwk'), JSON.stringify(platform.keys[0]?.privateJwk), { mode: 0o600 });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await sim?.close();
    await portal?.close();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  it('takes identified complainants in, keeps the others out, takes a corrected name in, and pushes a golden name change back', async () => {
    await allowSubscription(world, platform, { referential: 'persons', purpose: 'person-referential-sync' });
    await createSubscription(
      { db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['persons'] },
      { subscriber: reclamationsSubsystem, referential: 'persons', purpose: 'person-referential-sync', mode: 'push', target: 'adapter:reclamations', from: 'now', batchSize: 50, actor: 'test' },
    );
    await configureAdapter(world.db, reclamationsAdapter, { baseUrl: sim.url, token });
    const persons = sim.store.data.complainants.filter((c) => c.kind === 'person' && c.cin);
    const companies = sim.store.data.complainants.filter((c) => c.kind === 'company' && c.ice);
    await waitFor(async () => (await ingested(world, 'persons')).length === persons.length && (await ingested(world, 'companies')).length === companies.length, 'the identified complainants taken in', { timeoutMs: 60_000 });
    const takenIn = new Set([...(await ingested(world, 'persons')), ...(await ingested(world, 'companies'))].map((r) => r.source_id));
    for (const c of sim.store.data.complainants) expect(takenIn.has(c.id), c.id).toBe(c.kind === 'person' ? c.cin !== null : c.ice !== null);

    // An agent corrects a complainant's name: version 2 is taken in and the golden record takes it (its only source).
    const corrected = persons.find((c) => c.kind === 'person' && c.lastNameLatin !== null && c.id !== persons[0]?.id && !persons.some((o) => o !== c && o.kind === 'person' && o.cin === (c.kind === 'person' ? c.cin : '')));
    if (!corrected) throw new Error('no complainant to correct');
    const patched = await fetch(new URL(`/admin/complainants/${corrected.id}`, sim.url), { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ lastNameLatin: 'Benkirane' }) });
    expect(patched.status).toBe(200);
    const v2 = await waitFor(async () => (await ingested(world, 'persons')).find((r) => r.source_id === corrected.id && r.source_version === '2') ?? false, 'the corrected name taken in', { timeoutMs: 30_000 });
    expect(await goldenValue(world, v2.golden_id as string, 'lastNameLatin')).toBe('Benkirane');

    // The civil registry (trusted first) corrects another complainant's Arabic name: pushed to the platform.
    const other = persons.find((c) => c !== corrected && c.kind === 'person' && c.cin);
    if (!other || other.kind !== 'person' || !other.cin) throw new Error('no other complainant');
    await contribute(world.db, personsModule as unknown as ReferentialModule, {
      sourceSystem: 'civil-registry', sourceId: `rec-${other.cin}`,
      attributes: { cin: other.cin, firstNameLatin: other.firstNameLatin ?? 'Ahmed', lastNameLatin: other.lastNameLatin ?? 'Alami', firstNameArabic: 'يوسف', lastNameArabic: other.lastNameArabic ?? 'العلمي' },
    });
    await waitFor(() => sim.store.fromHub.some((c) => c.cin === other.cin && c.firstNameArabic === 'يوسف'), 'the golden name change pushed to the platform', { timeoutMs: 30_000 });
    expect(sim.store.complainant(other.id)).toMatchObject({ firstNameArabic: 'يوسف' });
  });

  it('tells the citizen portal of status changes through the exchange, holding them back while the portal is down', async () => {
    await world.addConvention({
      provider: portalId, service: 'complaint-status', consumer: reclamationsSubsystem,
      purposes: [{ code: portalPurpose, description: 'informs the complainant', legalBasis: 'test' }],
      operations: [{ operationId: 'notifyComplaintStatus', fields: ['number', 'received'], subjects: [{ type: 'cin', in: 'response', name: 'cin' }, { type: 'ice', in: 'response', name: 'ice' }] }],
    });
    await world.bind(portalStatusService, { kind: 'http', baseUrl: portal.url, timeoutMs: 5000 });
    await configureAdapter(world.db, reclamationsAdapter, { baseUrl: sim.url, token, portal: { hubUrl: world.urls[0] ?? '', hubId: world.hubId, keyPath: join(keyDir, 'private.jwk') } });

    const withCin = sim.store.data.complaints.find((c) => c.status === 'deposee' && sim.store.complainant(c.complainantId)?.kind === 'person' && (sim.store.complainant(c.complainantId) as { cin: string | null }).cin);
    if (!withCin) throw new Error('no complaint of a person with a CIN');
    expect(sim.store.move(withCin.number, 'en-cours').ok).toBe(true);
    const told = await waitFor(() => portal.latest.get(withCin.number) ?? false, 'the portal told of the move', { timeoutMs: 30_000 });
    expect(told).toMatchObject({ status: 'en-cours', version: withCin.history.length, service: withCin.service });
    // The message log is written after the answer: wait for the row.
    const logged = await waitFor(async () => (await world.db.query<{ seq: string; client: string; status: number }>(
      "SELECT seq::text AS seq, client, status FROM message_log WHERE service = $1 AND operation = 'notifyComplaintStatus' ORDER BY seq DESC LIMIT 1", [portalStatusService],
    )).rows[0] ?? false, 'the notification in the message log');
    expect(logged).toMatchObject({ client: reclamationsSubsystem, status: 200 });
    const subjects = await world.db.query<{ subject_type: string; location: string }>('SELECT subject_type, location FROM message_subjects WHERE seq = $1', [logged.seq]);
    expect(subjects.rows).toEqual([{ subject_type: 'cin', location: 'response.cin' }]);

    // The portal is down: the hub answers 502, the adapter's cursor stays, and the change arrives once it is up.
    portal.failWith = 503;
    expect(sim.store.move(withCin.number, 'traitee').ok).toBe(true);
    await waitFor(async () => (await world.db.query("SELECT 1 FROM message_log WHERE service = $1 AND status >= 500", [portalStatusService])).rows.length > 0, 'a notification refused by the portal', { timeoutMs: 30_000 });
    expect(portal.latest.get(withCin.number)?.status).toBe('en-cours');
    portal.failWith = undefined;
    await waitFor(() => portal.latest.get(withCin.number)?.status === 'traitee', 'the held-back change delivered once the portal is up', { timeoutMs: 60_000 });
  });

  it('serves the ministry the complaints by commune, category and status, and answers provider problems when the platform is down', async () => {
    const ministry = await world.registerConsumer(ministrySubsystem);
    await world.addConvention({
      provider: reclamationsSubsystem, service: 'complaints', consumer: ministrySubsystem,
      purposes: [{ code: ministryPurpose, description: 'steering', legalBasis: 'test' }],
      operations: [{ operationId: 'getComplaintStatistics', fields: ['category', 'status', 'total', 'rows.commune', 'rows.category', 'rows.status', 'rows.count'] }],
    });
    world.loadAdapter('reclamations-complaints', complaintsBinding({ baseUrl: sim.url, token }));
    await world.bind(complaintsService, { kind: 'adapter', adapter: 'reclamations-complaints', timeoutMs: 5000 });
    const ask = async (query: string) => world.send(await world.sign(ministry.identity, { method: 'GET', target: `/x/v1/${complaintsService}/statistics${query}`, purpose: ministryPurpose }));
    const answer = await ask('?category=domaine-public');
    expect(answer.status, answer.body.toString()).toBe(200);
    const body = JSON.parse(answer.body.toString()) as { total: number; rows: Array<{ count: number }> };
    expect(body.total).toBe(sim.store.data.complaints.filter((c) => c.category === 'domaine-public').length);
    expect(body.rows.reduce((s, r) => s + r.count, 0)).toBe(body.total);
    expect((await ask('?status=perdue')).status).toBe(400);
    try {
      sim.fault = 'down';
      const down = await ask('');
      expect(down.status).toBe(502);
      expect(JSON.parse(down.body.toString())).toMatchObject({ type: expect.stringContaining('provider-unavailable') });
      sim.fault = 'garbage';
      expect((await ask('')).status).toBe(502);
      // Slower than the service binding allows: 504 provider-timeout.
      sim.fault = 'slow';
      sim.slowMs = 2000;
      await world.bind(complaintsService, { kind: 'adapter', adapter: 'reclamations-complaints', timeoutMs: 300 });
      const slow = await ask('');
      expect(slow.status).toBe(504);
      expect(JSON.parse(slow.body.toString())).toMatchObject({ type: expect.stringContaining('provider-timeout') });
    } finally {
      sim.fault = 'none';
    }
  });
});
