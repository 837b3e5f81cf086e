import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.ts';
import { OutboxRelay, outboxLag, processOutbox, reviveOutboxRow, writeOutbox } from '../src/queue/outbox.ts';
import { PermanentJobError, type Queue } from '../src/queue/queue.ts';
import type { Db } from '../src/storage/db.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';
import { openTestQueue, queueDrivers } from './helpers/queues.ts';
import { waitFor } from './helpers/wait.ts';

const logger = createLogger('silent');

const cases = drivers().flatMap((db) => queueDrivers().map((queue) => [db, queue] as const));

describe.each(cases)('outbox on %s with the %s queue', (dbDriver, queueDriver) => {
  let t: TestDb;
  let q: ReturnType<typeof openTestQueue>;
  let relay: OutboxRelay;

  beforeEach(async () => {
    t = await openTestDb(dbDriver);
    q = openTestQueue(queueDriver);
    await t.db.query('CREATE TABLE effects (outbox_id bigint NOT NULL, note text NOT NULL)');
  });
  afterEach(async () => {
    await relay?.stop();
    await q.dispose();
    await t.dispose();
  });

  const startRelay = (db: Db, queue: Queue, redriveAfterMs = 60_000) => {
    relay = new OutboxRelay({ db, queue, logger, pollIntervalMs: 50, redriveAfterMs, backoffMs: 10, attempts: 3 });
    relay.start();
    return relay;
  };
  const effects = async () => (await t.db.query<{ outbox_id: string; note: string }>('SELECT outbox_id, note FROM effects ORDER BY outbox_id')).rows;

  it('relays committed rows only, and the handler applies each in its own transaction', async () => {
    const worker = processOutbox<{ note: string }>({ db: t.db, queue: q.queue, logger }, 'golden.changed', async (payload, tx, meta) => {
      await tx.query('INSERT INTO effects VALUES ($1, $2)', [meta.outboxId, payload.note]);
    });
    await t.db.transaction(async (tx) => {
      await writeOutbox(tx, 'golden.changed', { note: 'committed-1' });
      await writeOutbox(tx, 'golden.changed', { note: 'committed-2' });
    });
    await expect(
      t.db.transaction(async (tx) => {
        await writeOutbox(tx, 'golden.changed', { note: 'rolled-back' });
        throw new Error('caller fails after writing');
      }),
    ).rejects.toThrow('caller fails');
    startRelay(t.db, q.queue);
    await waitFor(async () => (await effects()).length === 2, 'both effects applied');
    await waitFor(async () => (await outboxLag(t.db)).pending === 0, 'no row pending');
    expect((await effects()).map((e) => e.note)).toEqual(['committed-1', 'committed-2']);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NOT NULL');
    expect(rows[0]?.n).toBe(2);
    await worker.close();
  });

  it("walks every pending row once in its first pass, however many batches they take, not the lowest ids again and again", async () => {
    // Seven rows relayed a moment ago by a previous process and never delivered (no consumer here).
    const ids = await t.db.transaction(async (tx) => Promise.all(Array.from({ length: 7 }, (_, i) => writeOutbox(tx, 'first-pass', { note: `r${i}` }))));
    await t.db.query("UPDATE outbox SET relayed_at = now(), relay_count = 1 WHERE id = ANY($1::bigint[])", [ids]);
    const fresh = new OutboxRelay({ db: t.db, queue: q.queue, logger, pollIntervalMs: 60_000, redriveAfterMs: 3_600_000, batchSize: 3 });
    relay = fresh;
    fresh.start();
    await waitFor(async () => (await q.queue.depth('first-pass')).waiting === 7, 'the seven rows queued again');
    await fresh.stop();
    const { rows } = await t.db.query<{ relay_count: number }>('SELECT relay_count FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
    // Each once more: a first pass that re-selected the lowest ids until they were delivered would count them again and again.
    expect(rows.map((r) => r.relay_count)).toEqual(Array(7).fill(2));
  });

  it('refuses a topic that is not a plain name', async () => {
    await expect(t.db.transaction((tx) => writeOutbox(tx, 'Bad Topic:1', {}))).rejects.toThrow(/must match/);
  });

  it('applies a row once even when its job is delivered twice', async () => {
    const worker = processOutbox<{ note: string }>({ db: t.db, queue: q.queue, logger }, 'twice', async (payload, tx, meta) => {
      await tx.query('INSERT INTO effects VALUES ($1, $2)', [meta.outboxId, payload.note]);
    });
    const id = await t.db.transaction((tx) => writeOutbox(tx, 'twice', { note: 'once' }));
    // Two distinct jobs for the same row, as a re-drive racing a slow worker would produce.
    await q.queue.add('twice', { outboxId: id }, { jobId: 'dup-a' });
    await q.queue.add('twice', { outboxId: id }, { jobId: 'dup-b' });
    // Both jobs handled and none left to retry: whatever the second did, it has done it.
    await waitFor(async () => {
      const depth = await q.queue.depth('twice');
      return depth.waiting + depth.active + depth.delayed === 0;
    }, 'nothing waiting, active or delayed');
    expect(await effects()).toEqual([{ outbox_id: id, note: 'once' }]);
    await worker.close();
  });

  it('retries a failing handler, then marks the row dead, leaves it out of re-drive, and revives it', async () => {
    let failing = true;
    let calls = 0;
    const worker = processOutbox<{ note: string }>({ db: t.db, queue: q.queue, logger }, 'flaky', async (payload, tx, meta) => {
      calls++;
      if (failing) throw new Error('e-service answered 503');
      await tx.query('INSERT INTO effects VALUES ($1, $2)', [meta.outboxId, payload.note]);
    });
    const id = await t.db.transaction((tx) => writeOutbox(tx, 'flaky', { note: 'eventually' }));
    startRelay(t.db, q.queue, 100);
    await waitFor(async () => (await t.db.query('SELECT 1 FROM outbox WHERE id = $1 AND dead_at IS NOT NULL', [id])).rowCount === 1, 'the row marked dead');
    expect(calls).toBe(3);
    const row = (await t.db.query<{ last_error: string }>('SELECT last_error FROM outbox WHERE id = $1', [id])).rows[0];
    expect(row?.last_error).toBe('e-service answered 503');
    // Dead rows are not re-driven, however long they wait: a row written now, with no worker to deliver it, gets
    // re-driven (relay_count 2) by a pass that leaves the dead row as it was.
    const relayCount = async (rowId: string) =>
      Number((await t.db.query<{ n: number }>('SELECT relay_count AS n FROM outbox WHERE id = $1', [rowId])).rows[0]?.n);
    const deadRelayCount = await relayCount(id);
    const marker = await t.db.transaction((tx) => writeOutbox(tx, 'nobody-listens', { note: 'marker' }));
    await waitFor(async () => (await relayCount(marker)) >= 2, 'the marker row re-driven');
    expect(await relayCount(id)).toBe(deadRelayCount);
    expect(calls).toBe(3);
    expect((await q.queue.deadLetters('flaky')).map((d) => d.id)).toContain(`ob-${id}`);
    failing = false;
    expect(await reviveOutboxRow(t.db, q.queue, id)).toBe(true);
    await waitFor(async () => (await effects()).length === 1, 'the effect applied');
    expect(await reviveOutboxRow(t.db, q.queue, id)).toBe(false);
    await worker.close();
  });

  it('sends a permanent fault straight to dead', async () => {
    let calls = 0;
    const worker = processOutbox({ db: t.db, queue: q.queue, logger }, 'bad-data', async () => {
      calls++;
      throw new PermanentJobError('row refused by the e-service: 422');
    });
    const id = await t.db.transaction((tx) => writeOutbox(tx, 'bad-data', {}));
    startRelay(t.db, q.queue);
    await waitFor(async () => (await t.db.query('SELECT 1 FROM outbox WHERE id = $1 AND dead_at IS NOT NULL', [id])).rowCount === 1, 'the row marked dead');
    expect(calls).toBe(1);
    await worker.close();
  });

  it('re-drives from the database what a lost queue held', async () => {
    await t.db.transaction(async (tx) => {
      for (let i = 0; i < 20; i++) await writeOutbox(tx, 'lost', { note: `n${i}` });
    });
    // A first relay hands the rows to a queue that nobody consumes, then the queue is lost (process killed, Redis emptied).
    const doomed = openTestQueue(queueDriver);
    const firstRelay = new OutboxRelay({ db: t.db, queue: doomed.queue, logger, pollIntervalMs: 50 });
    firstRelay.start();
    await waitFor(async () => (await t.db.query('SELECT 1 FROM outbox WHERE relayed_at IS NULL')).rowCount === 0, 'every row relayed');
    await firstRelay.stop();
    await doomed.dispose();
    // A new process starts: its relay re-drives every pending row at once.
    const worker = processOutbox<{ note: string }>({ db: t.db, queue: q.queue, logger }, 'lost', async (payload, tx, meta) => {
      await tx.query('INSERT INTO effects VALUES ($1, $2)', [meta.outboxId, payload.note]);
    });
    startRelay(t.db, q.queue);
    await waitFor(async () => (await effects()).length === 20, 'all 20 effects applied');
    await worker.close();
  });
});
