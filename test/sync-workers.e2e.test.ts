// Push delivery by real `tabadol worker` and `tabadol serve` processes on one PostgreSQL + Redis (issue 14 item 7 and
// "Faults"): several processes share a subscription's work with no change sent twice when nothing fails, in order per
// record key; a worker killed with SIGKILL mid-batch leaves its batch to another, which sends it again and counts it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubscription, setSubscriptionState, type Subscription, type SubscriptionInput } from '../src/sync/subscriptions.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { FeedWriter } from './helpers/change-feed.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';
import { runTabadol, startServe, type RunningHub } from './helpers/process.ts';
import { deletePrefix } from './helpers/queues.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription, startSubscriber, type TestSubscriber } from './helpers/sync-world.ts';
import { duplicatesOf, expectOrderPerKey, hubCounters } from './helpers/sync-checks.ts';

const purpose = 'fiscal-registry-sync';

/**
 * The processes' Redis: a database of its own (they use the default queue prefix, which other end-to-end tests' hubs
 * use too on database 0), emptied of that prefix afterwards.
 */
const processRedisUrl = (() => {
  const url = new URL(testRedisUrl);
  url.pathname = '/13';
  return url.toString();
})();

interface WorkerProcess {
  pid: number;
  exited: Promise<number | null>;
  signal(): NodeJS.Signals | null;
  stop(): Promise<void>;
}

/** Starts `tabadol worker` and resolves once it says it runs. */
async function startWorker(settings: Record<string, string>): Promise<WorkerProcess> {
  const run = runTabadol(['worker'], settings);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in time:\n${run.stderr()}`)), 60_000);
    const check = () => {
      if (!run.stderr().includes('tabadol worker for')) return;
      clearTimeout(timer);
      resolve();
    };
    run.child.stderr?.on('data', check);
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${run.stdout()}\n${run.stderr()}`));
    });
    check();
  });
  return {
    pid: run.child.pid ?? 0,
    exited: run.exited,
    signal: () => run.child.signalCode,
    async stop() {
      if (run.child.exitCode !== null || run.child.signalCode !== null) return;
      run.child.kill('SIGTERM');
      const killer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      await run.exited;
      clearTimeout(killer);
    },
  };
}

