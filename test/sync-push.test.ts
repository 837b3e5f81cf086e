// Push delivery (issue 14): a subscriber, a real HTTP server, receives a referential's changes signed by the hub,
// minimised to its convention's fields, logged with their subjects, in order per record, through downtime and poison.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIce } from '../referentials/identifiers/index.ts';
import { companiesModule } from '../referentials/companies/module.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { listDeadLetters, replayDeadLetters } from '../src/sync/dead-letters.ts';
import { subscriptionStatuses } from '../src/sync/status.ts';
import { createSubscription, setSubscriptionState, type SubscriptionInput } from '../src/sync/subscriptions.ts';
import type { PushedChange } from '../src/sync/push.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription, startSubscriber, type TestSubscriber } from './helpers/sync-world.ts';

const companies = companiesModule as unknown as ReferentialModule;
const purpose = 'fiscal-registry-sync';
const fastRetries = {
  SYNC_TICK_MS: '50',
  SYNC_BACKOFF_BASE_SECONDS: '0.05',
  SYNC_BACKOFF_MAX_SECONDS: '0.4',
  SYNC_CIRCUIT_THRESHOLD: '3',
  SYNC_CIRCUIT_SECONDS: '0.3',
  SYNC_LEASE_SECONDS: '5',
};

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

/** Each record's changes arrive in version order, and the feed's positions only grow within a record. */
function expectOrderPerRecord(changes: readonly PushedChange[]): void {
  const last = new Map<string, number>();
  for (const c of changes) {
    const before = last.get(c.goldenId) ?? 0;
    expect(c.version, `${c.goldenId} v${c.version} after v${before}`).toBeGreaterThanOrEqual(before);
    last.set(c.goldenId, c.version);
  }
}

