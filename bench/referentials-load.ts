// Load generators for bench/referentials.ts: raw SQL through pg (the baseline), and pre-signed HTTP calls through the
// exchange pipeline with autocannon (nothing is signed while the load runs; each request is used once).
import autocannon from 'autocannon';
import type pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { signRequest, type ClientIdentity } from '../src/client/index.ts';
import { percentile, round2 } from './lib.ts';

export interface Measured {
  connections: number;
  /** Completed requests (2xx for HTTP) in the measured window, and the window in seconds. */
  ok: number;
  seconds: number;
  /** ok / seconds. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** Status code (or 'error', 'timeout') → count, for everything that was not a 2xx. */
  failures: Record<string, number>;
}

function summarise(latencies: number[], ok: number, seconds: number, connections: number, failures: Record<string, number>): Measured {
  const sorted = Float64Array.from(latencies).sort();
  return { connections, ok, seconds, rate: ok / seconds, p50Ms: round2(percentile(sorted, 0.5)), p99Ms: round2(percentile(sorted, 0.99)), failures };
}

export interface SqlQuery {
  name: string;
  text: string;
  values: unknown[];
}

/** `connections` clients of the pool, each running the next query as soon as the last one answered, for `seconds`. */
export async function sqlLoad(pool: pg.Pool, connections: number, seconds: number, next: () => SqlQuery): Promise<Measured> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            await client.query(next());
            latencies.push(performance.now() - t0);
          } catch (err) {
            const key = `error: ${(err as Error).message.slice(0, 80)}`;
            failures[key] = (failures[key] ?? 0) + 1;
          }
        }
      } finally {
        client.release();
      }
    }),
  );
  return summarise(latencies, latencies.length, (performance.now() - started) / 1000, connections, failures);
}

export interface PlannedRequest {
  method: 'GET' | 'POST';
  /** Path and query exactly as sent (and signed). */
  path: string;
  body?: string;
}

interface SignedRequest extends PlannedRequest {
  headers: Record<string, string>;
}

/** Signs each planned request as the consumer would, one jti each, in batches (signatures are async). */
export async function presign(identity: ClientIdentity, hubId: string, purpose: string, planned: PlannedRequest[]): Promise<SignedRequest[]> {
  const signed: SignedRequest[] = [];
  const batch = 512;
  for (let i = 0; i < planned.length; i += batch) {
    const part = planned.slice(i, i + batch);
    const headers = await Promise.all(part.map((r) => signRequest({ identity, hubId, method: r.method, target: r.path, purpose, ...(r.body !== undefined ? { body: r.body } : {}) })));
    part.forEach((r, k) => {
      const h = headers[k]?.headers ?? {};
      signed.push({ ...r, headers: r.body !== undefined ? { ...h, 'content-type': 'application/json' } : h });
    });
  }
  return signed;
}

/**
 * Sends `amount` requests (autocannon's `amount`), `connections` at a time on keep-alive connections, each of the list
 * at most once (the list holds `connections` spares: autocannon may build a request per connection that it never sends).
 * The window is from the first to the last answer, so size the list for the duration wanted.
 */
export async function httpLoad(url: string, requests: SignedRequest[], connections: number, amount: number, timeoutSeconds = 30): Promise<Measured> {
  if (amount < 1 || requests.length < amount) throw new Error(`${requests.length} signed requests for ${amount} to send`);
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const setupClient = (client: autocannon.Client): void => {
    client.on('response', (status: number, _bytes: number, durationMs: number) => {
      if (status >= 200 && status < 300) {
        ok++;
        latencies.push(durationMs);
      } else failures[String(status)] = (failures[String(status)] ?? 0) + 1;
    });
  };
  const started = performance.now();
  const result = await autocannon({
    url,
    connections: Math.min(connections, amount),
    amount,
    timeout: timeoutSeconds,
    pipelining: 1,
    setupClient,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => {
          // Past the list's end (never sent, by the count above) the last one stands in.
          const r = requests[Math.min(next++, requests.length - 1)] as SignedRequest;
          return { ...request, method: r.method, path: r.path, headers: { ...request.headers, ...r.headers }, ...(r.body !== undefined ? { body: r.body } : {}) };
        },
      },
    ],
  });
  if (result.errors > 0) failures['error'] = result.errors;
  if (result.timeouts > 0) failures['timeout'] = result.timeouts;
  return summarise(latencies, ok, (performance.now() - started) / 1000, connections, failures);
}