describe.runIf(hasServer('postgres') && hasServer('redis'))('push delivery by several tabadol processes, on PostgreSQL + Redis', () => {
  let world!: ExchangeWorld;
  let member!: Consumer;
  let subscriber!: TestSubscriber;
  let dataDir!: string;
  const running: Array<() => Promise<unknown>> = [];

  /** The settings of a real process on the world's database schema (search_path), hub id and hub key. */
  const settings = (more: Record<string, string>): Record<string, string> => {
    const url = new URL(testDatabaseUrl);
    url.searchParams.set('options', `-c search_path=${world.schema ?? 'public'},public`);
    return { DATABASE_URL: url.toString(), REDIS_URL: processRedisUrl, HUB_ID: world.hubId, HUB_KEY_FILE: world.hubKeyFile, DATA_DIR: dataDir, SYNC_TICK_MS: '50', ...more };
  };
  const subscribe = (input: Partial<SubscriptionInput>): Promise<Subscription> =>
    createSubscription(
      { db: world.db, findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['companies'] },
      { subscriber: member.id, referential: 'companies', purpose, mode: 'push', target: subscriber.url, actor: 'test', ...input },
    );
  const of = (sub: Subscription) => subscriber.changes().filter((c) => c.id.startsWith(`${sub.id}:`));
  const distinct = (sub: Subscription) => new Set(of(sub).map((c) => c.id)).size;

  beforeAll(async () => {
    // The world sets up the database (members, conventions) and runs no workers: the processes do the work.
    world = await startExchangeWorld({ storage: 'pg', redis: false, workers: false });
    member = await world.registerConsumer('MA/GOV/DGI/registre-fiscal');
    await allowSubscription(world, member, { referential: 'companies', purpose, fields: ['changes.record.attributes.ice'] });
    subscriber = await startSubscriber(world);
    dataDir = mkdtempSync(join(tmpdir(), 'tabadol-sync-workers-'));
  }, 120_000);
  afterAll(async () => {
    for (const stop of running.reverse()) await stop().catch(() => undefined);
    await subscriber?.close();
    await world?.close();
    await deletePrefix('tabadol', processRedisUrl);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('two tabadol worker processes and a serve process share a subscription: every change once, in order per record', async () => {
    // The default lease (30 s): no batch outlives it, so no sender ever takes over another's batch.
    const [a, b, c] = await Promise.all([startWorker(settings({})), startWorker(settings({})), startServe(settings({}))]);
    running.push(() => (a as WorkerProcess).stop(), () => (b as WorkerProcess).stop(), () => (c as RunningHub).stop());
    try {
      const sub = await subscribe({ batchSize: 25 });
      // Which process holds the subscription's lease, sampled while they work (told, not asserted: any may win each turn).
      const owners = new Set<string>();
      const sampler = setInterval(() => {
        void world.db.query<{ o: string | null }>('SELECT lease_owner AS o FROM sync_subscriptions WHERE id = $1', [sub.id]).then(({ rows }) => {
          if (rows[0]?.o) owners.add(rows[0].o.split(':')[1] ?? '');
        }, () => undefined); // a sample lost while the world closes is only a figure less
      }, 20);
      const feed = new FeedWriter(world.db, { keys: 200, idPrefix: 'share-' });
      for (let i = 0; i < 6; i++) await feed.append(500);
      await subscriber.until(() => distinct(sub) === 3000, 'all 3,000 changes', 120_000);
      clearInterval(sampler);
      await expect.poll(() => hubCounters(world.db, sub.id), { timeout: 30_000 }).toMatchObject({ delivered: 3000, pending: 0, dead: 0, duplicates: 0 });
      const got = of(sub);
      console.info(`sync workers: 3,000 changes by 3 processes; lease held by pids ${[...owners].join(', ')}; ${duplicatesOf(got)} duplicates`);
      expect(duplicatesOf(got)).toBe(0);
      expectOrderPerKey(got);
      await setSubscriptionState(world.db, sub.id, 'ended', 'test');
    } finally {
      await Promise.all([(a as WorkerProcess).stop(), (b as WorkerProcess).stop(), (c as RunningHub).stop()]);
    }
  }, 240_000);

  it('a worker killed with SIGKILL mid-batch: the other finishes the work, nothing is lost, and the batch sent twice is counted', async () => {
    // A short lease: the killed worker's hold on the subscription lapses within a second.
    const workers = await Promise.all([startWorker(settings({ SYNC_LEASE_SECONDS: '1' })), startWorker(settings({ SYNC_LEASE_SECONDS: '1' }))]);
    for (const w of workers) running.push(() => w.stop());
    try {
      const batchSize = 20;
      const sub = await subscribe({ batchSize });
      // The subscriber is slow (50 ms a push); on its 5th push it holds the answer for 3 s and tells the test, which
      // kills the sender waiting for that answer.
      let pushes = 0;
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      subscriber.behave(() => {
        pushes++;
        if (pushes === 5) {
          holding();
          return { status: 204, delayMs: 3000 };
        }
        return { status: 204, delayMs: 50 };
      });
      await new FeedWriter(world.db, { keys: 100, idPrefix: 'kill-' }).append(1000);
      await held;
      const { rows } = await world.db.query<{ owner: string | null }>('SELECT lease_owner AS owner FROM sync_subscriptions WHERE id = $1', [sub.id]);
      const victim = workers.find((w) => rows[0]?.owner?.split(':')[1] === String(w.pid));
      expect(victim, `the lease owner ${rows[0]?.owner ?? 'none'} is one of the workers`).toBeDefined();
      process.kill(victim?.pid ?? 0, 'SIGKILL');
      await victim?.exited;
      expect(victim?.signal()).toBe('SIGKILL');

      await subscriber.until(() => distinct(sub) === 1000, 'all 1,000 changes after the kill', 120_000);
      await expect.poll(() => hubCounters(world.db, sub.id), { timeout: 30_000 }).toMatchObject({ delivered: 1000, pending: 0, dead: 0 });
      const got = of(sub);
      const counters = await hubCounters(world.db, sub.id);
      console.info(`sync workers, SIGKILL mid-batch: ${duplicatesOf(got)} duplicate deliveries seen by the subscriber, ${counters.duplicates} counted by the hub`);
      expectOrderPerKey(got);
      // The killed batch reached the subscriber (it answered after the kill) and was sent again by the survivor, which
      // found it marked in flight and counted it: every duplicate the subscriber saw, the hub counted.
      expect(duplicatesOf(got)).toBeGreaterThan(0);
      expect(duplicatesOf(got)).toBeLessThanOrEqual(counters.duplicates);
      expect(counters.duplicates).toBeLessThanOrEqual(batchSize);
      await setSubscriptionState(world.db, sub.id, 'ended', 'test');
    } finally {
      subscriber.behave(() => ({ status: 204 }));
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 240_000);
});
