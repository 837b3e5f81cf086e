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

/** One hour of the message log, summed: what the overview needs of it. */
interface HourTally {
  exchanges: number;
  refused: number;
  problems: Map<string, number>;
  clients: Map<string, number>;
  services: Map<string, number>;
}

interface HourRow {
  /** Hours since the Unix epoch (whatever the session's time zone). */
  hour: string;
  problem: string | null;
  client: string | null;
  service: string | null;
  count: number;
  refused: number;
  /** GROUPING(problem, client, service): 0b111 for the hour's total, 0b011 by problem, 0b101 by client, 0b110 by service. */
  g: number;
}

const hourMs = 3_600_000;
/**
 * An hour is settled, and its tally kept, once it ended this long ago: a row's `at` is taken when its exchange starts
 * and written by the log's group commit a moment later, so the last rows of an hour can land just after it ends.
 */
export const settleMs = 120_000;
/** Settled hours' tallies, per database: past hours do not change (the log is append-only), so each is read once. */
const settledHours = new WeakMap<object, Map<number, HourTally>>();

const emptyTally = (): HourTally => ({ exchanges: 0, refused: 0, problems: new Map(), clients: new Map(), services: new Map() });
const add = (m: Map<string, number>, key: string, n: number) => m.set(key, (m.get(key) ?? 0) + n);

const hourOf = 'floor(extract(epoch FROM at) / 3600)::bigint';

/** Tallies of every hour in [from, to), one pass over those rows (GROUPING SETS by hour), reading only the index. */
async function tallyHours(db: Queryable, from: number, to: number): Promise<Map<number, HourTally>> {
  const tallies = new Map<number, HourTally>();
  for (let h = from; h < to; h += hourMs) tallies.set(h, emptyTally());
  if (from >= to) return tallies;
  const { rows } = await db.query<HourRow>(
    `SELECT ${hourOf} AS hour, problem, client, service, count(*)::int AS count,
            count(*) FILTER (WHERE problem IS NOT NULL)::int AS refused, GROUPING(problem, client, service) AS g
       FROM message_log WHERE at >= $1 AND at < $2
      GROUP BY GROUPING SETS ((${hourOf}), (${hourOf}, problem), (${hourOf}, client), (${hourOf}, service))`,
    [new Date(from), new Date(to)],
  );
  for (const r of rows) {
    const t = tallies.get(Number(r.hour) * hourMs);
    if (!t) continue;
    if (r.g === 0b111) {
      t.exchanges = r.count;
      t.refused = r.refused;
    } else if (r.g === 0b011 && r.problem !== null) add(t.problems, r.problem, r.count);
    else if (r.g === 0b101 && r.client !== null) add(t.clients, r.client, r.count);
    else if (r.g === 0b110 && r.service !== null) add(t.services, r.service, r.count);
  }
  return tallies;
}

const top = <K extends string>(counts: Map<string, number>, key: K, n: number): Array<Record<K, string> & { count: number }> =>
  [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([k, count]) => ({ [key]: k, count }) as Record<K, string> & { count: number });

/**
 * The window's exchanges per hour, refusals by problem, top consumers and services. Settled hours are read once per
 * process and kept (src/console/README.md): a render reads only the hours not yet settled — the current one, at most
 * two — so its cost follows one hour's traffic, not the day's. The groups are bounded by the problem codes, members
 * and services, not by the rows.
 */
export async function logWindow(db: Queryable, since: Date, now = Date.now()) {
  const from = since.getTime();
  const liveFrom = Math.max(from, Math.floor((now - settleMs) / hourMs) * hourMs);
  let settled = settledHours.get(db);
  if (!settled) settledHours.set(db, (settled = new Map()));
  for (const h of settled.keys()) if (h < from) settled.delete(h);
  let firstMissing: number | undefined;
  let lastMissing = from;
  for (let h = from; h < liveFrom; h += hourMs) {
    if (settled.has(h)) continue;
    firstMissing ??= h;
    lastMissing = h;
  }
  const [read, live] = await Promise.all([
    firstMissing === undefined ? new Map<number, HourTally>() : tallyHours(db, firstMissing, lastMissing + hourMs),
    tallyHours(db, liveFrom, Math.floor(now / hourMs) * hourMs + hourMs),
  ]);
  for (const [h, t] of read) settled.set(h, t);
  const hours: Array<{ hour: Date; exchanges: number; refused: number }> = [];
  const problems = new Map<string, number>();
  const clients = new Map<string, number>();
  const services = new Map<string, number>();
  for (let h = from; h <= Math.floor(now / hourMs) * hourMs; h += hourMs) {
    const t = settled.get(h) ?? live.get(h);
    if (!t) continue;
    hours.push({ hour: new Date(h), exchanges: t.exchanges, refused: t.refused });
    for (const [k, n] of t.problems) add(problems, k, n);
    for (const [k, n] of t.clients) add(clients, k, n);
    for (const [k, n] of t.services) add(services, k, n);
  }
  const consumers = top(clients, 'client', 5);
  const { rows: names } = await db.query<{ id: string; name: string }>('SELECT id, name FROM members WHERE id = ANY($1::text[])', [consumers.map((c) => c.client)]);
  const nameOf = new Map(names.map((m) => [m.id, m.name]));
  return {
    hours,
    refusals: top(problems, 'problem', 10),
    consumers: consumers.map((c) => ({ ...c, name: nameOf.get(c.client) ?? null })),
    services: top(services, 'service', 5),
  };
}
