// The transactional outbox: rows written in the caller's transaction, relayed to the queue after commit,
// marked delivered in the handler's transaction, and re-driven from Postgres so that a job the queue lost is delivered anyway.
import type { Logger } from 'pino';
import type { Db, Queryable } from '../storage/db.ts';
import { PermanentJobError, type Job, type Queue, type Worker } from './queue.ts';

const topicPattern = /^[a-z0-9][a-z0-9.-]{0,63}$/;

export interface OutboxJobData {
  outboxId: string;
}

export function outboxJobId(outboxId: string): string {
  return `ob-${outboxId}`;
}

/** Writes an outbox row inside the caller's transaction; returns its id. Nothing reaches the queue unless that transaction commits. */
export async function writeOutbox(tx: Queryable, topic: string, payload: Record<string, unknown>): Promise<string> {
  if (!topicPattern.test(topic)) throw new Error(`outbox topic ${JSON.stringify(topic)} must match ${topicPattern}`);
  const { rows } = await tx.query<{ id: string }>('INSERT INTO outbox (topic, payload) VALUES ($1, $2) RETURNING id', [topic, payload]);
  const row = rows[0];
  if (!row) throw new Error('outbox insert returned no id');
  return row.id;
}

export async function outboxLag(db: Queryable): Promise<{ pending: number; oldestSeconds: number }> {
  const { rows } = await db.query<{ pending: number; oldest: number }>(
    `SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
       FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL`,
  );
  return { pending: rows[0]?.pending ?? 0, oldestSeconds: rows[0]?.oldest ?? 0 };
}

export interface OutboxRelayOptions {
  db: Db;
  queue: Queue;
  logger: Logger;
  /** A relayed row still undelivered after this long is relayed again (the queue may have lost it). */
  redriveAfterMs?: number;
  /** How often to look for rows written by other processes and rows to re-drive. */
  pollIntervalMs?: number;
  batchSize?: number;
  /** Job attempts for relayed rows. */
  attempts?: number;
  backoffMs?: number;
}

