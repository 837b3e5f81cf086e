// The outbox's promise under fault: Redis emptied in the middle of a 10,000-row flow, every row still handled exactly once in effect.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.ts';
import { createBullmqQueue } from '../src/queue/bullmq.ts';
import { OutboxRelay, processOutbox, writeOutbox } from '../src/queue/outbox.ts';
import type { Queue } from '../src/queue/queue.ts';
import { openTestDb, type TestDb } from './helpers/db.ts';
import { testRedisUrl } from './helpers/env.ts';
import { uniquePrefix } from './helpers/queues.ts';
import { hasServer } from './helpers/servers.ts';

// This file alone uses Redis database 13, so emptying it touches no other test's data.
const flushDb = 13;
const rowCount = 10_000;
const logger = createLogger('silent');

function redisUrlWithDb(db: number): string {
  const url = new URL(testRedisUrl);
  url.pathname = `/${db}`;
  return url.toString();
}

describe.runIf(hasServer('postgres') && hasServer('redis'))('outbox with Redis emptied mid-flow', () => {
  let t: TestDb;
  let queue: Queue;
  let admin: Redis;

  beforeAll(async () => {
    t = await openTestDb('pg');
    await t.db.query('CREATE TABLE handled (outbox_id bigint NOT NULL, seq int NOT NULL)');
    queue = createBullmqQueue({ redisUrl: redisUrlWithDb(flushDb), prefix: uniquePrefix(), logger });
    admin = new Redis(redisUrlWithDb(flushDb));
  });
  afterAll(async () => {
    await queue.close();
    await admin.flushdb();
    admin.disconnect();
    await t.dispose();
  });

  // 33 s on a quiet machine, 55 s with benchmarks beside it: room for a busy CI without hiding a stall.
  it(`handles each of ${rowCount} rows exactly once in effect`, { timeout: 180_000 }, async () => {
    // Rows written by many transactions, as in production (100 per commit).
    for (let batch = 0; batch < rowCount / 100; batch++) {
      await t.db.transaction(async (tx) => {
        for (let i = 0; i < 100; i++) await writeOutbox(tx, 'flow', { seq: batch * 100 + i });
      });
    }
    let handledCalls = 0;
    const worker = processOutbox<{ seq: number }>(
      { db: t.db, queue, logger },
      'flow',
      async (payload, tx, meta) => {
        handledCalls++;
        // No unique constraint: a second application would show as a duplicate row.
        await tx.query('INSERT INTO handled (outbox_id, seq) VALUES ($1, $2)', [meta.outboxId, payload.seq]);
      },
      { concurrency: 8 },
    );
    const relay = new OutboxRelay({ db: t.db, queue, logger, pollIntervalMs: 100, redriveAfterMs: 1000, batchSize: 1000 });
    relay.start();

    const handled = async () => Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM handled')).rows[0]?.n ?? 0);
    // Wait until the flow is well under way but far from done, then empty Redis under it.
    const started = Date.now();
    while ((await handled()) < 1500) {
      if (Date.now() - started > 60_000) throw new Error('the flow did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const before = await handled();
    await admin.flushdb();
    const queuedAfterFlush = await admin.dbsize();
    expect(before).toBeLessThan(rowCount);

    const deadline = Date.now() + 120_000;
    while ((await handled()) < rowCount) {
      if (Date.now() > deadline) throw new Error(`only ${await handled()} of ${rowCount} rows handled after the flush`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Let any straggler jobs run: they must find their rows delivered and apply nothing.
    await new Promise((r) => setTimeout(r, 1500));
    await relay.stop();
    await worker.close();

    const { rows } = await t.db.query<{ total: string; distinct_rows: string; distinct_seq: string; undelivered: string }>(
      `SELECT (SELECT count(*) FROM handled) AS total,
              (SELECT count(DISTINCT outbox_id) FROM handled) AS distinct_rows,
              (SELECT count(DISTINCT seq) FROM handled) AS distinct_seq,
              (SELECT count(*) FROM outbox WHERE delivered_at IS NULL) AS undelivered`,
    );
    expect(rows[0]).toEqual({ total: String(rowCount), distinct_rows: String(rowCount), distinct_seq: String(rowCount), undelivered: '0' });
    // The flush really lost queued work: the rows after it were delivered by re-drive from Postgres.
    const redriven = Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE relay_count > 1')).rows[0]?.n ?? 0);
    expect(redriven).toBeGreaterThan(0);
    logger.info({ before, queuedAfterFlush, handledCalls, redriven }, 'flush test');
  });
});