describe.each(setups)('push delivery on $name', (setup) => {
  let world!: ExchangeWorld;
  let subscriberMember!: Consumer;
  let subscriber!: TestSubscriber;
  let n = 0;

  const company = (i: number, name: string, commune = '01.051.11.01') => ({
    sourceSystem: 'ompic',
    sourceId: `c-${i}`,
    attributes: { ice: makeIce(String(100_000_000 + i)), nameFr: name, legalForm: 'sarl', status: 'active', commune, if: String(10_000_000 + i) },
  });
  const give = async (i: number, name: string, commune?: string) => (await contribute(world.db, companies, company(i, name, commune))).goldenId;
  const subscribe = (input: Partial<SubscriptionInput> = {}) =>
    createSubscription(
      { db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['companies', 'persons', 'vehicles'] },
      { subscriber: subscriberMember.id, referential: 'companies', purpose, mode: 'push', target: subscriber.url, batchSize: 5, actor: 'test', ...input },
    );

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: fastRetries });
    subscriberMember = await world.registerConsumer('MA/GOV/DGI/registre-fiscal');
    await allowSubscription(world, subscriberMember, { referential: 'companies', purpose, fields: ['changes.record.attributes.ice', 'changes.record.attributes.nameFr'] });
    subscriber = await startSubscriber(world);
  }, 120_000);
  afterAll(async () => {
    await subscriber?.close();
    await world?.close();
  });

  it('pushes every change once, signed, minimised to the convention, in order per record, and logs each push with its subjects', async () => {
    const sub = await subscribe();
    const first = n;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await give(first + i, `Atlas ${i}`));
    for (let i = 0; i < 5; i++) await give(first + i, `Atlas ${i} SA`);
    n += 10;
    await subscriber.until((s) => s.changes().filter((c) => c.id.startsWith(sub.id)).length >= 15, '15 changes');
    const got = subscriber.changes().filter((c) => c.id.startsWith(sub.id));
    expect(got).toHaveLength(15);
    expect(new Set(got.map((c) => c.id)).size).toBe(15);
    expectOrderPerRecord(got);
    expect(got.filter((c) => c.version === 2).map((c) => c.goldenId).sort()).toEqual(ids.slice(0, 5).sort());
    // Minimised: the record holds the convention's two fields and nothing else; the delivery's own metadata stays.
    for (const c of got) {
      expect(Object.keys(c.record?.attributes ?? {}).sort()).toEqual(['ice', 'nameFr']);
      expect(c).toMatchObject({ id: `${sub.id}:${c.seq}`, type: expect.stringMatching(/^golden\./), goldenId: expect.any(String) });
    }
    const push = subscriber.accepted.find((p) => p.body.subscription === sub.id);
    expect(push?.claims).toMatchObject({ iss: world.hubId, aud: subscriberMember.id, sub: sub.id, jti: push?.headers['webhook-id'] });
    expect(Number(push?.headers['webhook-timestamp'])).toBeGreaterThan(0);
    // Logged: one row per push (written once the subscriber has answered), to the subscriber, for its purpose, with
    // the companies' ICEs as subjects.
    const logged = async () =>
      (
        await world.db.query<{ pushes: number; subjects: number }>(
          `SELECT count(DISTINCT l.seq)::int AS pushes, count(s.*)::int AS subjects FROM message_log l LEFT JOIN message_subjects s ON s.seq = l.seq
            WHERE l.operation = 'push' AND l.client = $1 AND l.purpose = $2 AND l.status = 204 AND l.request_id LIKE $3`,
          [subscriberMember.id, purpose, `${sub.id}.%`],
        )
      ).rows[0];
    await expect.poll(logged, { timeout: 10_000 }).toEqual({ pushes: subscriber.accepted.filter((p) => p.body.subscription === sub.id).length, subjects: 15 });
    expect((await logged())?.pushes).toBeGreaterThanOrEqual(3); // batches of at most 5
    await setSubscriptionState(world.db, sub.id, 'ended', 'test');
  });

  it('keeps every change for a subscriber that is down, opens its circuit, and delivers them all in order when it is back', async () => {
    const sub = await subscribe();
    subscriber.behave(() => ({ status: 503 }));
    const first = n;
    for (let i = 0; i < 8; i++) await give(first + i, `Down ${i}`);
    for (let i = 0; i < 8; i++) await give(first + i, `Down ${i} bis`);
    n += 8;
    await subscriber.until((s) => s.refused >= 3, 'three refused pushes');
    // The circuit opens after three consecutive failures; the status says so.
    await expect.poll(async () => (await subscriptionStatuses(world.db)).find((s) => s.id === sub.id)?.failed ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const during = (await subscriptionStatuses(world.db)).find((s) => s.id === sub.id);
    expect(during?.lagChanges).toBe(16);
    subscriber.behave(() => ({ status: 200 }));
    await subscriber.until((s) => new Set(s.changes().filter((c) => c.id.startsWith(sub.id)).map((c) => c.id)).size >= 16, 'all 16 changes after the outage', 30_000);
    const got = subscriber.changes().filter((c) => c.id.startsWith(sub.id));
    expect(new Set(got.map((c) => c.id)).size).toBe(16);
    expectOrderPerRecord(got);
    await expect.poll(async () => (await subscriptionStatuses(world.db)).find((s) => s.id === sub.id)?.lagChanges, { timeout: 10_000 }).toBe(0);
    await setSubscriptionState(world.db, sub.id, 'ended', 'test');
  });

  it('sends a change the subscriber refuses for good to the dead letters, lets other records flow, holds that record, and replays it after a fix', async () => {
    const sub = await subscribe({ batchSize: 10 });
    const first = n;
    n += 5;
    const poison = await give(first, 'Poison');
    // The subscriber refuses any push holding the poisoned record (422), as a validation bug on its side would.
    subscriber.behave((body) => (body.deliveries.some((d) => d.goldenId === poison) ? { status: 422 } : { status: 204 }));
    const others: string[] = [];
    for (let i = 1; i < 5; i++) others.push(await give(first + i, `Healthy ${i}`));
    await subscriber.until((s) => others.every((id) => s.changes().some((c) => c.goldenId === id && c.id.startsWith(sub.id))), 'the healthy records');
    await expect.poll(async () => (await listDeadLetters(world.db, { subscriptionId: sub.id })).map((d) => d.goldenId), { timeout: 10_000 }).toEqual([poison]);
    const dead = (await listDeadLetters(world.db, { subscriptionId: sub.id }))[0];
    expect(dead).toMatchObject({ lastStatus: 422, attempts: 1, type: 'golden.created' });
    // A later change of the poisoned record waits behind it; a later change of another record flows.
    await give(first, 'Poison v2');
    await give(first + 1, 'Healthy 1 v2');
    await subscriber.until((s) => s.changes().some((c) => c.goldenId === others[0] && c.version === 2 && c.id.startsWith(sub.id)), 'the healthy record v2');
    expect(subscriber.changes().some((c) => c.goldenId === poison && c.id.startsWith(sub.id))).toBe(false);
    // Fixed on the subscriber's side, then replayed: both changes of the record arrive, in order.
    subscriber.behave(() => ({ status: 204 }));
    expect(await replayDeadLetters(world.db, { subscriptionId: sub.id }, 'test')).toBe(1);
    await subscriber.until((s) => s.changes().filter((c) => c.goldenId === poison && c.id.startsWith(sub.id)).length >= 2, 'the poisoned record, both versions');
    expect(subscriber.changes().filter((c) => c.goldenId === poison && c.id.startsWith(sub.id)).map((c) => c.version)).toEqual([1, 2]);
    expect(await listDeadLetters(world.db, { subscriptionId: sub.id })).toEqual([]);
    await setSubscriptionState(world.db, sub.id, 'ended', 'test');
  });

  it('filters by kind of change and territory: a region-06 subscription gets region 06 creations only', async () => {
    const sub = await subscribe({ scope: '06', types: ['golden.created'] });
    const first = n;
    n += 3;
    const inRegion = await give(first, 'Fes company', '06.111.05.03');
    await give(first + 1, 'Rabat company', '01.051.11.07');
    await give(first, 'Fes company renamed', '06.111.05.03');
    const marker = await give(first + 2, 'Fes marker', '06.111.05.03');
    await subscriber.until((s) => s.changes().some((c) => c.goldenId === marker && c.id.startsWith(sub.id)), 'the marker');
    const got = subscriber.changes().filter((c) => c.id.startsWith(sub.id));
    expect(got.map((c) => [c.goldenId, c.type])).toEqual([[inRegion, 'golden.created'], [marker, 'golden.created']]);
    await setSubscriptionState(world.db, sub.id, 'ended', 'test');
  });
});