/** Moves committed outbox rows to the queue. Several relays (one per process) can run at once: rows are claimed with SKIP LOCKED. */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private firstPass = true;
  /** The first pass walks every pending row once, in id order: the last id it has queued. */
  private firstPassAfter = '0';
  private readonly redriveAfterMs: number;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;

  constructor(private readonly options: OutboxRelayOptions) {
    this.redriveAfterMs = options.redriveAfterMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 500;
  }

  /** Re-drives everything pending at once (jobs of a previous process may be gone), then polls. */
  start(): void {
    this.stopped = false;
    this.notify();
    this.timer = setInterval(() => this.notify(), this.pollIntervalMs);
    this.timer.unref();
  }

  /** Asks for a relay pass soon; call it after a transaction that wrote outbox rows commits. Passes coalesce. */
  notify(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        let relayed: number;
        do {
          relayed = await this.relayOnce();
        } while (relayed === this.batchSize && !this.stopped);
        this.firstPass = false;
      } catch (err) {
        // Database or queue out of reach: the rows stay pending and the next poll tries again.
        this.options.logger.warn({ err: { message: (err as Error).message, name: (err as Error).name } }, 'outbox relay pass failed');
      }
    } while (this.again && !this.stopped);
  }

  /** One batch: claims pending rows, adds their jobs, marks them relayed, all or nothing. Returns how many. */
  async relayOnce(): Promise<number> {
    const { db, queue } = this.options;
    let last: string | undefined;
    const relayed = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; topic: string }>(
        `SELECT id, topic FROM outbox
          WHERE delivered_at IS NULL AND dead_at IS NULL
            AND (($1::boolean AND id > $4::bigint) OR relayed_at IS NULL OR relayed_at < now() - make_interval(secs => $2::float8))
          ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [this.firstPass, this.redriveAfterMs / 1000, this.batchSize, this.firstPassAfter],
      );
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, string[]>();
      for (const row of rows) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row.id]);
      for (const [topic, ids] of byTopic) {
        // The job id dedupes: a row still queued or retrying in the queue is not queued twice.
        await queue.addBulk<OutboxJobData>(
          topic,
          ids.map((outboxId) => ({
            data: { outboxId },
            options: { jobId: outboxJobId(outboxId), attempts: this.options.attempts, backoffMs: this.options.backoffMs },
          })),
        );
      }
      await tx.query('UPDATE outbox SET relayed_at = now(), relay_count = relay_count + 1 WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      last = rows.at(-1)?.id;
      return rows.length;
    });
    // Only once committed: a pass that failed leaves the first pass where it was, to try those rows again.
    if (this.firstPass && last !== undefined) this.firstPassAfter = last;
    return relayed;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

export type OutboxHandler<Payload> = (payload: Payload, tx: Queryable, meta: { outboxId: string; topic: string; attempt: number }) => Promise<void>;

/**
 * Consumes an outbox topic. The handler runs in a transaction that also marks the row delivered, and a row already
 * delivered is skipped: a job delivered twice (re-driven, retried after a lost lock) applies once in effect.
 * Effects outside the database (a push to an e-service) are at-least-once: make them idempotent by outboxId.
 */
export function processOutbox<Payload>(
  deps: { db: Db; queue: Queue; logger: Logger; onOutcome?: (topic: string, outcome: 'done' | 'skipped' | 'retry' | 'dead') => void },
  topic: string,
  handler: OutboxHandler<Payload>,
  options: { concurrency?: number } = {},
): Worker {
  const { db, queue, logger } = deps;
  return queue.process<OutboxJobData>(
    topic,
    async (job: Job<OutboxJobData>) => {
      const outboxId = job.data.outboxId;
      try {
        const outcome = await db.transaction(async (tx) => {
          const { rows } = await tx.query<{ payload: Payload; delivered_at: Date | null }>(
            'SELECT payload, delivered_at FROM outbox WHERE id = $1 FOR UPDATE',
            [outboxId],
          );
          const row = rows[0];
          if (!row || row.delivered_at !== null) return 'skipped' as const;
          await handler(row.payload, tx, { outboxId, topic, attempt: job.attemptsMade + 1 });
          await tx.query('UPDATE outbox SET delivered_at = now(), dead_at = NULL, last_error = NULL WHERE id = $1', [outboxId]);
          return 'done' as const;
        });
        deps.onOutcome?.(topic, outcome);
      } catch (err) {
        const final = err instanceof PermanentJobError || job.attemptsMade + 1 >= job.maxAttempts;
        const message = err instanceof Error ? err.message : String(err);
        // Recorded so that re-drive skips a dead row and an operator sees why; best effort when the database is the fault
        // (then unrecorded: the warning below carries the same error, and re-drive tries the row again).
        await db
          .query(`UPDATE outbox SET last_error = $2, dead_at = CASE WHEN $3::boolean THEN now() ELSE dead_at END WHERE id = $1 AND delivered_at IS NULL`, [
            outboxId,
            message.slice(0, 2000),
            final,
          ])
          .catch(() => undefined);
        deps.onOutcome?.(topic, final ? 'dead' : 'retry');
        logger.warn({ topic, outboxId, attempt: job.attemptsMade + 1, final, err: { name: (err as Error).name, message } }, 'outbox job failed');
        throw err;
      }
    },
    options,
  );
}

/**
 * Puts a dead outbox row back in play after its cause is fixed: the queue's dead letter is replayed when the queue still
 * has it; otherwise the relay queues the row again on its next pass.
 */
export async function reviveOutboxRow(db: Db, queue: Queue, outboxId: string): Promise<boolean> {
  const { rows } = await db.query<{ topic: string }>(
    'UPDATE outbox SET dead_at = NULL, relayed_at = now() WHERE id = $1 AND dead_at IS NOT NULL AND delivered_at IS NULL RETURNING topic',
    [outboxId],
  );
  const row = rows[0];
  if (!row) return false;
  if (!(await queue.replay(row.topic, outboxJobId(outboxId)))) {
    await db.query('UPDATE outbox SET relayed_at = NULL WHERE id = $1', [outboxId]);
  }
  return true;
}
