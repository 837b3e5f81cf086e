// BullMQ driver of the Queue interface: one BullMQ Queue per topic, one BullMQ Worker per process() call, on Redis.
import { Queue as BullQueue, UnrecoverableError, Worker as BullWorker, type Job as BullJob, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import {
  assertJobId,
  defaultJobOptions,
  PermanentJobError,
  QueueUnavailableError,
  type DeadLetter,
  type JobHandler,
  type JobOptions,
  type ProcessOptions,
  type Queue,
  type Worker,
} from './queue.ts';

export interface QueueLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BullmqQueueOptions {
  redisUrl: string;
  /** Redis key prefix (default 'tabadol'). */
  prefix?: string;
  logger?: QueueLogger;
  /** How long close() waits for in-flight jobs and Redis before disconnecting hard (default 10 s). */
  closeTimeoutMs?: number;
}

/** Bound on ping() and on waiting for a (re)connecting producer: /readyz and HTTP producers must answer quickly. */
const pingTimeoutMs = 1000;
/** Bound on any single producer command, so a black-holed connection cannot hang add(). */
const commandTimeoutMs = 5000;
/** Same error logged at most once per window: ioredis reports every reconnection attempt while Redis is down. */
const logWindowMs = 30_000;

const consoleLogger: QueueLogger = {
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};

// ioredis and BullMQ error messages that mean "Redis is not reachable" rather than a bug or bad input.
const connectionErrorPattern =
  /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|enableOfflineQueue|Reached the max retries/i;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueueUnavailableError(message)), ms);
  });
  // The losing promise may still reject later; that rejection is expected and must not be unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves true if the promise settled within ms, false on timeout. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  try {
    await withTimeout(promise, ms, 'timeout');
    return true;
  } catch (error) {
    return !(error instanceof QueueUnavailableError && error.message === 'timeout');
  }
}

function throttledLog(logger: QueueLogger, level: 'warn' | 'error', msg: string, context: object): (error: Error) => void {
  const last = new Map<string, number>();
  return (error) => {
    const now = Date.now();
    if ((last.get(error.message) ?? 0) + logWindowMs > now) return;
    last.set(error.message, now);
    logger[level]({ ...context, err: { name: error.name, message: error.message } }, msg);
  };
}

