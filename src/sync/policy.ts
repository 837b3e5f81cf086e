// The retry and circuit policy of push deliveries, from the hub's configuration.
import type { Config } from '../config.ts';
import type { RetryPolicy } from './deliveries.ts';

export function syncPolicy(config: Config): RetryPolicy {
  return {
    maxAttempts: config.SYNC_MAX_ATTEMPTS,
    maxAgeMs: config.SYNC_MAX_AGE_HOURS * 3600_000,
    backoffBaseMs: config.SYNC_BACKOFF_BASE_SECONDS * 1000,
    backoffMaxMs: config.SYNC_BACKOFF_MAX_SECONDS * 1000,
    circuitThreshold: config.SYNC_CIRCUIT_THRESHOLD,
    circuitBaseMs: config.SYNC_CIRCUIT_SECONDS * 1000,
    circuitMaxMs: Math.max(config.SYNC_CIRCUIT_SECONDS * 1000, 5 * 60_000),
  };
}
