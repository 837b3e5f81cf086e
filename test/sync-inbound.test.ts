// Inbound sync (issue 14 item 4): an adapter's pulled records go through its system's ingest queue into the
// referentials' bulk path, once per source record version; a system that is down keeps the adapter's cursor; and the
// BTP qualification platform syncs both ways through a real hub with workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { referentialModules } from '../referentials/index.ts';
import { makeIce } from '../referentials/identifiers/index.ts';
import { companiesModule } from '../referentials/companies/module.ts';
import { btpAdapter, btpSubscriptionInput, btpSystem, companyAttributes } from '../adapters/btp-qualification/adapter.ts';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { startBtpSimulator, type BtpSimulator } from '../adapters/btp-qualification/simulator.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { defineAdapter, type InboundRecord } from '../src/sync/adapter.ts';
import { adapterStatuses, configureAdapter } from '../src/sync/inbound.ts';
import { createSubscription } from '../src/sync/subscriptions.ts';
import { provider, startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { waitFor } from './helpers/wait.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

const fast = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4' };

/** A source system the test controls: its records by id, a change sequence, and whether it answers at all. */
class FakeSystem {
  readonly records = new Map<string, { seq: number; version: number; attributes: Record<string, unknown> }>();
  private seq = 0;
  down = false;
  calls = 0;
  /** Sends this version again with these attributes at the next pull (a system replaying a page). */
  replay: { id: string; attributes: Record<string, unknown> } | undefined;

  put(id: string, attributes: Record<string, unknown>): void {
    const before = this.records.get(id);
    this.records.set(id, { seq: ++this.seq, version: (before?.version ?? 0) + 1, attributes });
  }

  since(cursor: number): { records: InboundRecord[]; cursor: number } {
    const changed = [...this.records].filter(([, r]) => r.seq > cursor).sort((a, b) => a[1].seq - b[1].seq);
    const records = changed.map(([id, r]) => ({ referential: 'companies', sourceSystem: 'fake-registry', sourceId: id, sourceVersion: String(r.version), attributes: r.attributes }));
    if (this.replay) {
      const r = this.records.get(this.replay.id);
      if (r) records.push({ referential: 'companies', sourceSystem: 'fake-registry', sourceId: this.replay.id, sourceVersion: String(r.version), attributes: this.replay.attributes });
      this.replay = undefined;
    }
    return { records, cursor: changed.at(-1)?.[1].seq ?? cursor };
  }
}

const company = (i: number, name: string) => ({ ice: makeIce(String(300_000_000 + i)), nameFr: name, legalForm: 'SARL', commune: '01.511.01.01' });

async function ingested(world: ExchangeWorld, system: string): Promise<Array<{ source_id: string; source_version: string; decision: string; golden_id: string | null }>> {
  return (await world.db.query<{ source_id: string; source_version: string; decision: string; golden_id: string | null }>(
    'SELECT source_id, source_version, decision, golden_id FROM sync_ingested WHERE system = $1 ORDER BY source_id, source_version', [system],
  )).rows;
}

/** Every ingest job queued so far has been taken in (its outbox row delivered). */
async function ingestSettled(world: ExchangeWorld, system: string): Promise<boolean> {
  const { rows } = await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE topic = $1 AND delivered_at IS NULL", [`ingest.${system}`]);
  return rows[0]?.n === 0;
}

async function goldenName(world: ExchangeWorld, goldenId: string): Promise<unknown> {
  const { rows } = await world.db.query<{ attributes: Record<string, { value: unknown }> }>('SELECT attributes FROM ref_golden WHERE id = $1', [goldenId]);
  return rows[0]?.attributes.nameFr?.value;
}

describe.each(setups)('inbound sync on $name', (setup) => {
  let world!: ExchangeWorld;
  const system = new FakeSystem();
  const fake = defineAdapter({
    id: 'fake-registry',
    system: 'fake-registry',
    config: z.object({ label: z.string().default('fake') }),
    health: async () => ({ ok: !system.down }),
    pull: {
      every: 50,
      async run(_ctx, cursor) {
        system.calls++;
        if (system.down) throw new Error('connect ECONNREFUSED (the registry is down)');
        const page = system.since(Number(cursor ?? 0));
        return { records: page.records, cursor: String(page.cursor) };
      },
    },
  });
  const status = async () => (await adapterStatuses(world.db)).find((s) => s.adapter === 'fake-registry');

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fast, referentials: referentialModules, syncAdapters: [fake] });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('takes pulled records into the referential with the bulk path decisions, once per source version, and a new version updates', async () => {
    // A company the OMPIC already gave: the registry's record of it links by ICE; the others are new.
    const known = await contribute(world.db, companiesModule as unknown as ReferentialModule, { sourceSystem: 'ompic', sourceId: 'rc-1', attributes: company(1, 'Atlas Travaux SARL') });
    system.put('f-1', company(1, 'ATLAS TRAVAUX'));
    system.put('f-2', company(2, 'Sebou Routes SARL'));
    system.put('f-3', company(3, 'Rif Hydraulique SA'));
    await waitFor(async () => (await ingested(world, 'fake-registry')).length === 3, 'three records taken in');
    const first = await ingested(world, 'fake-registry');
    expect(first.map((r) => [r.source_id, r.source_version, r.decision])).toEqual([
      ['f-1', '1', 'linked-identifier'],
      ['f-2', '1', 'created'],
      ['f-3', '1', 'created'],
    ]);
    expect(first[0]?.golden_id).toBe(known.goldenId);
    const f2 = first[1]?.golden_id as string;
    expect(await goldenName(world, f2)).toBe('Sebou Routes SARL');

    // The same version again, even with other attributes (a replayed page): nothing changes.
    const changesBefore = (await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ref_changes')).rows[0]?.n;
    system.replay = { id: 'f-2', attributes: company(2, 'Sebou Routes (replayed)') };
    await waitFor(async () => system.replay === undefined && (await ingestSettled(world, 'fake-registry')), 'the replayed page taken in');
    expect(await ingested(world, 'fake-registry')).toEqual(first);
    expect((await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ref_changes')).rows[0]?.n).toBe(changesBefore);
    expect(await goldenName(world, f2)).toBe('Sebou Routes SARL');

    // A new version updates the golden record.
    system.put('f-2', company(2, 'Sebou Routes et Ouvrages SARL'));
    await waitFor(async () => (await ingested(world, 'fake-registry')).some((r) => r.source_id === 'f-2' && r.source_version === '2'), 'version 2 taken in');
    expect((await ingested(world, 'fake-registry')).find((r) => r.source_version === '2')?.decision).toBe('updated');
    expect(await goldenName(world, f2)).toBe('Sebou Routes et Ouvrages SARL');
  });

  it('records a down system\'s errors, retries, and resumes from its cursor without losing a change', async () => {
    await waitFor(async () => (await ingestSettled(world, 'fake-registry')) && (await status())?.cursor === '4', 'the cursor after the first test');
    system.down = true;
    system.put('f-4', company(4, 'Draa Génie Civil SARL'));
    const calls = system.calls;
    await waitFor(async () => ((await status())?.consecutiveErrors ?? 0) >= 2, 'two failed pulls recorded');
    const down = await status();
    expect(system.calls).toBeGreaterThanOrEqual(calls + 2);
    expect(down?.cursor).toBe('4');
    expect(down?.lastError).toMatch(/ECONNREFUSED/);
    expect(down?.errors).toBeGreaterThanOrEqual(2);
    expect((await ingested(world, 'fake-registry')).some((r) => r.source_id === 'f-4')).toBe(false);

    system.down = false;
    // The backoff after a few failures is a fraction of a second (every 50 ms, doubled per failure).
    await waitFor(async () => (await ingested(world, 'fake-registry')).some((r) => r.source_id === 'f-4'), 'the change made while down taken in', { timeoutMs: 30_000 });
    const up = await status();
    expect(up?.cursor).toBe('5');
    expect(up?.consecutiveErrors).toBe(0);
    expect(up?.lastError).toBeNull();
  });
});

describe.each(setups)('the BTP qualification platform synced both ways on $name', (setup) => {
  let world!: ExchangeWorld;
  let simulator!: BtpSimulator;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fast, referentials: referentialModules, syncAdapters: [btpAdapter] });
    simulator = await startBtpSimulator({ hubJwksUrl: `${world.urls[0]}/.well-known/jwks.json`, hubId: world.hubId, integrationToken: 'test-integration-token-0123456789' });
    // The platform (the harness's provider member) may follow the companies referential under a convention.
    const platform = { id: provider, keys: [world.providerKey] } as unknown as Consumer;
    await allowSubscription(world, platform, { referential: 'companies', purpose: 'company-referential-sync' });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await simulator?.close();
  });

  it('pulls the platform\'s companies into the golden records, takes its edits in, and pushes golden changes back to it, signed', async () => {
    await createSubscription(
      { db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['companies'] },
      { ...btpSubscriptionInput(simulator.url), actor: 'test' },
    );
    await configureAdapter(world.db, btpAdapter, { baseUrl: simulator.url, token: 'test-integration-token-0123456789' });
    await waitFor(async () => (await ingested(world, btpSystem)).length === 50, 'the 50 companies of the platform taken in', { timeoutMs: 30_000 });
    const rows = await ingested(world, btpSystem);
    expect(new Set(rows.map((r) => r.decision))).toEqual(new Set(['created']));
    const qualified = rows.find((r) => r.source_id === demoIces.qualified)?.golden_id as string;
    expect(await goldenName(world, qualified)).toBe(simulator.store.get(demoIces.qualified)?.profile.raisonSociale);

    // An edit in the platform reaches the golden record.
    const edited = await fetch(`${simulator.url}/admin/companies/${demoIces.qualified}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-integration-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ raisonSociale: 'Atlas Bâtiment Nouvelle SARL' }),
    });
    expect(edited.status).toBe(200);
    await waitFor(async () => (await goldenName(world, qualified)) === 'Atlas Bâtiment Nouvelle SARL', 'the edit in the golden record', { timeoutMs: 30_000 }).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify({ status: await adapterStatuses(world.db), platform: simulator.store.get(demoIces.qualified)?.profile.raisonSociale, ingested: (await ingested(world, btpSystem)).filter((r) => r.source_id === demoIces.qualified) })}`);
    });

    // A golden change made elsewhere (the OMPIC, trusted first for names) reaches the platform's own copy.
    const profile = simulator.store.get(demoIces.topClass)?.profile;
    if (!profile) throw new Error('no top-class company');
    await contribute(world.db, companiesModule as unknown as ReferentialModule, { sourceSystem: 'ompic', sourceId: 'rc-top', attributes: { ...companyAttributes(profile), nameFr: 'Souss Ouvrages d\'Art SA' } });
    await waitFor(async () => simulator.store.get(demoIces.topClass)?.profile.raisonSociale === 'Souss Ouvrages d\'Art SA', 'the golden change in the platform', { timeoutMs: 30_000 });
    expect(simulator.store.fromHub.some((c) => c.ice === demoIces.topClass)).toBe(true);

    // What the hub pushed is not listed back as the platform's own change (no echo): its change list holds the edit only.
    const page = await (await fetch(`${simulator.url}/sync/companies?since=50`, { headers: { authorization: 'Bearer test-integration-token-0123456789' } })).json() as { items: Array<{ ice: string }> };
    expect(page.items.map((i) => i.ice)).toEqual([demoIces.qualified]);
  });

  it('refuses a push that the hub did not sign, and the integration API without its token', async () => {
    const forged = await fetch(`${simulator.url}/hub/company-changes`, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'x', 'webhook-timestamp': '1', 'tabadol-signature': 'a.b.c' }, body: '{"deliveries":[]}' });
    expect(forged.status).toBe(401);
    const noToken = await fetch(`${simulator.url}/sync/companies`);
    expect(noToken.status).toBe(401);
  });
});
