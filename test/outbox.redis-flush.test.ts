// The outbox's promise under fault: Redis emptied in the middle of a 10,000-row flow, every row still handled exactly
// once in effect, the lost jobs by the relay's re-drive from PostgreSQL.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.ts';
import { createBullmqQueue } from '../src/queue/bullmq.ts';
import { OutboxRelay, outboxJobId, processOutbox, writeOutbox } from '../src/queue/outbox.ts';
import type { Queue, Worker } from '../src/queue/queue.ts';
import { openTestDb, type TestDb } from './helpers/db.ts';
import { testRedisUrl } from './helpers/env.ts';
import { uniquePrefix } from './helpers/queues.ts';
import { hasServer } from './helpers/servers.ts';
import { waitFor } from './helpers/wait.ts';

// This file alone uses Redis database 13, so emptying it touches no other test's data.
const flushDb = 13;
const rowCount = 10_000;
const topic = 'flow';
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
  const prefix = uniquePrefix();

  beforeAll(async () => {
    t = await openTestDb('pg');
    await t.db.query('CREATE TABLE handled (outbox_id bigint NOT NULL, seq int NOT NULL)');
    queue = createBullmqQueue({ redisUrl: redisUrlWithDb(flushDb), prefix, logger });
    admin = new Redis(redisUrlWithDb(flushDb));
  });
  afterAll(async () => {
    await queue.close();
    await admin.flushdb();
    admin.disconnect();
    await t.dispose();
  });

  const count = async (sql: string): Promise<number> => Number((await t.db.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  const consume = (): Worker =>
    processOutbox<{ seq: number }>(
      { db: t.db, queue, logger },
      topic,
      async (payload, tx, meta) => {
        // No unique constraint: a second application would show as a duplicate row.
        await tx.query('INSERT INTO handled (outbox_id, seq) VALUES ($1, $2)', [meta.outboxId, payload.seq]);
      },
      { concurrency: 8 },
    );

  // 33 s on a quiet machine, 55 s with benchmarks beside it, 7 min beside four other agents' test runs on 2 cores (the
  // 10,000 rows took a minute to write): a bound on a stall, never a claim about speed.
  it(`handles each of ${rowCount} rows exactly once in effect, the jobs lost with Redis by re-drive`, { timeout: 600_000 }, async () => {
    // Its first pass (every pending row queued again, as a restarted process does) run on an empty outbox and over, so
    // that the rows below are relayed as written rows are, batch after batch. (With more pending rows than a batch,
    // that pass selects the lowest pending ids again for as long as a full batch comes back: the later rows would wait
    // for the first thousand to be delivered.)
    const relay = new OutboxRelay({ db: t.db, queue, logger, pollIntervalMs: 100, redriveAfterMs: 1000, batchSize: 1000 });
    relay.start();
    await relay.stop();
    // Rows written by many transactions, as in production (100 per commit).
    for (let batch = 0; batch < rowCount / 100; batch++) {
      await t.db.transaction(async (tx) => {
        for (let i = 0; i < 100; i++) await writeOutbox(tx, topic, { seq: batch * 100 + i });
      });
    }
    relay.start();
    let worker = consume();
    // The flow well under way but far from done...
    await waitFor(async () => (await count('SELECT count(*) AS n FROM handled')) >= 1500, 'the flow to get under way', { timeoutMs: 180_000 });
    // ...then paused: close() waits for the jobs in flight, so that every job still in Redis is waiting, none active
    // and none completing between the look at Redis below and the flush. The relay keeps running, as in production.
    await worker.close();

    // What Redis held and PostgreSQL knew at the flush, one consistent picture: the undelivered rows are locked for the
    // moment (the relay claims rows with SKIP LOCKED, so it can neither re-drive nor count one meanwhile), and the jobs
    // are listed and flushed in one MULTI (nothing can run between the listing and FLUSHDB).
    const key = (list: string) => `${prefix}:${topic}:${list}`;
    const atFlush = await t.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; relay_count: number; relayed: boolean }>(
        'SELECT id, relay_count, relayed_at IS NOT NULL AS relayed FROM outbox WHERE delivered_at IS NULL ORDER BY id FOR UPDATE',
      );
      const replies = await admin
        .multi()
        .lrange(key('wait'), 0, -1)
        .lrange(key('active'), 0, -1)
        .zrange(key('delayed'), 0, -1)
        .zrange(key('prioritized'), 0, -1)
        .flushdb()
        .dbsize()
        .exec();
      if (!replies) throw new Error('the MULTI was aborted');
      const [wait, active, delayed, prioritized, , size] = replies.map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      return { rows, wait: wait as string[], active: active as string[], delayed: delayed as string[], prioritized: prioritized as string[], size: size as number };
    });
    // The rows whose job the flush took away: undelivered and relayed (a row the relay had not reached yet had no job).
    const lost = new Map(atFlush.rows.filter((row) => row.relayed).map((row) => [row.id, row.relay_count]));

    // Mid-flow: some rows were delivered before the flush, and each relayed row still undelivered had exactly one job
    // in Redis, waiting, which the flush took away (Redis empty right after it).
    expect(atFlush.rows.length).toBeLessThanOrEqual(rowCount - 1500);
    expect(lost.size).toBeGreaterThan(0);
    expect({ active: atFlush.active, delayed: atFlush.delayed, prioritized: atFlush.prioritized, sizeAfterFlush: atFlush.size }).toEqual({ active: [], delayed: [], prioritized: [], sizeAfterFlush: 0 });
    expect([...atFlush.wait].sort()).toEqual([...lost.keys()].map(outboxJobId).sort());

    // Processing resumes on an empty Redis: only a job queued again from PostgreSQL can deliver a lost row.
    worker = consume();
    await waitFor(async () => (await count('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL')) === 0, 'every row delivered after the flush', { timeoutMs: 300_000 });
    // Nothing left that could still run (a re-driven job for a row already delivered would apply nothing, but it is
    // awaited rather than assumed): no job waiting, active or delayed.
    await waitFor(async () => {
      const depth = await queue.depth(topic);
      return depth.waiting + depth.active + depth.delayed === 0;
    }, 'the queue to drain');
    await relay.stop();
    await worker.close();

    const { rows } = await t.db.query<{ total: string; distinct_rows: string; distinct_seq: string; undelivered: string }>(
      `SELECT (SELECT count(*) FROM handled) AS total,
              (SELECT count(DISTINCT outbox_id) FROM handled) AS distinct_rows,
              (SELECT count(DISTINCT seq) FROM handled) AS distinct_seq,
              (SELECT count(*) FROM outbox WHERE delivered_at IS NULL) AS undelivered`,
    );
    expect(rows[0]).toEqual({ total: String(rowCount), distinct_rows: String(rowCount), distinct_seq: String(rowCount), undelivered: '0' });
    // Each row whose job the flush took away was delivered (once: the totals above) after being relayed again: its
    // relay_count went up after the flush, so re-drive from PostgreSQL is what delivered it.
    const after = await t.db.query<{ id: string; relay_count: number }>('SELECT id, relay_count FROM outbox WHERE id = ANY($1::bigint[])', [[...lost.keys()]]);
    expect(after.rows).toHaveLength(lost.size);
    const notRedriven = after.rows.filter((row) => row.relay_count <= (lost.get(row.id) ?? Infinity));
    expect(notRedriven).toEqual([]);
  });
});
