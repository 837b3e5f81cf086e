// Entry point of the queue module: picks the driver (BullMQ when REDIS_URL is set, in-process otherwise).
import { createBullmqQueue, type QueueLogger } from './bullmq.ts';
import { createMemoryQueue } from './memory.ts';
import type { Queue } from './queue.ts';

export * from './queue.ts';
export { createBullmqQueue, type BullmqQueueOptions, type QueueLogger } from './bullmq.ts';
export { createMemoryQueue } from './memory.ts';

export interface CreateQueueOptions {
  /** Without it the queue lives in this process only: fine for development and tests, not for a multi-process deployment. */
  redisUrl?: string;
  prefix?: string;
  logger?: QueueLogger;
}

export function createQueue(options: CreateQueueOptions = {}): Queue {
  return options.redisUrl
    ? createBullmqQueue({ redisUrl: options.redisUrl, prefix: options.prefix, logger: options.logger })
    : createMemoryQueue();
}
