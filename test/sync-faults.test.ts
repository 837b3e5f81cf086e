// Push delivery under faults (issue 14, "Faults"), on PostgreSQL + Redis, with subscribers that are real HTTP servers
// the test controls: Redis emptied mid-flow, a slow subscriber beside a fast one, a hub restarted mid-flow. (Real
// worker processes, killed or side by side, are in test/sync-workers.e2e.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import { createSubscription, setSubscriptionState, type Subscription, type SubscriptionInput } from '../src/sync/subscriptions.ts';
import type { Db } from '../src/storage/db.ts';
import { hubId, startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { FeedWriter } from './helpers/change-feed.ts';
import { openSameSchema } from './helpers/db.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';
import { captureLogger } from './helpers/hub.ts';
import { deletePrefix } from './helpers/queues.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription, startSubscriber, type TestSubscriber } from './helpers/sync-world.ts';
import { duplicatesOf, expectOrderPerKey, hubCounters } from './helpers/sync-checks.ts';

const purpose = 'fiscal-registry-sync';
const fields = ['changes.record.attributes.ice', 'changes.record.attributes.nameFr'];
const env = {
  SYNC_TICK_MS: '50',
  SYNC_BACKOFF_BASE_SECONDS: '0.05',
  SYNC_BACKOFF_MAX_SECONDS: '0.4',
  SYNC_CIRCUIT_THRESHOLD: '3',
  SYNC_CIRCUIT_SECONDS: '0.3',
  SYNC_LEASE_SECONDS: '5',
};

/** A push subscription of `member` to the companies feed from now, sent to `target`. */
function subscribe(world: ExchangeWorld, db: Db, member: Consumer, target: string, input: Partial<SubscriptionInput> = {}): Promise<Subscription> {
  return createSubscription(
    { db, findConvention: (c, p, s) => world.hubs.at(-1)?.services.conventions.find(c, p, s), referentials: ['companies'] },
    { subscriber: member.id, referential: 'companies', purpose, mode: 'push', target, actor: 'test', ...input },
  );
}

const of = (s: TestSubscriber, sub: Subscription) => s.changes().filter((c) => c.id.startsWith(`${sub.id}:`));
const distinct = (s: TestSubscriber, sub: Subscription) => new Set(of(s, sub).map((c) => c.id)).size;

describe.runIf(hasServer('postgres') && hasServer('redis'))('push delivery under faults, on PostgreSQL + Redis', () => {
  let world!: ExchangeWorld;
  let member!: Consumer;

  beforeAll(async () => {
    // One hub with its workers in this process (several processes sharing the work: test/sync-workers.e2e.test.ts).
    world = await startExchangeWorld({ storage: 'pg', redis: true, workers: true, env });
    member = await world.registerConsumer('MA/GOV/DGI/registre-fiscal');
    await allowSubscription(world, member, { referential: 'companies', purpose, fields });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('delivers every one of 10,000 changes when Redis is emptied mid-flow, with at most one batch sent twice', async () => {
    const subscriber = await startSubscriber(world);
    try {
      const batchSize = 50;
      const sub = await subscribe(world, world.db, member, subscriber.url, { batchSize });
      const feed = new FeedWriter(world.db, { keys: 500, idPrefix: 'flush-' });
      await feed.append(10_000);
      await subscriber.until((s) => of(s, sub).length >= 3000, 'the first 3,000 changes', 60_000);
      // The queue's every key (turns waiting, in flight, the workers' markers) is gone; PostgreSQL still knows it all.
      await deletePrefix(world.queuePrefix ?? '');
      const atFlush = distinct(subscriber, sub);
      await subscriber.until((s) => distinct(s, sub) === 10_000, 'all 10,000 changes after the flush', 120_000);
      const got = of(subscriber, sub);
      const duplicates = duplicatesOf(got);
      // The subscriber answered the last push before the sender recorded it: wait for the record.
      await expect.poll(() => hubCounters(world.db, sub.id), { timeout: 30_000 }).toMatchObject({ delivered: 10_000, pending: 0, dead: 0 });
      const counters = await hubCounters(world.db, sub.id);
      console.info(`sync faults, Redis emptied after ${atFlush} of 10,000 changes: ${duplicates} duplicate deliveries seen by the subscriber, ${counters.duplicates} counted by the hub`);
      expect(atFlush).toBeLessThan(10_000);
      // One sender at a time holds the subscription (its lease): at most its one batch was in flight at the flush.
      expect(duplicates).toBeLessThanOrEqual(batchSize);
      expectOrderPerKey(got);
      await setSubscriptionState(world.db, sub.id, 'ended', 'test');
    } finally {
      await subscriber.close();
    }
  }, 240_000);

  it('a slow subscriber (2 s per push) does not delay a fast one: the fast one has all its changes while the slow one has had a few batches', async () => {
    const slow = await startSubscriber(world);
    const fast = await startSubscriber(world);
    let slowStarted = 0;
    slow.behave(() => {
      slowStarted++;
      return { status: 204, delayMs: 2000 };
    });
    try {
      const slowSub = await subscribe(world, world.db, member, slow.url, { batchSize: 10 });
      const fastSub = await subscribe(world, world.db, member, fast.url, { batchSize: 10 });
      await new FeedWriter(world.db, { keys: 20, idPrefix: 'slow-' }).append(100);
      await fast.until((s) => distinct(s, fastSub) === 100, 'the fast subscriber\'s 100 changes', 60_000);
      const slowWhenFastDone = { pushesStarted: slowStarted, changes: of(slow, slowSub).length };
      console.info(`sync faults, slow beside fast: the fast subscriber had its 10 pushes while the slow one had started ${slowWhenFastDone.pushesStarted} (${slowWhenFastDone.changes} changes accepted)`);
      // Had the slow subscriber held the fast one's sender, each fast push would have waited for a 2 s slow one: the
      // slow one would have started about as many pushes as the fast one needed (10). Half of that leaves room for a
      // loaded machine (a fast push taking up to a second) and still tells the two apart.
      expect(slowWhenFastDone.pushesStarted).toBeLessThanOrEqual(5);
      expect(slowWhenFastDone.changes).toBeLessThanOrEqual(50);
      expectOrderPerKey(of(fast, fastSub));
      expect(duplicatesOf(of(fast, fastSub))).toBe(0);
      // The slow one is only slow: it gets everything too, in order.
      await slow.until((s) => distinct(s, slowSub) === 100, 'the slow subscriber\'s 100 changes', 60_000);
      expectOrderPerKey(of(slow, slowSub));
      for (const sub of [slowSub, fastSub]) await setSubscriptionState(world.db, sub.id, 'ended', 'test');
    } finally {
      await slow.close();
      await fast.close();
    }
  }, 120_000);
});

describe.runIf(hasServer('postgres') && hasServer('redis'))('a hub restarted mid-flow, on PostgreSQL + Redis', () => {
  let world!: ExchangeWorld;
  let subscriber!: TestSubscriber;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pg', redis: true, workers: true, env });
    subscriber = await startSubscriber(world);
  }, 120_000);
  afterAll(async () => {
    await subscriber?.close();
    await world?.close();
  });

  /** A hub as the harness starts one, on the world's database schema, queue prefix and key file. */
  const restart = (): Promise<Hub> => {
    const { logger } = captureLogger('warn');
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', HUB_ID: hubId, DATA_DIR: world.dataDirs[0] ?? '', HUB_KEY_FILE: world.hubKeyFile, DEMO: 'off', LOG_LEVEL: 'warn',
      DATABASE_URL: testDatabaseUrl, REDIS_URL: testRedisUrl, ...env,
    });
    return startHub(config, { logger, http: false, workers: true, plugins: [], adapters: {}, deliveryHandlers: {}, registryPollMs: 100, schema: world.schema, queuePrefix: world.queuePrefix });
  };

  it('resumes from PostgreSQL: what was pending when the hub stopped is delivered by the next one, in order', async () => {
    const member = await world.registerConsumer('MA/GOV/DGI/registre-fiscal');
    await allowSubscription(world, member, { referential: 'companies', purpose, fields });
    const batchSize = 20;
    const sub = await subscribe(world, world.db, member, subscriber.url, { batchSize });
    subscriber.behave(() => ({ status: 204, delayMs: 20 }));
    await new FeedWriter(world.db, { keys: 100, idPrefix: 'restart-' }).append(2000);
    await subscriber.until((s) => of(s, sub).length >= 300, 'the first 300 changes', 60_000);
    await world.hubs[0]?.close();

    const inspect = await openSameSchema(world.schema ?? '');
    try {
      const stopped = await hubCounters(inspect, sub.id);
      const received = distinct(subscriber, sub);
      // Mid-flow: changes were left to deliver, and nothing sends them while no hub runs.
      expect(stopped.pending).toBeGreaterThan(0);
      expect(received).toBeLessThan(2000);

      const next = await restart();
      world.hubs.push(next); // closed with the world
      await subscriber.until((s) => distinct(s, sub) === 2000, 'all 2,000 changes after the restart', 120_000);
      const got = of(subscriber, sub);
      await expect.poll(() => hubCounters(inspect, sub.id), { timeout: 30_000 }).toMatchObject({ delivered: 2000, pending: 0, dead: 0 });
      const counters = await hubCounters(inspect, sub.id);
      console.info(`sync faults, hub restarted after ${received} of 2,000 changes: ${duplicatesOf(got)} duplicate deliveries seen, ${counters.duplicates} counted by the hub`);
      expectOrderPerKey(got);
      // An orderly stop lets its last batch settle; whatever it could not settle is sent again and counted as such.
      expect(duplicatesOf(got)).toBeLessThanOrEqual(counters.duplicates);
      expect(counters.duplicates).toBeLessThanOrEqual(batchSize);
    } finally {
      await inspect.close();
    }
  }, 240_000);
});
