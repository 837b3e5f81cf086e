// Losing Redis: the BullMQ driver fails fast with QueueUnavailableError and recovers by itself (TCP proxy, real Redis untouched).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBullmqQueue } from '../src/queue/bullmq.ts';
import { QueueUnavailableError, type Queue } from '../src/queue/queue.ts';
import { deletePrefix } from './helpers/queues.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { hasServer } from './helpers/servers.ts';

const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const topic = 'fault';

describe.runIf(hasServer('redis'))('bullmq driver when Redis is lost', () => {
  let admin: Redis;
  let proxy: TcpProxy;
  let queue: Queue;
  let prefix: string;
  const logged: string[] = [];
  const logger = {
    warn: (_obj: object, msg?: string) => void logged.push(`warn ${msg ?? ''}`),
    error: (_obj: object, msg?: string) => void logged.push(`error ${msg ?? ''}`),
  };

  beforeAll(async () => {
    admin = new Redis(redisUrl.href, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    let lastError: unknown;
    admin.on('error', (error) => {
      lastError = error;
    });
    try {
      await admin.connect();
    } catch (error) {
      throw new Error(`These tests need a Redis at ${redisUrl.href} (set REDIS_URL); it is unreachable: ${String(lastError ?? error)}`);
    }
  });
  afterAll(() => {
    admin?.disconnect();
  });

  beforeEach(async () => {
    logged.length = 0;
    proxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    prefix = `t-${randomBytes(6).toString('hex')}`;
    // The proxy only carries the TCP stream, so the real URL's credentials and database still apply.
    const viaProxy = new URL(redisUrl.href);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    queue = createBullmqQueue({ redisUrl: viaProxy.href, prefix, logger, closeTimeoutMs: 2000 });
  });

  afterEach(async () => {
    proxy.restore();
    await queue.close();
    await proxy.close();
    await deletePrefix(prefix, redisUrl.href);
  });

  it('fails fast while cut off, then recovers without a new queue object', { timeout: 30_000 }, async () => {
    const seen: number[] = [];
    queue.process<{ n: number }>(topic, async (job) => {
      seen.push(job.data.n);
    });
    await queue.ping();
    await queue.add(topic, { n: 1 });
    await vi.waitFor(() => expect(seen).toEqual([1]), { timeout: 5000 });

    proxy.cut();
    // Once a client has tried to reconnect, every connection has seen the cut: the producer is not ready.
    await vi.waitFor(() => expect(proxy.refused).toBeGreaterThan(0), { timeout: 10_000 });

    // Fail fast: the call gives up after the short wait for a connection (pingTimeoutMs, which its message names) and
    // sends nothing into the void, so it never ends on the 5 s command timeout (its message would say "timed out").
    const fastFailure = /^Redis is unreachable \(connection \w+\)$/;
    await expect(queue.ping()).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(queue.ping()).rejects.toThrow(fastFailure);
    await expect(queue.add(topic, { n: 2 })).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(queue.add(topic, { n: 2 })).rejects.toThrow(fastFailure);
    await expect(queue.depth(topic)).rejects.toBeInstanceOf(QueueUnavailableError);

    proxy.restore();

    // ioredis reconnects by itself (its retry delay grows to 2 s at most).
    await vi.waitFor(() => queue.ping(), { timeout: 10_000, interval: 200 });
    await queue.add(topic, { n: 3 });
    // The worker created before the outage picks the job up: it has reconnected too.
    await vi.waitFor(() => expect(seen).toEqual([1, 3]), { timeout: 10_000 });
    expect(logged.some((line) => line.startsWith('warn queue: Redis producer connection error'))).toBe(true);
  });

  it('close() does not hang while Redis is unreachable', { timeout: 30_000 }, async () => {
    queue.process(topic, async () => undefined);
    await queue.add(topic, {});
    await vi.waitFor(async () => expect((await queue.depth(topic)).waiting).toBe(0), { timeout: 5000 });

    proxy.cut();
    // Returns while Redis is still cut (a hang would end on the test's timeout), and closed: nothing more is accepted.
    // An idle worker may close by itself or end on the closeTimeoutMs bound (both seen), so no warning is asserted here.
    await queue.close();
    await expect(queue.add(topic, {})).rejects.toThrow('queue is closed');
  });

  it('close() does not hang while a job finishes during the outage', { timeout: 30_000 }, async () => {
    let release = (): void => undefined;
    const started = new Promise<void>((resolveStarted) => {
      queue.process(topic, () => {
        resolveStarted();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      });
    });
    await queue.add(topic, {});
    await started;

    proxy.cut();
    const closing = queue.close();
    release();
    // Returns while Redis is still cut (a hang would end on the test's timeout): the worker cannot record the finished
    // job, so close() ends on the closeTimeoutMs bound, as the warning says; and closed: nothing more is accepted.
    await closing;
    expect(logged).toContain('warn queue: worker did not close in time, disconnecting from Redis');
    await expect(queue.add(topic, {})).rejects.toThrow('queue is closed');
  });
});
