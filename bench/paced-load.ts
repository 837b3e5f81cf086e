// An open-loop load at a fixed rate (bench:exchange's fixed-rate arm): requests sent evenly spaced, whether or not the
// earlier ones were answered, and each latency counted from when the request was due on the schedule, not from when
// the generator got round to sending it nor from when a connection was free to carry it (a request waiting for a late
// timer tick or a busy connection counts its wait: no coordinated omission).
//
// Why not autocannon's overallRate: each of its connections sends its share of the second back to back, then waits
// for the next second (lib/httpClient.js, reqsMadeThisSecond), so 1,000 req/s arrive as a burst at each second's start
// and the latency measured is the burst's queue, not a steady rate's.
import { Pool } from 'undici';

export interface PacedLoadResult {
  /** Latency of every 2xx, in ms, from the moment its request was due on the schedule (start + i / rate). */
  latencies: number[];
  statuses: Map<number, number>;
  /** Requests sent in the window, and how many got no answer at all (connection errors, timeouts). */
  sent: number;
  errors: number;
  /** The window, in seconds (from the first request due to the last answer). */
  seconds: number;
  /** Requests sent more than 2 ms after they were due (the generator itself fell behind a tick or two: the rate is uneven). */
  late: number;
}

/**
 * Sends `rate` requests a second for `seconds` over `connections` keep-alive connections (more requests wait in the
 * pool's queue, their wait counted). Node's timers tick about every millisecond: each tick sends what has come due.
 */
export async function pacedLoad(options: { url: string; path: string; rate: number; seconds: number; connections: number; headers: () => Record<string, string> }): Promise<PacedLoadResult> {
  const pool = new Pool(options.url, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  let sent = 0;
  let errors = 0;
  let late = 0;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();

  const send = (dueAt: number): void => {
    const headers = options.headers();
    const request = pool
      .request({ method: 'GET', path: options.path, headers, headersTimeout: 30_000, bodyTimeout: 30_000 })
      .then(async (response) => {
        await response.body.dump();
        const status = response.statusCode;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 200 && status < 300) latencies.push(performance.now() - dueAt);
      })
      .catch(() => {
        errors++;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < total) {
        const dueAt = start + sent * intervalMs;
        if (dueAt > now) break;
        if (now - dueAt > 2) late++;
        sent++;
        send(dueAt);
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return { latencies, statuses, sent, errors, seconds, late };
}
