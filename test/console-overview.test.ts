// The overview's exchange figures (src/console/overview-data.ts logWindow): per hour, refusals by problem, top consumers
// and services over the last 24 hours equal what a plain query over the log's rows gives; settled hours are read once
// per process and the hours not yet settled at every render, so new rows of the current hour show at the next render.
// On both drivers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logWindow, settleMs } from '../src/console/overview-data.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';

const hourMs = 3_600_000;

describe.each(drivers())('console overview window on %s', (driver) => {
  let t!: TestDb;
  let seq = 0;
  // A fixed "now" 30 minutes into an hour: hours before the current one are settled, the current one is live.
  const now = Math.floor(Date.now() / hourMs) * hourMs + 30 * 60_000;
  const since = new Date(Math.floor(now / hourMs) * hourMs - 23 * hourMs);

  /** Rows at `at`, each a client, service and (one in three) problem from the given lists. */
  async function insert(at: number, n: number, offset = 0): Promise<void> {
    for (let i = 0; i < n; i++) {
      seq++;
      const k = i + offset;
      await t.db.query(
        `INSERT INTO message_log (seq, at, request_id, client, service, operation, purpose, status, problem, duration_ms, request_digest, response_digest, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, 'op', 'p', $6, $7, 1, 'd', 'd', 'h', $8)`,
        [seq, new Date(at), `r${seq}`, `MA/GOV/C${k % 7}/s`, `svc${k % 4}`, k % 3 === 0 ? 403 : 200, k % 3 === 0 ? `problem-${k % 2}` : null, `h${seq}`],
      );
    }
  }

  /** What the window should show, by a plain query over every row since `since`. */
  async function reference() {
    const count = async (col: string) =>
      Object.fromEntries(
        (await t.db.query<{ k: string; n: number }>(`SELECT ${col} AS k, count(*)::int AS n FROM message_log WHERE at >= $1 AND ${col} IS NOT NULL GROUP BY 1`, [since])).rows.map((r) => [r.k, r.n]),
      );
    const { rows } = await t.db.query<{ total: number; refused: number }>('SELECT count(*)::int AS total, count(problem)::int AS refused FROM message_log WHERE at >= $1', [since]);
    return { problems: await count('problem'), clients: await count('client'), services: await count('service'), ...rows[0] };
  }

  const asCounts = <K extends string>(list: Array<Record<K, string> & { count: number }>, key: K) => Object.fromEntries(list.map((r) => [r[key], r.count]));

  beforeAll(async () => {
    t = await openTestDb(driver);
    // Before the window (not counted), several settled hours, the hour that settles last, and the current hour.
    await insert(since.getTime() - 10 * 60_000, 5);
    for (const h of [0, 3, 12, 22]) await insert(since.getTime() + h * hourMs + 60_000, 6 + h, h);
    await insert(now - 10 * 60_000, 9);
  }, 60_000);

  afterAll(async () => {
    await t?.dispose();
  });

  it('equals a plain query over the rows, and sees the current hour grow at the next render', async () => {
    const first = await logWindow(t.db, since, now);
    const ref = await reference();
    expect(first.hours).toHaveLength(24);
    expect(first.hours[0]?.hour.getTime()).toBe(since.getTime());
    expect(first.hours.reduce((n, h) => n + h.exchanges, 0)).toBe(ref.total);
    expect(first.hours.reduce((n, h) => n + h.refused, 0)).toBe(ref.refused);
    expect(first.hours.map((h) => h.exchanges)).toEqual(Array.from({ length: 24 }, (_, i) => ({ 0: 6, 3: 9, 12: 18, 22: 28, 23: 9 })[i] ?? 0));
    expect(asCounts(first.refusals, 'problem')).toEqual(ref.problems);
    // Top 5 of 7 consumers, top 4 of 4 services: each count as the reference has it, largest first.
    expect(first.consumers).toHaveLength(5);
    for (const c of first.consumers) expect(c.count).toBe(ref.clients[c.client]);
    expect(first.consumers.map((c) => c.count)).toEqual(Object.values(ref.clients).sort((a, b) => b - a).slice(0, 5));
    expect(asCounts(first.services, 'service')).toEqual(ref.services);

    await insert(now - 5 * 60_000, 4, 1);
    const second = await logWindow(t.db, since, now);
    expect(second.hours[23]?.exchanges).toBe(13);
    expect(second.hours.reduce((n, h) => n + h.exchanges, 0)).toBe((await reference()).total);
  });

  it('reads a settled hour once: a row written into it later is not counted by this process', async () => {
    // Past hours do not change in a real log (rows are written with the time their exchange started, within the
    // settle delay); this shows that a render reads only the unsettled hours, not the day's rows again.
    await insert(since.getTime() + 5 * hourMs, 3);
    const after = await logWindow(t.db, since, now);
    expect(after.hours[5]?.exchanges).toBe(0);
    // The hour that ended less than settleMs ago is still read at every render.
    const nextHour = Math.floor(now / hourMs) * hourMs + hourMs;
    const justAfter = nextHour + settleMs / 2;
    await insert(nextHour - 1_000, 2);
    const rolled = await logWindow(t.db, new Date(since.getTime() + hourMs), justAfter);
    expect(rolled.hours.at(-2)?.exchanges).toBe(15);
  });
});
