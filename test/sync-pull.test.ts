// Pull delivery (issue 14 item 3): a subscriber reads its subscription's changes by cursor with a signed GET, the hub
// answers signed and logged, reading after N acknowledges N, a read with nothing new waits for the next change, and a
// subscriber resumes exactly where it left off across a hub restart. Refusals are signed like any answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIce } from '../referentials/identifiers/index.ts';
import { companiesModule } from '../referentials/companies/module.ts';
import { loadConfig } from '../src/config.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { startHub } from '../src/runtime.ts';
import type { Db } from '../src/storage/db.ts';
import type { PullAnswerBody } from '../src/sync/pull-exchange.ts';
import { subscriptionStatuses } from '../src/sync/status.ts';
import { createSubscription, setSubscriptionState, type Subscription, type SubscriptionInput } from '../src/sync/subscriptions.ts';
import { hubId, startExchangeWorld, type Consumer, type ExchangeWorld, type RawAnswer } from './exchange/harness.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';
import { captureLogger } from './helpers/hub.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';

const companies = companiesModule as unknown as ReferentialModule;
const purpose = 'fiscal-registry-sync';
const fields = ['changes.record.attributes.ice', 'changes.record.attributes.nameFr'];

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

const company = (i: number, name: string, commune = '01.051.11.01') => ({
  sourceSystem: 'ompic',
  sourceId: `c-${i}`,
  attributes: { ice: makeIce(String(200_000_000 + i)), nameFr: name, legalForm: 'sarl', status: 'active', commune, if: String(20_000_000 + i) },
});

interface PullWorld {
  world: ExchangeWorld;
  subscriber: Consumer;
  /** The next company number free for a test. */
  n: number;
  /** The current hub's database (it changes when the hub restarts). */
  db(): Db;
  give(i: number, name: string, commune?: string): Promise<string>;
  subscribe(input?: Partial<SubscriptionInput>): Promise<Subscription>;
  read(id: string, query?: string, as?: Consumer, asPurpose?: string): Promise<RawAnswer>;
  page(id: string, query?: string): Promise<PullAnswerBody>;
}

/** A pull world: the hub, a subscriber with its convention, and helpers to subscribe, change records and read. */
function pullWorld(setup: (typeof setups)[number]): PullWorld {
  const t: PullWorld = {
    world: undefined as unknown as ExchangeWorld,
    subscriber: undefined as unknown as Consumer,
    n: 0,
    db: (): Db => t.world.hubs[0]?.db as Db,
    give: async (i: number, name: string, commune?: string) => (await contribute(t.db(), companies, company(i, name, commune))).goldenId,
    subscribe: (input: Partial<SubscriptionInput> = {}) =>
      createSubscription(
        { db: t.db(), findConvention: (c, p, s) => t.world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['companies', 'persons', 'vehicles'] },
        { subscriber: t.subscriber.id, referential: 'companies', purpose, mode: 'pull', batchSize: 100, actor: 'test', ...input },
      ),
    /** A signed GET of the subscription's changes (query as given), sent to the hub. */
    read: async (id: string, query = '', as: Consumer = t.subscriber, asPurpose = purpose): Promise<RawAnswer> => {
      const target = `/sync/v1/subscriptions/${id}/changes${query ? `?${query}` : ''}`;
      const request = await t.world.sign(as.identity, { method: 'GET', target, purpose: asPurpose });
      const answer = await t.world.send(request);
      // Every answer, refusals included, is signed by the hub for this request.
      await t.world.verifyAnswer(answer, request.signature);
      return answer;
    },
    page: async (id: string, query = ''): Promise<PullAnswerBody> => {
      const answer = await t.read(id, query);
      expect(answer.status, answer.text).toBe(200);
      return answer.json as PullAnswerBody;
    },
  };
  beforeAll(async () => {
    t.world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis });
    t.subscriber = await t.world.registerConsumer('MA/GOV/DGI/registre-fiscal');
    await allowSubscription(t.world, t.subscriber, { referential: 'companies', purpose, fields });
  }, 120_000);
  afterAll(async () => {
    await t.world?.close();
  });
  return t;
}

