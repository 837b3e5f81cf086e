// Inbound webhooks (issue 14 item 4): POST /sync/v1/adapters/{adapter}/webhook. The adapter verifies the call (here a
// shared secret compared in constant time), parses the body; the records are in PostgreSQL (the ingest queue's outbox)
// before the 202, and reach the referential once per source version. Every refusal is a 4xx naming what is wrong.
import { timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { referentialModules } from '../referentials/index.ts';
import { makeIce } from '../referentials/identifiers/index.ts';
import { defineAdapter, type InboundRecord } from '../src/sync/adapter.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { waitFor } from './helpers/wait.ts';

const secret = 'a-long-shared-secret-of-the-registry';

const registry = defineAdapter({
  id: 'hook-registry',
  system: 'hook-registry',
  config: z.object({ secret: z.string().min(16) }),
  health: async () => ({ ok: true }),
  webhook: {
    async verify(ctx, request) {
      const given = Buffer.from(request.header('x-registry-secret') ?? '');
      const expected = Buffer.from((ctx.config as { secret: string }).secret);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
    parse(body) {
      const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as { companies: Array<{ id: string; version: number; ice: string; name: string }> };
      if (!Array.isArray(parsed.companies)) throw new Error('companies: must be an array');
      return parsed.companies.map(
        (c): InboundRecord => ({ referential: 'companies', sourceSystem: 'hook-registry', sourceId: c.id, sourceVersion: String(c.version), attributes: { ice: c.ice, nameFr: c.name, legalForm: 'SARL', commune: '01.511.01.01' } }),
      );
    },
  },
});

describe('inbound webhooks (PGlite, in-process queue)', () => {
  let world!: ExchangeWorld;
  const post = (body: unknown, headers: Record<string, string> = { 'x-registry-secret': secret }, adapter = 'hook-registry') =>
    fetch(`${world.urls[0]}/sync/v1/adapters/${adapter}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const taken = async () => (await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM sync_ingested WHERE system = 'hook-registry'")).rows[0]?.n ?? 0;
  const goldens = async () => (await world.db.query<{ n: number }>("SELECT count(DISTINCT golden_id)::int AS n FROM ref_links WHERE source_system = 'hook-registry'")).rows[0]?.n ?? 0;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pglite', redis: false, workers: true, env: { SYNC_TICK_MS: '50' }, referentials: referentialModules, syncAdapters: [registry] });
    await configureAdapter(world.db, registry, { secret });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('takes verified records in, once per source version', async () => {
    const companies = [
      { id: 'h-1', version: 1, ice: makeIce('400000001'), name: 'Hook Un SARL' },
      { id: 'h-2', version: 1, ice: makeIce('400000002'), name: 'Hook Deux SARL' },
    ];
    const first = await post({ companies });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: 2 });
    await waitFor(async () => (await goldens()) === 2, 'two golden records from the webhook');
    // The same versions again: accepted, and nothing is taken in twice.
    expect((await post({ companies })).status).toBe(202);
    await waitFor(async () => (await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE topic = 'ingest.hook-registry' AND delivered_at IS NULL")).rows[0]?.n === 0, 'the ingest queue drained');
    expect(await taken()).toBe(2);
    expect(await goldens()).toBe(2);
  });

  it('refuses a call that does not verify (401), an unknown adapter (404), and a body it cannot read (400 naming body), taking nothing in', async () => {
    const before = await taken();
    const wrong = await post({ companies: [] }, { 'x-registry-secret': 'not-the-secret-at-all-no' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await post({ companies: [] }, {})).status).toBe(401);
    expect((await post({ companies: [] }, undefined, 'no-such-adapter')).status).toBe(404);
    const bad = await post('{"companies": "nope"}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: Array<{ location: string }> }).errors.map((e) => e.location)).toEqual(['body']);
    const broken = await post('{"companies": [');
    expect(broken.status).toBe(400);
    expect(await taken()).toBe(before);
  });
});
