// Replay protection (check 7) and quotas (check 13), shared by every hub process: in Redis when there is one, in
// PostgreSQL otherwise. Both checks are answered in one round trip per exchange.
import { Redis } from 'ioredis';
import type { BackgroundFailureReport } from '../observability/metrics.ts';
import type { Db } from '../storage/db.ts';
import { QueueUnavailableError } from '../queue/queue.ts';

export const replayWindowSeconds = 600;

export interface QuotaRequest {
  /** Identifies the counter: convention id and version. */
  key: string;
  count: number;
  windowSeconds: number;
}

export interface LimitVerdict {
  replayed: boolean;
  quotaExceeded: boolean;
  /** Seconds until the quota window ends, when exceeded. */
  retryAfterSeconds?: number;
  /** Calls counted in the quota's current window, this one included (when a quota was checked): for the metrics. */
  quotaUsed?: number;
}

export interface ExchangeLimiter {
  /** Records the jti (refusing a replay) and, when the jti is fresh and a quota is given, counts the call. */
  check(jti: string, quota: QuotaRequest | undefined, nowMs?: number): Promise<LimitVerdict>;
  close(): Promise<void>;
}

function windowOf(quota: QuotaRequest, nowMs: number): { index: number; endsInSeconds: number } {
  const windowMs = quota.windowSeconds * 1000;
  const index = Math.floor(nowMs / windowMs);
  return { index, endsInSeconds: Math.max(1, Math.ceil(((index + 1) * windowMs - nowMs) / 1000)) };
}

// SET NX for the jti, then INCR the quota window only when the jti is fresh: a replay never consumes quota.
const checkScript = `
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
if not fresh then return {0, 0} end
if ARGV[2] == '1' then
  local n = redis.call('INCR', KEYS[2])
  if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
  return {1, n}
end
return {1, 0}`;

export function createRedisLimiter(options: { redisUrl: string; prefix?: string }): ExchangeLimiter {
  const prefix = options.prefix ?? 'tabadol';
  // Fail fast when Redis is away (a 503 for the caller) rather than queueing commands in memory.
  // Auto-pipelining sends the checks of concurrent exchanges in one write: fewer syscalls per exchange.
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: true, enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 2000, lazyConnect: false });
  // Without a listener an 'error' event (one per reconnect attempt) would crash the process; a command that fails
  // rejects on its own, and check() answers that as queue-unavailable (503).
  redis.on('error', () => undefined);
  redis.defineCommand('tabadolCheck', { numberOfKeys: 2, lua: checkScript });
  const run = redis as Redis & { tabadolCheck(k1: string, k2: string, ttl: number, doQuota: string, windowTtl: number): Promise<[number, number]> };
  return {
    async check(jti, quota, nowMs = Date.now()) {
      const window = quota ? windowOf(quota, nowMs) : undefined;
      const quotaKey = quota && window ? `${prefix}:quota:{${quota.key}}:${window.index}` : `${prefix}:quota:none`;
      let result: [number, number];
      try {
        result = await run.tabadolCheck(`${prefix}:jti:${jti}`, quotaKey, replayWindowSeconds, quota ? '1' : '0', (quota?.windowSeconds ?? 1) + 5);
      } catch (err) {
        throw new QueueUnavailableError(`Redis unreachable for replay and quota checks: ${(err as Error).message}`);
      }
      const [fresh, count] = result;
      if (fresh === 0) return { replayed: true, quotaExceeded: false };
      if (quota && window && count > quota.count) return { replayed: false, quotaExceeded: true, retryAfterSeconds: window.endsInSeconds, quotaUsed: count };
      return { replayed: false, quotaExceeded: false, ...(quota ? { quotaUsed: count } : {}) };
    },
    async close() {
      redis.disconnect();
    },
  };
}

/** `report`: where a failed sweep of expired rows is logged and counted (the exchange it ran beside is unaffected). */
export function createPostgresLimiter(db: Db, report: BackgroundFailureReport): ExchangeLimiter {
  let lastSweep = 0;
  return {
    async check(jti, quota, nowMs = Date.now()) {
      const window = quota ? windowOf(quota, nowMs) : undefined;
      // One statement: the jti insert decides; the quota counts only when the insert happened.
      const { rows } = await db.query<{ fresh: boolean; count: number | null }>(
        `WITH fresh AS (
           INSERT INTO exchange_replay (jti, expires_at) VALUES ($1, now() + make_interval(secs => $2::float8))
           ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE exchange_replay.expires_at < now()
           RETURNING 1
         ), counted AS (
           INSERT INTO exchange_quota (key, count, expires_at)
           SELECT $3::text, 1, now() + make_interval(secs => $4::float8) FROM fresh WHERE $3::text IS NOT NULL
           ON CONFLICT (key) DO UPDATE SET count = exchange_quota.count + 1
           RETURNING count
         )
         SELECT EXISTS (SELECT 1 FROM fresh) AS fresh, (SELECT count FROM counted) AS count`,
        [jti, replayWindowSeconds, quota && window ? `${quota.key}:${window.index}` : null, (quota?.windowSeconds ?? 1) + 5],
      );
      if (nowMs - lastSweep > 60_000) {
        lastSweep = nowMs;
        // Expired rows are dead weight; sweep now and then rather than per request.
        const sweepFailed = (table: string) => (err: unknown) => report('limits-sweep', err, { table });
        void db.query('DELETE FROM exchange_replay WHERE expires_at < now() - interval \'60 seconds\'').catch(sweepFailed('exchange_replay'));
        void db.query('DELETE FROM exchange_quota WHERE expires_at < now()').catch(sweepFailed('exchange_quota'));
      }
      const row = rows[0];
      if (!row?.fresh) return { replayed: true, quotaExceeded: false };
      if (quota && window && (row.count ?? 0) > quota.count) return { replayed: false, quotaExceeded: true, retryAfterSeconds: window.endsInSeconds, quotaUsed: row.count ?? 0 };
      return { replayed: false, quotaExceeded: false, ...(quota ? { quotaUsed: row.count ?? 0 } : {}) };
    },
    async close() {},
  };
}
