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
  const [window, outbox, review, dead, lag, lastSeq, queues] = await Promise.all([
    logWindow(db, since),
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
  const byHour = new Map(window.hours.map((r) => [new Date(r.hour).getTime(), r]));
  const perHour = Array.from({ length: windowHours }, (_, i) => {
    const hour = new Date(since.getTime() + i * 3_600_000);
    const row = byHour.get(hour.getTime());
    return { hour, exchanges: row?.exchanges ?? 0, refused: row?.refused ?? 0 };
  });
  return {
    since,
    perHour,
    refusals: window.refusals,
    topConsumers: window.consumers,
    topServices: window.services,
    queues,
    outbox,
    reviewOpen: review.rows[0]?.count ?? 0,
    deadLetters: dead.rows[0]?.count ?? 0,
    log: { ...lag, lastSeq: lastSeq.rows[0]?.seq ?? null },
  };
}

interface WindowRow {
  hour: Date | null;
  problem: string | null;
  client: string | null;
  service: string | null;
  count: number;
  refused: number;
  /** GROUPING(): which of the four sets the row belongs to (a bit set for each column not grouped). */
  g: number;
}

const topBy = <K extends string>(rows: WindowRow[], g: number, key: 'problem' | 'client' | 'service', n: number): Array<Record<K, string> & { count: number }> =>
  rows
    .filter((r) => r.g === g && r[key] !== null)
    .sort((a, b) => b.count - a.count || ((a[key] ?? '') < (b[key] ?? '') ? -1 : 1))
    .slice(0, n)
    .map((r) => ({ [key]: r[key] ?? '', count: r.count }) as Record<K, string> & { count: number });

/**
 * The window's exchanges per hour, refusals by problem, top consumers and services: one pass over the window's rows
 * (GROUPING SETS) rather than one scan each, reading only the columns the index message_log_at_overview (migration
 * 0020) carries. The groups are bounded by the hours, problem codes, members and services, not by the rows.
 */
async function logWindow(db: Queryable, since: Date) {
  const { rows } = await db.query<WindowRow>(
    `SELECT date_trunc('hour', at) AS hour, problem, client, service, count(*)::int AS count,
            count(*) FILTER (WHERE problem IS NOT NULL)::int AS refused, GROUPING(date_trunc('hour', at), problem, client, service) AS g
       FROM message_log WHERE at >= $1
      GROUP BY GROUPING SETS ((date_trunc('hour', at)), (problem), (client), (service))`,
    [since],
  );
  const consumers = topBy<'client'>(rows, 0b1101, 'client', 5);
  const { rows: names } = await db.query<{ id: string; name: string }>('SELECT id, name FROM members WHERE id = ANY($1::text[])', [consumers.map((c) => c.client)]);
  const nameOf = new Map(names.map((m) => [m.id, m.name]));
  return {
    hours: rows.filter((r) => r.g === 0b0111 && r.hour !== null).map((r) => ({ hour: r.hour as Date, exchanges: r.count, refused: r.refused })),
    refusals: topBy<'problem'>(rows, 0b1011, 'problem', 10),
    consumers: consumers.map((c) => ({ ...c, name: nameOf.get(c.client) ?? null })),
    services: topBy<'service'>(rows, 0b1110, 'service', 5),
  };
}
