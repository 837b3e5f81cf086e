// The operators' side of sync through the admin API (issue 14 items 1, 2 and 6): subscriptions created, listed, shown,
// paused, resumed, rewound and ended; the sync status; dead letters listed, shown and replayed; roles, every bad input a
// 4xx naming its field, the audit trail; and /metrics showing a subscription's lag and dead letters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companiesModule } from '../referentials/companies/module.ts';
import { referentialModules } from '../referentials/index.ts';
import { makeIce } from '../referentials/identifiers/index.ts';
import type { DeadLetterBody } from '../src/admin/http/dead-letters.ts';
import type { SubscriptionBody, SubscriptionStatusBody } from '../src/admin/http/subscriptions.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import type { ProblemBody } from '../src/http/problem.ts';
import { addOperator } from '../src/identity/operators.ts';
import { defineAdapter } from '../src/sync/adapter.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { z } from 'zod';
import { startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription, startSubscriber, type TestSubscriber } from './helpers/sync-world.ts';

const companies = companiesModule as unknown as ReferentialModule;
const purpose = 'fiscal-registry-sync';
const fastRetries = { SYNC_TICK_MS: '50', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4', SYNC_CIRCUIT_THRESHOLD: '3', SYNC_CIRCUIT_SECONDS: '0.3', SYNC_LEASE_SECONDS: '5' };

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

interface Answer<T> {
  status: number;
  body: T;
}

describe.each(setups)('sync admin API on $name', (setup) => {
  let world!: ExchangeWorld;
  let member!: Consumer;
  let subscriber!: TestSubscriber;
  const tokens = { admin: '', auditor: '' };
  let adminId = '';
  let n = 0;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, referentials: referentialModules, env: fastRetries });
    member = await world.registerConsumer('MA/GOV/DGI/registre-fiscal');
    await allowSubscription(world, member, { referential: 'companies', purpose, fields: ['changes.record.attributes.ice'] });
    subscriber = await startSubscriber(world);
    const admin = await addOperator(world.db, { name: 'Amina (admin)', role: 'admin', actor: 'test' });
    adminId = admin.operator.id;
    tokens.admin = admin.token;
    tokens.auditor = (await addOperator(world.db, { name: 'Youssef (auditor)', role: 'auditor', actor: 'test' })).token;
  }, 120_000);
  afterAll(async () => {
    await subscriber?.close();
    await world?.close();
  });

  async function call<T = unknown>(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${world.urls[0] ?? ''}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    return { status: res.status, body: (await res.json()) as T };
  }
  const asAdmin = <T>(method: string, path: string, body?: unknown) => call<T>(method, path, { token: tokens.admin, body });
  const asAuditor = <T>(method: string, path: string, body?: unknown) => call<T>(method, path, { token: tokens.auditor, body });
  const locations = (answer: Answer<unknown>) => ((answer.body as ProblemBody).errors ?? []).map((e) => e.location);

  const give = async (name: string) => {
    const i = n++;
    const attributes = { ice: makeIce(String(300_000_000 + i)), nameFr: name, legalForm: 'sarl', status: 'active', commune: '01.051.11.01', if: String(30_000_000 + i) };
    return (await contribute(world.db, companies, { sourceSystem: 'ompic', sourceId: `adm-${i}`, attributes })).goldenId;
  };
  const pushInput = (extra: Record<string, unknown> = {}) => ({ subscriber: member.id, referential: 'companies', purpose, mode: 'push', target: subscriber.url, batchSize: 10, ...extra });
  const create = async (extra: Record<string, unknown> = {}) => {
    const answer = await asAdmin<SubscriptionBody>('POST', '/admin/v1/subscriptions', pushInput(extra));
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body;
  };
  const auditOf = async (target: string) =>
    (await world.db.query<{ actor: string; action: string }>('SELECT actor, action FROM admin_audit WHERE target = $1 ORDER BY id', [target])).rows;

  it('asks for an operator token on every route, and the admin role for every change', async () => {
    const id = 'sub-000000000000';
    const reads = [['GET', '/admin/v1/subscriptions'], ['GET', `/admin/v1/subscriptions/${id}`], ['GET', '/admin/v1/sync/status'], ['GET', '/admin/v1/dead-letters'], ['GET', `/admin/v1/dead-letters/${id}:1`]] as const;
    const changes = [
      ['POST', '/admin/v1/subscriptions', pushInput()],
      ...(['pause', 'resume', 'end'] as const).map((a) => ['POST', `/admin/v1/subscriptions/${id}/${a}`, undefined] as const),
      ['POST', `/admin/v1/subscriptions/${id}/rewind`, { position: 0 }],
      ['POST', '/admin/v1/dead-letters/replay', { subscription: id }],
    ] as const;
    for (const [method, path, body] of [...reads.map(([m, p]) => [m, p, undefined] as const), ...changes]) {
      expect((await call(method, path, { body })).status, `${method} ${path} without a token`).toBe(401);
    }
    for (const [method, path] of reads) expect((await asAuditor(method, path)).status, `${method} ${path} as auditor`).not.toBe(403);
    for (const [method, path, body] of changes) expect((await asAuditor(method, path, body)).status, `${method} ${path} as auditor`).toBe(403);
    expect((await asAuditor('GET', '/admin/v1/subscriptions')).status).toBe(200);
  });

  it('creates a subscription under the convention, audited with the operator, and lists, shows and filters it', async () => {
    const created = await create({ types: ['golden.created'], scope: '01.051', from: 'start' });
    expect(created).toMatchObject({ id: expect.stringMatching(/^sub-[a-z0-9]{12}$/), subscriber: member.id, referential: 'companies', purpose, mode: 'push', state: 'active', cursor: 0, types: ['golden.created'], scope: '01.051', createdBy: `operator:${adminId}` });
    expect(await auditOf(created.id)).toEqual([{ actor: `operator:${adminId}`, action: 'subscription.create' }]);

    const shown = await asAuditor<SubscriptionBody>('GET', `/admin/v1/subscriptions/${created.id}`);
    expect(shown).toEqual({ status: 200, body: created });
    const listed = await asAuditor<{ subscriptions: SubscriptionBody[] }>('GET', `/admin/v1/subscriptions?subscriber=${encodeURIComponent(member.id)}&state=active`);
    expect(listed.status).toBe(200);
    expect(listed.body.subscriptions.map((s) => s.id)).toContain(created.id);
    const none = await asAuditor<{ subscriptions: SubscriptionBody[] }>('GET', '/admin/v1/subscriptions?subscriber=MA/GOV/X/nobody');
    expect(none.body.subscriptions).toEqual([]);
    const paused = await asAuditor<{ subscriptions: SubscriptionBody[] }>('GET', '/admin/v1/subscriptions?state=paused');
    expect(paused.body.subscriptions.map((s) => s.id)).not.toContain(created.id);
    await asAdmin('POST', `/admin/v1/subscriptions/${created.id}/end`);
  });

  it('refuses each bad field of a creation with a 4xx naming it, before anything is stored', async () => {
    const before = (await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_subscriptions')).rows[0]?.n;
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ subscriber: 'MA/GOV' }, 400, 'body.subscriber'],
      [{ referential: 'planets' }, 400, 'body.referential'],
      [{ purpose: 'Not A Code' }, 400, 'body.purpose'],
      [{ mode: 'carrier-pigeon' }, 400, 'body.mode'],
      [{ target: undefined }, 400, 'body.target'],
      [{ target: 'ftp://example.ma/x' }, 400, 'body.target'],
      [{ mode: 'pull' }, 400, 'body.target'],
      [{ mode: 'file', target: 'relative/folder' }, 400, 'body.target'],
      [{ types: ['golden.deleted'] }, 400, 'body.types'],
      [{ types: 'golden.created' }, 400, 'body.types'],
      [{ scope: 'rabat' }, 400, 'body.scope'],
      [{ batchSize: 0 }, 400, 'body.batchSize'],
      [{ batchSize: 2.5 }, 400, 'body.batchSize'],
      [{ from: -1 }, 400, 'body.from'],
      [{ from: 'yesterday' }, 400, 'body.from'],
      [{ subscriber: 'MA/GOV/X/no-convention' }, 422, 'body.subscriber'],
      [{ purpose: 'another-purpose' }, 422, 'body.purpose'],
      [{ referential: 'persons' }, 422, 'body.subscriber'],
    ];
    for (const [extra, status, location] of cases) {
      const answer = await asAdmin('POST', '/admin/v1/subscriptions', pushInput(extra));
      expect(answer.status, JSON.stringify(extra)).toBe(status);
      expect(locations(answer), JSON.stringify(extra)).toContain(location);
    }
    const missing = await asAdmin('POST', '/admin/v1/subscriptions', { referential: 'companies' });
    expect(missing.status).toBe(400);
    expect(locations(missing)).toEqual(expect.arrayContaining(['body.subscriber', 'body.purpose', 'body.mode']));
    const nul = await asAdmin('POST', '/admin/v1/subscriptions', pushInput({ purpose: 'a\u0000b' }));
    expect(nul.status).toBe(400);
    expect(locations(nul)).toContain('body.purpose');
    expect((await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_subscriptions')).rows[0]?.n).toBe(before);
  });

  it('pauses, resumes, rewinds and ends a subscription, each audited; an ended one refuses the rest with 409', async () => {
    const sub = await create({ mode: 'pull', target: undefined });
    await give('Rewind one');
    await give('Rewind two');
    const path = `/admin/v1/subscriptions/${sub.id}`;
    expect(await asAdmin('POST', `${path}/pause`)).toMatchObject({ status: 200, body: { id: sub.id, state: 'paused' } });
    expect(await asAdmin('POST', `${path}/resume`)).toMatchObject({ status: 200, body: { state: 'active', consecutiveFailures: 0, circuitOpenUntil: null } });
    const rewound = await asAdmin<SubscriptionBody>('POST', `${path}/rewind`, { position: 0 });
    expect(rewound).toMatchObject({ status: 200, body: { cursor: 0 } });

    for (const [body, location] of [[{ position: -1 }, 'body.position'], [{ position: 1.5 }, 'body.position'], [{ position: 'x' }, 'body.position'], [{ position: 1e15 }, 'body.position'], [{}, 'body.position']] as const) {
      const answer = await asAdmin('POST', `${path}/rewind`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(locations(answer), JSON.stringify(body)).toEqual([location]);
    }
    expect(await asAdmin('POST', `${path}/end`)).toMatchObject({ status: 200, body: { state: 'ended' } });
    for (const action of ['pause', 'resume']) expect((await asAdmin('POST', `${path}/${action}`)).status, action).toBe(409);
    expect((await asAdmin('POST', `${path}/rewind`, { position: 0 })).status).toBe(409);
    expect((await auditOf(sub.id)).map((a) => a.action)).toEqual(['subscription.create', 'subscription.pause', 'subscription.resume', 'subscription.rewind', 'subscription.end']);
  });

  it('answers 400 naming the path or query field for a malformed id or filter, and 404 for an unknown subscription', async () => {
    for (const [method, path, location] of [
      ['GET', '/admin/v1/subscriptions/not-an-id', 'path.id'],
      ['POST', '/admin/v1/subscriptions/SUB-ABC/pause', 'path.id'],
      ['GET', '/admin/v1/subscriptions?state=sleeping', 'query.state'],
      ['GET', '/admin/v1/subscriptions?limit=0', 'query.limit'],
      ['GET', '/admin/v1/sync/status?all=yes', 'query.all'],
      ['GET', '/admin/v1/dead-letters?subscription=x', 'query.subscription'],
      ['GET', '/admin/v1/dead-letters?limit=5000', 'query.limit'],
      ['GET', '/admin/v1/dead-letters/sub-000000000000', 'path.id'],
      ['GET', '/admin/v1/dead-letters/sub-000000000000:-1', 'path.id'],
    ] as const) {
      const answer = await asAdmin(method, path);
      expect(answer.status, path).toBe(400);
      expect(locations(answer), path).toEqual([location]);
    }
    for (const [method, path, body] of [
      ['GET', '/admin/v1/subscriptions/sub-000000000000', undefined],
      ['POST', '/admin/v1/subscriptions/sub-000000000000/pause', undefined],
      ['POST', '/admin/v1/subscriptions/sub-000000000000/rewind', { position: 0 }],
      ['GET', '/admin/v1/dead-letters/sub-000000000000:1', undefined],
    ] as const) {
      expect((await asAdmin(method, path, body)).status, path).toBe(404);
    }
  });

  it('shows the lag of a subscription in the sync status and in /metrics', async () => {
    const sub = await create({ mode: 'pull', target: undefined });
    for (let i = 0; i < 3; i++) await give(`Lag ${i}`);
    const status = await asAuditor<{ subscriptions: SubscriptionStatusBody[] }>('GET', '/admin/v1/sync/status');
    expect(status.status).toBe(200);
    const row = status.body.subscriptions.find((s) => s.id === sub.id);
    expect(row).toMatchObject({ subscriber: member.id, referential: 'companies', mode: 'pull', state: 'active', lagChanges: 3, deadLetters: 0, circuit: 'closed' });
    expect(row?.lagSeconds).toBeGreaterThanOrEqual(0);
    const metrics = await (await fetch(`${world.urls[0] ?? ''}/metrics`)).text();
    expect(metrics).toContain(`tabadol_sync_lag_changes{subscription="${sub.id}",mode="pull"} 3`);
    expect(metrics).toMatch(new RegExp(`tabadol_sync_lag_seconds\\{subscription="${sub.id}",mode="pull"\\} \\d`));

    await asAdmin('POST', `/admin/v1/subscriptions/${sub.id}/end`);
    const after = await asAuditor<{ subscriptions: SubscriptionStatusBody[] }>('GET', '/admin/v1/sync/status');
    expect(after.body.subscriptions.map((s) => s.id)).not.toContain(sub.id);
    const all = await asAuditor<{ subscriptions: SubscriptionStatusBody[] }>('GET', '/admin/v1/sync/status?all=true');
    expect(all.body.subscriptions.find((s) => s.id === sub.id)?.state).toBe('ended');
  });

  it("shows each configured adapter's inbound side beside the subscriptions", async () => {
    const adapter = defineAdapter({ id: 'status-probe', system: 'status-probe', config: z.object({ baseUrl: z.url() }), health: async () => ({ ok: true }), deliver: async () => undefined });
    await configureAdapter(world.db, adapter, { baseUrl: 'http://127.0.0.1:9/' });
    const status = await asAuditor<{ adapters: Array<{ adapter: string; system: string; pulled: number; errors: number; lastSuccessAt: string | null }> }>('GET', '/admin/v1/sync/status');
    expect(status.status).toBe(200);
    expect(status.body.adapters.find((a) => a.adapter === 'status-probe')).toMatchObject({ system: 'status-probe', pulled: 0, errors: 0, lastSuccessAt: null });
  });

  it('lists, shows and replays a dead letter (one by id, or all of a subscription), audited, and /metrics counts it', async () => {
    const sub = await create();
    subscriber.behave((body) => (body.subscription === sub.id ? { status: 422 } : { status: 204 }));
    const poison = await give('Poison');
    const dead = async () => (await asAuditor<{ deadLetters: DeadLetterBody[] }>('GET', `/admin/v1/dead-letters?subscription=${sub.id}`)).body.deadLetters;
    await expect.poll(async () => (await dead()).map((d) => d.goldenId), { timeout: 15_000 }).toEqual([poison]);
    const [letter] = await dead();
    expect(letter).toMatchObject({ id: `${sub.id}:${letter?.position}`, subscriptionId: sub.id, referential: 'companies', goldenId: poison, version: 1, type: 'golden.created', lastStatus: 422 });
    expect(await asAuditor('GET', `/admin/v1/dead-letters/${letter?.id}`)).toEqual({ status: 200, body: letter });
    expect((await asAuditor<{ deadLetters: DeadLetterBody[] }>('GET', '/admin/v1/dead-letters')).body.deadLetters.map((d) => d.id)).toContain(letter?.id);
    const metrics = await (await fetch(`${world.urls[0] ?? ''}/metrics`)).text();
    expect(metrics).toContain(`tabadol_sync_dead_letters{subscription="${sub.id}",mode="push"} 1`);
    const status = (await asAuditor<{ subscriptions: SubscriptionStatusBody[] }>('GET', '/admin/v1/sync/status')).body.subscriptions.find((s) => s.id === sub.id);
    expect(status).toMatchObject({ deadLetters: 1 });

    for (const [body, location] of [[{}, 'body.id'], [{ id: letter?.id, subscription: sub.id }, 'body.subscription'], [{ id: 'nope' }, 'body.id'], [{ subscription: 'nope' }, 'body.subscription']] as const) {
      const answer = await asAdmin('POST', '/admin/v1/dead-letters/replay', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(locations(answer), JSON.stringify(body)).toEqual([location]);
    }
    // Replayed while the subscriber still refuses: it dies again; once fixed, the subscription's replay delivers it.
    expect(await asAdmin('POST', '/admin/v1/dead-letters/replay', { id: letter?.id })).toEqual({ status: 200, body: { replayed: 1 } });
    await expect.poll(async () => (await dead()).length, { timeout: 15_000 }).toBe(1);
    subscriber.behave(() => ({ status: 204 }));
    expect(await asAdmin('POST', '/admin/v1/dead-letters/replay', { subscription: sub.id })).toEqual({ status: 200, body: { replayed: 1 } });
    await subscriber.until((s) => s.changes().some((c) => c.goldenId === poison && c.id.startsWith(sub.id)), 'the replayed change');
    expect(await dead()).toEqual([]);
    expect((await asAuditor('GET', `/admin/v1/dead-letters/${letter?.id}`)).status).toBe(404);
    expect(await asAdmin('POST', '/admin/v1/dead-letters/replay', { subscription: sub.id })).toEqual({ status: 200, body: { replayed: 0 } });
    const replays = (await world.db.query<{ actor: string; target: string }>("SELECT actor, target FROM admin_audit WHERE action = 'dlq.replay' AND target LIKE $1 ORDER BY id", [`${sub.id}%`])).rows;
    expect(replays).toEqual([{ actor: `operator:${adminId}`, target: letter?.id }, { actor: `operator:${adminId}`, target: sub.id }]);
    await asAdmin('POST', `/admin/v1/subscriptions/${sub.id}/end`);
  });
});
