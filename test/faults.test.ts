// Losing PostgreSQL or Redis after start: /readyz says so, requests get 503 problems, nothing in the outbox is lost,
// and the hub recovers by itself. The connections are cut through a proxy the test controls; the real servers keep running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.ts';
import { createBullmqQueue } from '../src/queue/bullmq.ts';
import { createMemoryQueue } from '../src/queue/memory.ts';
import { OutboxRelay, processOutbox, writeOutbox } from '../src/queue/outbox.ts';
import { openDatabase } from '../src/storage/index.ts';
import type { Db } from '../src/storage/db.ts';
import type { Queue } from '../src/queue/queue.ts';
import { dropSchema, openTestDb, uniqueSchema, type TestDb } from './helpers/db.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';
import { buildTestApp, captureLogger } from './helpers/hub.ts';
import { deletePrefix, uniquePrefix } from './helpers/queues.ts';
import { hasServer } from './helpers/servers.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { waitFor } from './helpers/wait.ts';

const logger = createLogger('silent');

function through(proxy: TcpProxy, url: string): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString();
}

describe.runIf(hasServer('postgres'))('PostgreSQL lost after start', () => {
  let proxy: TcpProxy;
  let db: Db;
  let queue: Queue;
  const schema = uniqueSchema();
  let built: ReturnType<typeof buildTestApp>;

  beforeAll(async () => {
    const target = new URL(testDatabaseUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    db = await openDatabase({ databaseUrl: through(proxy, testDatabaseUrl), dataDir: '', schema, onError: () => undefined });
    queue = createMemoryQueue();
    built = buildTestApp(db, queue);
    // A route that needs the database, as every business route will.
    built.app.get('/test/needs-db', async (c) => c.json((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]));
  });
  afterAll(async () => {
    await queue.close();
    await db.close();
    await proxy.close();
    await dropSchema(schema);
  });

  it('answers 503 while it is gone and recovers without a restart', async () => {
    expect((await built.app.request('/readyz')).status).toBe(200);
    expect((await built.app.request('/test/needs-db')).status).toBe(200);

    proxy.cut();
    const ready = await built.app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toBe('application/problem+json');
    const body = (await ready.json()) as { type: string; checks: { database: string; queue: string } };
    expect(body.type).toBe('urn:tabadol:problem:not-ready');
    expect(body.checks.database).toMatch(/^unreachable/);
    expect(body.checks.queue).toBe('ok');

    const refused = await built.app.request('/test/needs-db');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { type: string }).type).toBe('urn:tabadol:problem:database-unavailable');

    proxy.restore();
    await waitFor(async () => {
      expect((await built.app.request('/readyz')).status).toBe(200);
    }, 'readiness once PostgreSQL is back');
    const back = await built.app.request('/test/needs-db');
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual({ n: 0 });
  });
});

describe.runIf(hasServer('postgres') && hasServer('redis'))('Redis lost after start', () => {
  let proxy: TcpProxy;
  let t: TestDb;
  let queue: Queue;
  const prefix = uniquePrefix();
  let built: ReturnType<typeof buildTestApp>;

  beforeAll(async () => {
    const target = new URL(testRedisUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    t = await openTestDb('pg');
    queue = createBullmqQueue({ redisUrl: through(proxy, testRedisUrl), prefix, logger });
    built = buildTestApp(t.db, queue);
    await t.db.query('CREATE TABLE handled (outbox_id bigint NOT NULL)');
  });
  afterAll(async () => {
    await queue.close();
    await proxy.close();
    await deletePrefix(prefix);
    await t.dispose();
  });

  it('answers 503 on /readyz, keeps every outbox row written meanwhile, and delivers them all when Redis is back', async () => {
    const worker = processOutbox({ db: t.db, queue, logger }, 'during-outage', async (_payload, tx, meta) => {
      await tx.query('INSERT INTO handled VALUES ($1)', [meta.outboxId]);
    });
    // The relay's own log says when a pass failed: the proof that it tried while Redis was gone.
    const relayLog = captureLogger('warn');
    const failedPasses = () => relayLog.lines.filter((line) => line.includes('outbox relay pass failed')).length;
    const relay = new OutboxRelay({ db: t.db, queue, logger: relayLog.logger, pollIntervalMs: 100, redriveAfterMs: 1000 });
    relay.start();
    const write = (n: number) =>
      t.db.transaction(async (tx) => {
        for (let i = 0; i < n; i++) await writeOutbox(tx, 'during-outage', { i });
      });
    await write(50);
    const handled = async () => Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM handled')).rows[0]?.n);
    await waitFor(async () => expect(await handled()).toBe(50), 'the first 50 rows handled');

    proxy.cut();
    const ready = await built.app.request('/readyz');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: { database: string; queue: string } };
    expect(body.checks.database).toBe('ok');
    expect(body.checks.queue).toMatch(/^unreachable/);

    // Business transactions still commit: their events wait in the outbox.
    await write(200);
    // A pass that began after the rows were committed has tried to queue them and failed.
    const failedBefore = failedPasses();
    await waitFor(() => expect(failedPasses()).toBeGreaterThan(failedBefore + 1), 'relay passes failing while Redis is cut');
    expect(await handled()).toBe(50);
    const pending = Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL')).rows[0]?.n);
    expect(pending).toBe(200);

    proxy.restore();
    await waitFor(async () => expect((await built.app.request('/readyz')).status).toBe(200), 'readiness once Redis is back');
    await waitFor(async () => expect(await handled()).toBe(250), 'all 250 rows handled', { timeoutMs: 30_000 });
    const distinct = Number((await t.db.query<{ n: string }>('SELECT count(DISTINCT outbox_id) AS n FROM handled')).rows[0]?.n);
    expect(distinct).toBe(250);
    await relay.stop();
    await worker.close();
  });
});