describe.each(setups)('pull delivery on $name', (setup) => {
  const t = pullWorld(setup);

  it('reads pages in feed order, minimised, signed and logged with subjects; reading after N acknowledges N', async () => {
    const sub = await t.subscribe({ batchSize: 3 });
    const first = t.n;
    t.n += 7;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await t.give(first + i, `Pull ${i}`));
    const one = await t.page(sub.id);
    expect(one).toMatchObject({ subscription: sub.id, referential: 'companies', purpose, after: sub.cursor, more: true, state: 'active' });
    expect(one.changes.map((c) => c.goldenId)).toEqual(ids.slice(0, 3));
    expect(one.next).toBe(one.changes.at(-1)?.seq);
    for (const c of one.changes) {
      expect(c).toMatchObject({ id: `${sub.id}:${c.seq}`, type: 'golden.created', version: 1 });
      expect(Object.keys(c.record?.attributes ?? {}).sort()).toEqual(['ice', 'nameFr']);
    }
    // Reading without `after` did not acknowledge anything; reading after one.next does.
    expect((await subscriptionStatuses(t.db())).find((s) => s.id === sub.id)?.cursor).toBe(sub.cursor);
    const two = await t.page(sub.id, `after=${one.next}`);
    expect(two.changes.map((c) => c.goldenId)).toEqual(ids.slice(3, 6));
    expect((await subscriptionStatuses(t.db())).find((s) => s.id === sub.id)).toMatchObject({ cursor: one.next, lagChanges: 4 });
    // Counted up to a cap: at or above it the lag is reported as "at least".
    expect((await subscriptionStatuses(t.db(), { lagCountCap: 3 })).find((s) => s.id === sub.id)).toMatchObject({ lagChanges: 3, lagCapped: true });
    expect((await subscriptionStatuses(t.db(), { lagCountCap: 5 })).find((s) => s.id === sub.id)).toMatchObject({ lagChanges: 4, lagCapped: false });
    const three = await t.page(sub.id, `after=${two.next}&limit=50`);
    expect(three.changes.map((c) => c.goldenId)).toEqual(ids.slice(6));
    expect(three.more).toBe(false);
    const end = await t.page(sub.id, `after=${three.next}`);
    expect(end).toMatchObject({ changes: [], next: three.next, more: false });
    expect((await subscriptionStatuses(t.db())).find((s) => s.id === sub.id)).toMatchObject({ cursor: three.next, lagChanges: 0 });
    // Logged: one row per read, to the subscriber, for its purpose, under its convention, with the 7 ICEs as subjects.
    const { rows } = await t.db().query<{ reads: number; subjects: number }>(
      `SELECT count(DISTINCT l.seq)::int AS reads, count(s.*)::int AS subjects FROM message_log l LEFT JOIN message_subjects s ON s.seq = l.seq
        WHERE l.operation = 'pull' AND l.client = $1 AND l.purpose = $2 AND l.status = 200 AND l.service = 'MA/GOV/HUB/referentials/companies'`,
      [t.subscriber.id, purpose],
    );
    expect(rows[0]).toEqual({ reads: 4, subjects: 7 });
    // The TypeScript client signs a read and verifies the hub's answer as for any call.
    const viaClient = await t.subscriber.client().call('GET', `/sync/v1/subscriptions/${sub.id}/changes?after=${one.next}&limit=2`, { purpose });
    expect(viaClient.status).toBe(200);
    expect(viaClient.claims).toMatchObject({ aud: t.subscriber.id, sts: 200 });
    expect((JSON.parse(viaClient.body) as PullAnswerBody).changes.map((c) => c.goldenId)).toEqual(ids.slice(3, 5));
    await setSubscriptionState(t.db(), sub.id, 'ended', 'test');
  });

  it('keeps to its kinds and territory, and skips what it filtered out: a region-06 reader gets region 06 creations only', async () => {
    const sub = await t.subscribe({ scope: '06', types: ['golden.created'] });
    const first = t.n;
    t.n += 3;
    const inRegion = await t.give(first, 'Fes pull', '06.111.05.03');
    await t.give(first + 1, 'Rabat pull', '01.051.11.07');
    await t.give(first, 'Fes pull renamed', '06.111.05.03');
    const page = await t.page(sub.id);
    expect(page.changes.map((c) => [c.goldenId, c.type])).toEqual([[inRegion, 'golden.created']]);
    // `next` passed the changes it filtered out: the next read starts after all three.
    const { rows } = await t.db().query<{ p: string }>("SELECT max(position) AS p FROM ref_changes WHERE referential = 'companies'");
    expect(page.next).toBe(Number(rows[0]?.p));
    await setSubscriptionState(t.db(), sub.id, 'ended', 'test');
  });

  it('long-polls: with nothing new it answers an empty page at the end of the wait, and with a change as soon as one arrives', async () => {
    const sub = await t.subscribe();
    const empty = await t.page(sub.id, `after=${sub.cursor}&wait=1`);
    expect(empty).toMatchObject({ changes: [], next: sub.cursor, more: false });
    // A read waiting (it acknowledges the change before, visibly, before it waits), then a change: it answers with it.
    await t.give(t.n++, 'Before the wait');
    const { rows } = await t.db().query<{ p: string }>('SELECT max(position) AS p FROM ref_changes');
    const base = Number(rows[0]?.p);
    const waiting = t.page(sub.id, `after=${base}&wait=30`);
    await expect.poll(async () => (await subscriptionStatuses(t.db())).find((s) => s.id === sub.id)?.cursor, { timeout: 10_000 }).toBe(base);
    const goldenId = await t.give(t.n++, 'Arrives while waiting');
    const answered = await waiting;
    expect(answered.changes.map((c) => c.goldenId)).toEqual([goldenId]);
    await setSubscriptionState(t.db(), sub.id, 'ended', 'test');
  });

  it('is read by its own subscriber only, for its purpose: others are refused 403, and so is anything not a readable pull subscription', async () => {
    const sub = await t.subscribe();
    const other = await t.world.registerConsumer('MA/GOV/TEST/other-reader');
    await allowSubscription(t.world, other, { referential: 'companies', purpose, fields });
    const stranger = await t.read(sub.id, '', other);
    expect(stranger.status).toBe(403);
    expect(stranger.json).toMatchObject({ type: expect.stringMatching(/forbidden$/) });
    expect(JSON.stringify(stranger.json)).not.toContain('changes');
    const wrongPurpose = await t.read(sub.id, '', t.subscriber, 'another-purpose');
    expect(wrongPurpose.status).toBe(403);
    expect(wrongPurpose.json).toMatchObject({ type: expect.stringMatching(/purpose-not-allowed$/), errors: [{ location: 'header.tabadol-purpose' }] });
    // Unsigned: refused before anything else, still signed by the hub.
    const unsigned = await t.world.send({ method: 'GET', target: `/sync/v1/subscriptions/${sub.id}/changes` });
    expect(unsigned.status).toBe(401);
    await t.world.verifyAnswer(unsigned);
    // A push subscription is not read by cursor; an unknown one is not found; an ended one is gone.
    const push = await t.subscribe({ mode: 'push', target: 'http://127.0.0.1:9/changes' });
    expect((await t.read(push.id)).status).toBe(409);
    expect((await t.read('sub-000000000000')).status).toBe(404);
    await setSubscriptionState(t.db(), sub.id, 'ended', 'test');
    expect((await t.read(sub.id)).status).toBe(409);
    await setSubscriptionState(t.db(), push.id, 'ended', 'test');
    // Each refusal was logged, with the caller named.
    const { rows } = await t.db().query<{ status: number; n: number }>(
      "SELECT status, count(*)::int AS n FROM message_log WHERE operation = 'pull' AND client = $1 GROUP BY status",
      [other.id],
    );
    expect(rows).toEqual([{ status: 403, n: 1 }]);
  });

  it('refuses bad parameters with 400 naming the field, signed, once the signature is checked', async () => {
    const sub = await t.subscribe();
    const cases: Array<[string, string]> = [
      ['limit=0', 'query.limit'],
      ['limit=1001', 'query.limit'],
      ['wait=31', 'query.wait'],
      ['after=-1', 'query.after'],
      ['after=abc', 'query.after'],
      [`after=${Number.MAX_SAFE_INTEGER}`, 'query.after'],
    ];
    for (const [query, location] of cases) {
      const answer = await t.read(sub.id, query);
      expect(answer.status, query).toBe(400);
      expect(answer.json, query).toMatchObject({ type: expect.stringMatching(/request-invalid$/), errors: [expect.objectContaining({ location })] });
    }
    const badId = await t.read('sub-NOT_AN_ID');
    expect(badId.status).toBe(400);
    expect(badId.json).toMatchObject({ errors: [expect.objectContaining({ location: 'path.id' })] });
    await setSubscriptionState(t.db(), sub.id, 'ended', 'test');
  });
});