// Long as a whole, short in its parts: one closure holding the driver's state (connections, queues, workers), whose
// methods (add, process, replay, depth, close…) are each a few lines; split apart they would pass that state around.
export function createBullmqQueue(options: BullmqQueueOptions): Queue {
  const prefix = options.prefix ?? 'tabadol';
  const logger = options.logger ?? consoleLogger;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;

  // Producer connection, shared by every topic's BullMQ Queue. Without the offline queue, commands fail at once while
  // Redis is down instead of piling up forever (BullMQ docs, "Going to production"); ioredis keeps reconnecting.
  const producer = new Redis(options.redisUrl, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
  });
  producer.on('error', throttledLog(logger, 'warn', 'queue: Redis producer connection error', { prefix }));

  const queues = new Map<string, BullQueue>();
  const workers = new Set<{ close(): Promise<void> }>();
  const used = new Set<string>();
  let closed = false;

  function bullQueue(topic: string): BullQueue {
    let queue = queues.get(topic);
    if (!queue) {
      queue = new BullQueue(topic, { connection: producer, prefix });
      // The producer connection's own listener logs connection errors; without a listener the re-emit would throw.
      queue.on('error', () => undefined);
      queues.set(topic, queue);
    }
    return queue;
  }

  // Waits a short while for a connecting producer (startup, reconnect in progress), fails fast otherwise.
  async function producerReady(): Promise<void> {
    if (closed || producer.status === 'end') throw new QueueUnavailableError('queue is closed');
    if (producer.status === 'ready') return;
    let onReady = (): void => undefined;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      producer.once('ready', onReady);
    });
    try {
      await withTimeout(ready, pingTimeoutMs, `Redis is unreachable (connection ${producer.status})`);
    } finally {
      // Otherwise every call during an outage would leave a listener behind.
      producer.off('ready', onReady);
    }
  }

  // Runs a producer operation, turning connection failures into QueueUnavailableError so callers can answer 503.
  async function guarded<T>(operation: () => Promise<T>): Promise<T> {
    await producerReady();
    try {
      return await operation();
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw error;
      if (producer.status !== 'ready' || (error instanceof Error && connectionErrorPattern.test(error.message))) {
        throw new QueueUnavailableError(`Redis is unreachable: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  function jobsOptions(jobOptions: JobOptions = {}): JobsOptions {
    if (jobOptions.jobId !== undefined) assertJobId(jobOptions.jobId);
    return {
      jobId: jobOptions.jobId,
      attempts: jobOptions.attempts ?? defaultJobOptions.attempts,
      // BullMQ's exponential backoff with jitter 0.5 waits a random delay in [base*2^(n-1)/2, base*2^(n-1)], i.e. backoffDelay().
      backoff: { type: 'exponential', delay: jobOptions.backoffMs ?? defaultJobOptions.backoffMs, jitter: 0.5 },
      delay: jobOptions.delayMs,
      // Completed jobs are forgotten (their id can be reused); failed jobs stay: they are the dead letters.
      removeOnComplete: true,
      removeOnFail: false,
    };
  }

  function toDeadLetter(topic: string, job: BullJob): DeadLetter {
    return {
      id: String(job.id),
      topic,
      data: job.data as unknown,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason,
      failedAt: new Date(job.finishedOn ?? job.timestamp),
    };
  }

  async function failedJob(topic: string, id: string): Promise<BullJob | undefined> {
    const job = await bullQueue(topic).getJob(id);
    if (!job || (await job.getState()) !== 'failed') return undefined;
    return job;
  }

  return {
    driver: 'bullmq',

    async add(topic, data, jobOptions) {
      const opts = jobsOptions(jobOptions);
      used.add(topic);
      return guarded(async () => String((await bullQueue(topic).add(topic, data, opts)).id));
    },

    async addBulk(topic, jobs) {
      const entries = jobs.map((job) => ({ name: topic, data: job.data, opts: jobsOptions(job.options) }));
      used.add(topic);
      return guarded(async () => (await bullQueue(topic).addBulk(entries)).map((job) => String(job.id)));
    },

    process<Data>(topic: string, handler: JobHandler<Data>, processOptions: ProcessOptions = {}): Worker {
      if (closed) throw new QueueUnavailableError('queue is closed');
      used.add(topic);
      // The worker's own connection; BullMQ uses it for its commands and duplicates it for the blocking one. We keep
      // every client so close() can end them: BullMQ leaves a caller-supplied client open, and cannot QUIT a dead one.
      // maxRetriesPerRequest: null is required for blocking commands, and lets a finished job be recorded after an outage.
      const connection = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
      const owned: Redis[] = [connection];
      connection.duplicate = (override?: Partial<RedisOptions>): Redis => {
        const client = Redis.prototype.duplicate.call(connection, override);
        owned.push(client);
        return client;
      };
      const worker = new BullWorker(
        topic,
        async (job: BullJob) => {
          try {
            await handler({
              id: String(job.id),
              topic,
              data: job.data as Data,
              attemptsMade: job.attemptsMade,
              maxAttempts: job.opts.attempts ?? 1,
            });
          } catch (error) {
            // UnrecoverableError makes BullMQ fail the job without using the remaining attempts.
            if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
            throw error instanceof Error ? error : new Error(String(error));
          }
        },
        {
          connection,
          prefix,
          concurrency: Math.max(1, processOptions.concurrency ?? 1),
          // BullMQ waits runRetryDelay (15 s by default) after a Redis failure; be back soon after an outage ends.
          runRetryDelay: 1000,
        },
      );
      // A worker emits 'error' on every Redis hiccup; it must be handled or the process would crash.
      worker.on('error', throttledLog(logger, 'error', 'queue: worker error', { prefix, topic }));

      let closing: Promise<void> | undefined;
      const handle = {
        close(): Promise<void> {
          closing ??= (async () => {
            const bullClosing = worker.close();
            if (!(await settlesWithin(bullClosing, closeTimeoutMs))) {
              logger.warn({ prefix, topic, closeTimeoutMs }, 'queue: worker did not close in time, disconnecting from Redis');
            }
            // Ends whatever is still open, so no client keeps reconnecting (and the process alive) after close().
            for (const client of owned) client.disconnect();
            await settlesWithin(bullClosing, 1000);
            workers.delete(handle);
          })();
          return closing;
        },
      };
      workers.add(handle);
      return handle;
    },

    async deadLetters(topic, listOptions = {}) {
      const limit = listOptions.limit ?? 100;
      const jobs = await guarded(() => bullQueue(topic).getFailed(0, limit - 1));
      return jobs.map((job) => toDeadLetter(topic, job));
    },

    async inspectDeadLetter(topic, id) {
      const job = await guarded(() => failedJob(topic, id));
      return job && toDeadLetter(topic, job);
    },

    async replay(topic, id) {
      return guarded(async () => {
        const job = await failedJob(topic, id);
        if (!job) return false;
        // A fresh set of attempts, as if the job had just been added.
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return true;
      });
    },

    async depth(topic) {
      const counts = await guarded(() =>
        // BullMQ 6 has no separate 'paused' state any more: jobs of a paused queue stay in 'waiting'.
        bullQueue(topic).getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
      );
      const count = (key: string): number => counts[key] ?? 0;
      return {
        waiting: count('waiting') + count('prioritized'),
        active: count('active'),
        delayed: count('delayed'),
        dead: count('failed'),
      };
    },

    topics() {
      return [...used];
    },

    async ping() {
      try {
        await producerReady();
        await withTimeout(producer.ping(), pingTimeoutMs, 'Redis PING timed out');
      } catch (error) {
        if (error instanceof QueueUnavailableError) throw error;
        throw new QueueUnavailableError(`Redis is unreachable: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...workers].map((worker) => worker.close()));
      // Queues share the producer connection, so closing them sends nothing to Redis; bound it anyway.
      await Promise.all([...queues.values()].map((queue) => settlesWithin(queue.close(), 1000)));
      if (!(await settlesWithin(producer.quit(), 1000))) producer.disconnect();
      producer.disconnect();
    },
  };
}