/**
 * An HTTP arm: a short warm-up (`warmupCount` requests) that also tells the rate, then a measured run of about
 * `seconds` seconds (its requests signed before it starts, between `min` and `max` of them).
 */
export async function httpArm(options: {
  url: string;
  identity: ClientIdentity;
  hubId: string;
  purpose: string;
  connections: number;
  seconds: number;
  warmupCount: number;
  /** Keep warming up (at the warm-up's own rate) until this many seconds have passed; 0 or absent: the count alone. */
  warmupSeconds?: number;
  min: number;
  max: number;
  plan: (n: number) => PlannedRequest[];
}): Promise<Measured & { warmupRate: number; requests: number }> {
  const { url, identity, hubId, purpose, connections } = options;
  const run = async (amount: number) => httpLoad(url, await presign(identity, hubId, purpose, options.plan(amount + connections)), connections, amount);
  let warm = await run(options.warmupCount);
  const warmFailures = { ...warm.failures };
  let warmed = warm.seconds;
  let warmOk = warm.ok;
  while (options.warmupSeconds !== undefined && warmed < options.warmupSeconds && warm.rate > 0) {
    warm = await run(Math.max(options.warmupCount, Math.ceil(warm.rate * (options.warmupSeconds - warmed))));
    for (const [k, v] of Object.entries(warm.failures)) warmFailures[k] = (warmFailures[k] ?? 0) + v;
    warmed += warm.seconds;
    warmOk += warm.ok;
  }
  const measured = await run(Math.max(options.min, Math.min(options.max, Math.ceil(warm.rate * options.seconds))));
  for (const [k, v] of Object.entries(warmFailures)) measured.failures[`${k} (warm-up)`] = v;
  return { ...measured, warmupRate: warm.rate, requests: warmOk + measured.ok };
}

/** CPU seconds (user + system, all threads) a process has used so far; 0 when it is gone. Clock ticks of 1/100 s. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields 14 (utime) and 15 (stime) of proc(5); the command name before them may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by each PostgreSQL server process of this machine (shared with whatever else uses it). */
export function postgresCpu(): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') cpu.set(Number(entry), processCpuSeconds(Number(entry)));
    } catch {
      // Gone meanwhile.
    }
  }
  return cpu;
}

/** CPU used between two snapshots by the processes alive at the second (a backend that ended meanwhile is not counted). */
function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of postgresCpu()) total += seconds - (before.get(pid) ?? 0);
  return total;
}

export interface CpuShares {
  /** CPU used during the arm (warm-up included), in cores: the hub child, PostgreSQL, this process (the load generator). */
  hubCores: number;
  postgresCores: number;
  loadgenCores: number;
  /** Hub CPU per request answered (warm-up included), in ms. */
  hubCpuMsPerRequest: number;
}

/** Runs an arm and tells where the CPU went meanwhile. */
export async function withCpu<T extends Measured>(hubPid: number, run: () => Promise<T & { requests: number }>): Promise<T & CpuShares> {
  const before = { hub: processCpuSeconds(hubPid), postgres: postgresCpu(), loadgen: process.cpuUsage(), at: performance.now() };
  const result = await run();
  const seconds = (performance.now() - before.at) / 1000;
  const loadgen = process.cpuUsage(before.loadgen);
  const hub = processCpuSeconds(hubPid) - before.hub;
  return {
    ...result,
    hubCores: Number((hub / seconds).toFixed(2)),
    postgresCores: Number((postgresCpuSince(before.postgres) / seconds).toFixed(2)),
    loadgenCores: Number(((loadgen.user + loadgen.system) / 1e6 / seconds).toFixed(2)),
    hubCpuMsPerRequest: result.requests > 0 ? Number(((hub * 1000) / result.requests).toFixed(3)) : Number.NaN,
  };
}
