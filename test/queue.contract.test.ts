// One contract for the Queue interface, run against the in-process driver and the BullMQ driver on a real Redis.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBullmqQueue } from '../src/queue/bullmq.ts';
import { createMemoryQueue } from '../src/queue/memory.ts';
import { backoffDelay, PermanentJobError, QueueUnavailableError, type Job, type Queue } from '../src/queue/queue.ts';
import { deletePrefix } from './helpers/queues.ts';
import { hasServer } from './helpers/servers.ts';
import { waitFor } from './helpers/wait.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silentLogger = { warn: () => undefined, error: () => undefined };

interface Driver {
  name: string;
  setup(): Promise<void>;
  create(): Queue;
  cleanup(): Promise<void>;
  teardown(): Promise<void>;
}

const memoryDriver: Driver = {
  name: 'memory',
  setup: async () => undefined,
  create: () => createMemoryQueue(),
  cleanup: async () => undefined,
  teardown: async () => undefined,
};

// The BullMQ driver gets a fresh key prefix per test; its keys are deleted afterwards (never FLUSHDB: Redis is shared).
function bullmqDriver(): Driver {
  let admin: Redis | undefined;
  let prefix = '';
  return {
    name: 'bullmq',
    async setup() {
      if (admin?.status === 'ready') return;
      admin = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      let lastError: unknown;
      admin.on('error', (error) => {
        lastError = error;
      });
      try {
        await admin.connect();
        await admin.ping();
      } catch (error) {
        throw new Error(
          `The bullmq queue tests need a Redis at ${redisUrl} (set REDIS_URL); it is unreachable: ${String(lastError ?? error)}`,
        );
      }
    },
    create() {
      prefix = `t-${randomBytes(6).toString('hex')}`;
      return createBullmqQueue({ redisUrl, prefix, logger: silentLogger, closeTimeoutMs: 5000 });
    },
    async cleanup() {
      if (!prefix) return;
      await deletePrefix(prefix, redisUrl);
    },
    async teardown() {
      admin?.disconnect();
    },
  };
}

