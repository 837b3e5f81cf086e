// What the overview shows, each figure from the store or function the rest of the hub already reads it from (the
// metrics' outbox and log lag, the queue's depths), and the exchange figures over the last 24 hours of the message
// log, found through its time index: bounded work whatever the log's size.
import { logLag, type LogLag } from '../message-log/index.ts';
import { outboxLag } from '../queue/outbox.ts';
import type { Queue, QueueDepth } from '../queue/queue.ts';
import type { Queryable } from '../storage/db.ts';

export interface Overview {
  since: Date;
  /** Exchanges per hour, oldest first, every hour of the window present (0 when none). */
  perHour: Array<{ hour: Date; exchanges: number; refused: number }>;
  refusals: Array<{ problem: string; count: number }>;
  topConsumers: Array<{ client: string; name: string | null; count: number }>;
  topServices: Array<{ service: string; count: number }>;
  queues: Array<{ topic: string; depth: QueueDepth | undefined }>;
  outbox: { pending: number; oldestSeconds: number };
  reviewOpen: number;
  deadLetters: number;
  log: LogLag & { lastSeq: string | null };
}

const windowHours = 24;

export async function loadOverview(db: Queryable, queue: Queue): Promise<Overview> {
  const since = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - (windowHours - 1) * 3_600_000);
  const [hours, refusals, consumers, services, outbox, review, dead, lag, lastSeq, queues] = await Promise.all([
    db.query<{ hour: Date; exchanges: number; refused: number }>(
      `SELECT date_trunc('hour', at) AS hour, count(*)::int AS exchanges, count(*) FILTER (WHERE problem IS NOT NULL)::int AS refused
         FROM message_log WHERE at >= $1 GROUP BY 1 ORDER BY 1`,
      [since],
    ),
    db.query<{ problem: string; count: number }>(
      'SELECT problem, count(*)::int AS count FROM message_log WHERE at >= $1 AND problem IS NOT NULL GROUP BY problem ORDER BY count DESC, problem LIMIT 10',
      [since],
    ),
    db.query<{ client: string; name: string | null; count: number }>(
      `SELECT l.client, m.name, l.count FROM (SELECT client, count(*)::int AS count FROM message_log WHERE at >= $1 AND client IS NOT NULL GROUP BY client ORDER BY count DESC, client LIMIT 5) l
         LEFT JOIN members m ON m.id = l.client ORDER BY l.count DESC, l.client`,
      [since],
    ),
    db.query<{ service: string; count: number }>(
      'SELECT service, count(*)::int AS count FROM message_log WHERE at >= $1 AND service IS NOT NULL GROUP BY service ORDER BY count DESC, service LIMIT 5',
      [since],
    ),
    outboxLag(db),
    db.query<{ count: number }>("SELECT count(*)::int AS count FROM ref_review_items WHERE status = 'open'"),
    db.query<{ count: number }>("SELECT count(*)::int AS count FROM sync_deliveries WHERE state = 'dead'"),
    logLag(db),
    db.query<{ seq: string | null }>('SELECT max(seq)::text AS seq FROM log_checkpoints'),
    Promise.all(
      queue.topics().map(async (topic) => ({
        topic,
        // An unreachable queue shows as unknown rather than failing the page: /readyz is where that is reported.
        depth: await queue.depth(topic).catch(() => undefined),
      })),
    ),
  ]);
  const byHour = new Map(hours.rows.map((r) => [new Date(r.hour).getTime(), r]));
  const perHour = Array.from({ length: windowHours }, (_, i) => {
    const hour = new Date(since.getTime() + i * 3_600_000);
    const row = byHour.get(hour.getTime());
    return { hour, exchanges: row?.exchanges ?? 0, refused: row?.refused ?? 0 };
  });
  return {
    since,
    perHour,
    refusals: refusals.rows,
    topConsumers: consumers.rows,
    topServices: services.rows,
    queues,
    outbox,
    reviewOpen: review.rows[0]?.count ?? 0,
    deadLetters: dead.rows[0]?.count ?? 0,
    log: { ...lag, lastSeq: lastSeq.rows[0]?.seq ?? null },
  };
}
