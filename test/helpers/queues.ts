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
