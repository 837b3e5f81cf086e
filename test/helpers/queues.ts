// Test queues on both drivers, each isolated by a prefix of its own and cleaned up afterwards.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createBullmqQueue } from '../../src/queue/bullmq.ts';
import { createMemoryQueue } from '../../src/queue/memory.ts';
import type { Queue } from '../../src/queue/queue.ts';
import { testRedisUrl } from './env.ts';
import { hasServer } from './servers.ts';

export type QueueDriverName = 'memory' | 'bullmq';
/** The queue drivers this run tests on: in memory always, BullMQ when the run has Redis (see test/global-setup.ts). */
export function queueDrivers(): QueueDriverName[] {
  return hasServer('redis') ? ['memory', 'bullmq'] : ['memory'];
}

export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/**
 * Deletes every key under a prefix: a test's queue and limiter keys (never FLUSHDB: other test files share this Redis).
 * The one Redis clean-up of the tests.
 */
export async function deletePrefix(prefix: string, redisUrl: string = testRedisUrl): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function openTestQueue(driver: QueueDriverName, redisUrl: string = testRedisUrl): { queue: Queue; prefix: string; dispose(): Promise<void> } {
  if (driver === 'memory') {
    const queue = createMemoryQueue();
    return { queue, prefix: '', dispose: () => queue.close() };
  }
  const prefix = uniquePrefix();
  const queue = createBullmqQueue({ redisUrl, prefix });
  return {
    queue,
    prefix,
    async dispose() {
      await queue.close();
      await deletePrefix(prefix, redisUrl);
    },
  };
}

/** Redis databases a test may lease (0 is everyone's; 13 is test/outbox.redis-flush.test.ts's, which empties it). */
const leasableDbs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15];

export interface RedisDbLease {
  /** testRedisUrl on the leased database. */
  url: string;
  /** Deletes what the holder left under `prefix` there and gives the database back. */
  release(prefix: string): Promise<void>;
}

/**
 * A Redis database of the holder's own, for processes whose key prefix cannot be chosen (`tabadol serve` always uses
 * 'tabadol'): leased with SET NX on database 0, so that test runs sharing this Redis at the same time never share one
 * (the lease expires by itself after an hour should its holder die). Throws when every database is taken.
 */
export async function leaseRedisDb(): Promise<RedisDbLease> {
  const token = randomBytes(8).toString('hex');
  const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    for (const db of leasableDbs) {
      const leaseKey = `tabadol-test:redis-db-lease:${db}`;
      if ((await redis.set(leaseKey, token, 'EX', 3600, 'NX')) !== 'OK') continue;
      const url = new URL(testRedisUrl);
      url.pathname = `/${db}`;
      return {
        url: url.toString(),
        async release(prefix: string) {
          await deletePrefix(prefix, url.toString());
          const admin = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
          await admin.connect();
          try {
            if ((await admin.get(leaseKey)) === token) await admin.del(leaseKey);
          } finally {
            admin.disconnect();
          }
        },
      };
    }
  } finally {
    redis.disconnect();
  }
  throw new Error(`every leasable Redis database (${leasableDbs.join(', ')}) is leased by another test run`);
}