function gate(): { promise: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const idle = { waiting: 0, active: 0, delayed: 0, dead: 0 };

/**
 * Waits until the marker job (added last, handled by pushing to `markers`) has run and nothing is active: the worker has
 * handled everything queued before it, so a job that must not run has had its chance and not taken it.
 */
async function markerDone(queue: Queue, topic: string, markers: unknown[]): Promise<void> {
  await waitFor(async () => {
    expect(markers).toHaveLength(1);
    expect((await queue.depth(topic)).active).toBe(0);
  }, 'the marker job handled and nothing active');
}

function queueContract(driver: Driver): void {
  describe(`queue contract: ${driver.name} driver`, () => {
    let queue: Queue;
    const topic = 'contract';

    afterAll(() => driver.teardown());
    // Checked before every test (not once in beforeAll) so that a missing Redis fails each test instead of skipping it.
    beforeEach(async () => {
      await driver.setup();
      queue = driver.create();
    });
    afterEach(async () => {
      await queue?.close();
      await driver.cleanup();
    });

    it('pings', async () => {
      await expect(queue.ping()).resolves.toBeUndefined();
      expect(queue.driver).toBe(driver.name);
    });

    it('adds a job and processes it', async () => {
      const seen: Job[] = [];
      queue.process(topic, async (job) => {
        seen.push(job);
      });
      const id = await queue.add(topic, { documentId: 'd-1' });
      await waitFor(() => expect(seen).toHaveLength(1), 'the job handled');
      expect(seen[0]).toEqual({ id, topic, data: { documentId: 'd-1' }, attemptsMade: 0, maxAttempts: 5 });
      await waitFor(async () => expect(await queue.depth(topic)).toEqual(idle), 'the queue idle');
      expect(queue.topics()).toContain(topic);
    });

    it('adds jobs in bulk', async () => {
      const ids = await queue.addBulk(topic, [{ data: { n: 1 } }, { data: { n: 2 }, options: { jobId: 'bulk-2' } }, { data: { n: 3 } }]);
      expect(ids).toHaveLength(3);
      expect(new Set(ids).size).toBe(3);
      expect(ids[1]).toBe('bulk-2');
      const seen: number[] = [];
      queue.process<{ n: number }>(topic, async (job) => {
        seen.push(job.data.n);
      });
      await waitFor(() => expect(seen.sort()).toEqual([1, 2, 3]), 'the three jobs handled');
    });

    it('dedupes by job id while the job is known, and forgets completed jobs', async () => {
      expect(await queue.add(topic, { v: 1 }, { jobId: 'order-1' })).toBe('order-1');
      expect(await queue.add(topic, { v: 2 }, { jobId: 'order-1' })).toBe('order-1');
      expect(await queue.depth(topic)).toEqual({ ...idle, waiting: 1 });

      const seen: unknown[] = [];
      const worker = queue.process(topic, async (job) => {
        seen.push(job.data);
      });
      await waitFor(() => expect(seen).toEqual([{ v: 1 }]), 'the first job handled');
      await waitFor(async () => expect(await queue.depth(topic)).toEqual(idle), 'the queue idle');

      expect(await queue.add(topic, { v: 3 }, { jobId: 'order-1' })).toBe('order-1');
      await waitFor(() => expect(seen).toEqual([{ v: 1 }, { v: 3 }]), 'the third job handled');
      await worker.close();
    });

    it('rejects job ids with a colon or made of digits only', async () => {
      await expect(queue.add(topic, {}, { jobId: 'a:b' })).rejects.toThrow(/must not contain/);
      await expect(queue.add(topic, {}, { jobId: '123' })).rejects.toThrow(/must not contain/);
    });

    it('rejects topic names with a colon', async () => {
      await expect(queue.add('a:b', {})).rejects.toThrow(/:/);
      expect(() => queue.process('a:b', async () => undefined)).toThrow(/:/);
    });

    it('runs up to `concurrency` handlers at once', async () => {
      const release = gate();
      let inFlight = 0;
      let maxInFlight = 0;
      let done = 0;
      queue.process(
        topic,
        async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await release.promise;
          inFlight--;
          done++;
        },
        { concurrency: 3 },
      );
      await queue.addBulk(topic, Array.from({ length: 6 }, (_, n) => ({ data: { n } })));
      await waitFor(() => expect(maxInFlight).toBe(3), 'three jobs in flight');
      // The queue shows the worker took its three and left the rest waiting for a free slot (not taken, not started).
      await waitFor(async () => expect(await queue.depth(topic)).toMatchObject({ waiting: 3, active: 3 }), 'three active and three waiting');
      expect(inFlight).toBe(3);
      release.open();
      await waitFor(() => expect(done).toBe(6), 'all six jobs done');
      expect(maxInFlight).toBe(3);
    });

    it('retries with backoff, then succeeds', async () => {
      const attempts: number[] = [];
      queue.process(topic, async (job) => {
        attempts.push(job.attemptsMade);
        if (job.attemptsMade < 2) throw new Error('transient');
      });
      await queue.add(topic, {}, { attempts: 3, backoffMs: 10 });
      await waitFor(() => expect(attempts).toEqual([0, 1, 2]), 'three attempts');
      await waitFor(async () => expect(await queue.depth(topic)).toEqual(idle), 'the queue idle');
      expect(await queue.deadLetters(topic)).toEqual([]);
    });

    it('moves a job to the dead letters once its attempts are exhausted', async () => {
      let calls = 0;
      const markers: unknown[] = [];
      queue.process(topic, async (job) => {
        // A marker job, queued after a job that must not run, proves by running that the worker got past that one.
        if ((job.data as { marker?: boolean }).marker) return void markers.push(job.data);
        calls++;
        throw new Error('upstream said 503');
      });
      const before = Date.now();
      const id = await queue.add(topic, { documentId: 'd-9' }, { attempts: 2, backoffMs: 10, jobId: 'dead-1' });
      await waitFor(async () => expect((await queue.depth(topic)).dead).toBe(1), 'the job dead');
      expect(calls).toBe(2);

      const letters = await queue.deadLetters(topic);
      expect(letters).toHaveLength(1);
      const letter = letters[0];
      expect(letter).toMatchObject({ id, topic, data: { documentId: 'd-9' }, attemptsMade: 2, failedReason: 'upstream said 503' });
      expect(letter?.failedAt).toBeInstanceOf(Date);
      expect(letter?.failedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(await queue.inspectDeadLetter(topic, id)).toEqual(letter);
      expect(await queue.inspectDeadLetter(topic, 'no-such-job')).toBeUndefined();

      // A dead job still holds its id.
      expect(await queue.add(topic, { again: true }, { jobId: 'dead-1' })).toBe('dead-1');
      await queue.add(topic, { marker: true });
      await markerDone(queue, topic, markers);
      expect(calls).toBe(2);
      expect(await queue.depth(topic)).toEqual({ ...idle, dead: 1 });
    });

    it('sends a PermanentJobError to the dead letters at the first attempt', async () => {
      let calls = 0;
      const markers: unknown[] = [];
      queue.process(topic, async (job) => {
        if ((job.data as { marker?: boolean }).marker) return void markers.push(job.data);
        calls++;
        throw new PermanentJobError('invalid CIN');
      });
      const id = await queue.add(topic, {}, { attempts: 5, backoffMs: 10 });
      await waitFor(async () => expect(await queue.inspectDeadLetter(topic, id)).toMatchObject({ attemptsMade: 1, failedReason: 'invalid CIN' }), 'the dead letter');
      // Dead is final: a marker queued now runs once the worker is past that job, with no late attempt of it in between.
      await queue.add(topic, { marker: true });
      await markerDone(queue, topic, markers);
      expect(calls).toBe(1);
    });

    it('replays a dead letter with a fresh set of attempts', async () => {
      const attempts: number[] = [];
      let fail = true;
      queue.process(topic, async (job) => {
        attempts.push(job.attemptsMade);
        if (fail) throw new Error('down');
      });
      const id = await queue.add(topic, { x: 1 }, { attempts: 2, backoffMs: 10 });
      await waitFor(async () => expect((await queue.depth(topic)).dead).toBe(1), 'the job dead');
      expect(attempts).toEqual([0, 1]);

      fail = false;
      expect(await queue.replay(topic, id)).toBe(true);
      await waitFor(() => expect(attempts).toEqual([0, 1, 0]), 'the replayed job handled');
      await waitFor(async () => expect(await queue.depth(topic)).toEqual(idle), 'the queue idle');
      expect(await queue.inspectDeadLetter(topic, id)).toBeUndefined();
      expect(await queue.replay(topic, id)).toBe(false);
      expect(await queue.replay(topic, 'no-such-job')).toBe(false);
    });

    it('counts waiting, active, delayed and dead jobs', async () => {
      expect(await queue.depth(topic)).toEqual(idle);
      await queue.add(topic, { n: 1 });
      await queue.add(topic, { n: 2 });
      await queue.add(topic, { n: 3 }, { delayMs: 60_000 });
      expect(await queue.depth(topic)).toEqual({ waiting: 2, active: 0, delayed: 1, dead: 0 });

      const release = gate();
      queue.process(topic, () => release.promise);
      await waitFor(async () => expect(await queue.depth(topic)).toEqual({ waiting: 1, active: 1, delayed: 1, dead: 0 }), 'one waiting, one active, one delayed');
      release.open();
      await waitFor(async () => expect(await queue.depth(topic)).toEqual({ waiting: 0, active: 0, delayed: 1, dead: 0 }), 'the active job done');
    });

    it('runs a delayed job after its delay', async () => {
      const seen: unknown[] = [];
      const markers: unknown[] = [];
      queue.process(topic, async (job) => {
        if ((job.data as { marker?: boolean }).marker) return void markers.push(job.data);
        seen.push(job.data);
      });
      await queue.add(topic, { late: true }, { delayMs: 1000 });
      // A job added after it without a delay runs first: the worker was there, and the delayed job waited.
      await queue.add(topic, { marker: true });
      await markerDone(queue, topic, markers);
      expect(seen).toEqual([]);
      await waitFor(() => expect(seen).toEqual([{ late: true }]), 'the delayed job handled');
    });

    it('worker.close() waits for the job in flight and then takes no more jobs', async () => {
      const started = gate();
      const release = gate();
      const events: string[] = [];
      const worker = queue.process(topic, async (job) => {
        events.push(`start ${String((job.data as { n: number }).n)}`);
        started.open();
        await release.promise;
        events.push('end');
      });
      await queue.add(topic, { n: 1 });
      await started.promise;
      // The witness: job 2 waits behind job 1 (one slot), so it is the very next job this worker would take.
      await queue.add(topic, { n: 2 });
      await waitFor(async () => expect(await queue.depth(topic)).toEqual({ ...idle, waiting: 1, active: 1 }), 'job 2 waiting behind job 1');

      const closing = worker.close().then(() => events.push('closed'));
      release.open();
      await closing;
      // close() returned after the job in flight ended, and that job was recorded as done (a close that had not waited
      // would have returned first, or left it active); and the worker took no more jobs: job 2 is still waiting.
      expect(events).toEqual(['start 1', 'end', 'closed']);
      expect(await queue.depth(topic)).toEqual({ ...idle, waiting: 1 });
    });

    it('close() waits for jobs in flight, then refuses new jobs', async () => {
      const started = gate();
      const release = gate();
      const events: string[] = [];
      queue.process(topic, async () => {
        started.open();
        await release.promise;
        events.push('end');
      });
      await queue.add(topic, {});
      await started.promise;
      const closing = queue.close().then(() => events.push('closed'));
      release.open();
      await closing;
      expect(events).toEqual(['end', 'closed']);
      await expect(queue.add(topic, {})).rejects.toBeInstanceOf(QueueUnavailableError);
      await expect(queue.ping()).rejects.toBeInstanceOf(QueueUnavailableError);
    });

    it('lists the topics it has used', async () => {
      await queue.add('topic-a', {});
      const worker = queue.process('topic-b', async () => undefined);
      expect(queue.topics().sort()).toEqual(['topic-a', 'topic-b']);
      await worker.close();
    });
  });
}

describe('backoffDelay', () => {
  it('waits between half and all of base * 2^(n-1)', () => {
    for (let attempt = 1; attempt <= 6; attempt++) {
      const ceiling = 100 * 2 ** (attempt - 1);
      expect(backoffDelay(100, attempt, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(100, attempt, () => 0.999999)).toBe(ceiling);
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(100, attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('treats attempt 0 like attempt 1', () => {
    expect(backoffDelay(1000, 0, () => 1)).toBe(1000);
    expect(backoffDelay(1000, 0, () => 0)).toBe(500);
  });
});

for (const driver of hasServer('redis') ? [memoryDriver, bullmqDriver()] : [memoryDriver]) queueContract(driver);