describe.each(setups)('pull delivery across a hub restart on $name', (setup) => {
  const t = pullWorld(setup);

  /** Stops the hub and starts another on the same database (and key file), serving at the world's first URL slot. */
  const restart = async (): Promise<void> => {
    const world = t.world;
    await world.hubs[0]?.close();
    const { logger } = captureLogger('warn');
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', HUB_ID: hubId, DATA_DIR: world.dataDirs[0] ?? '', HUB_KEY_FILE: world.hubKeyFile, DEMO: 'off', LOG_LEVEL: 'warn',
      ...(setup.storage === 'pg' ? { DATABASE_URL: testDatabaseUrl } : {}),
      ...(setup.redis ? { REDIS_URL: testRedisUrl } : {}),
    });
    const hub = await startHub(config, { logger, http: true, workers: false, plugins: [], adapters: {}, deliveryHandlers: {}, registryPollMs: 100, ...(world.schema ? { schema: world.schema } : {}), ...(world.queuePrefix ? { queuePrefix: world.queuePrefix } : {}) });
    // The world's send, sign and close follow its hubs and URLs.
    world.hubs[0] = hub;
    world.urls[0] = hub.url ?? '';
  };

  it('resumes exactly where the subscriber left off: nothing acknowledged is read again, nothing is missing', async () => {
    const sub = await t.subscribe({ batchSize: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await t.give(t.n++, `Restart ${i}`));
    const applied: string[] = [];
    // Page one, applied; page two read (acknowledging page one) but lost before the subscriber applied it.
    const one = await t.page(sub.id);
    applied.push(...one.changes.map((c) => c.id));
    const lost = await t.page(sub.id, `after=${one.next}`);
    expect(lost.changes).toHaveLength(4);
    await restart();
    // The subscriber lost its place too: it reads from the hub's cursor, which is where it acknowledged.
    let page = await t.page(sub.id);
    expect(page.after).toBe(one.next);
    for (;;) {
      applied.push(...page.changes.map((c) => c.id));
      if (!page.more && page.changes.length === 0) break;
      page = await t.page(sub.id, `after=${page.next}`);
    }
    const { rows } = await t.db().query<{ position: string; golden_id: string }>(
      "SELECT position, golden_id FROM ref_changes WHERE referential = 'companies' AND position > $1 ORDER BY position",
      [sub.cursor],
    );
    expect(applied).toEqual(rows.map((r) => `${sub.id}:${r.position}`));
    expect(rows.map((r) => r.golden_id)).toEqual(ids);
    expect((await subscriptionStatuses(t.db())).find((s) => s.id === sub.id)).toMatchObject({ cursor: page.next, lagChanges: 0 });
  });
});
