// The console's sign-in limit (src/console/sign-in-limit.ts) under a burst: the attempt is counted before any
// credential is checked, so parallel attempts cannot all read a count under the limit. On both drivers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxFailures, refusedFor, releaseAttempt, takeAttempt, throttleKeys } from '../src/console/sign-in-limit.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';

describe.each(drivers())('console sign-in limit on %s', (driver) => {
  let t!: TestDb;
  beforeAll(async () => {
    t = await openTestDb(driver);
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('lets exactly maxFailures attempts of a burst through to the credential check, and says which refusal is the first', async () => {
    const keys = throttleKeys('198.51.100.9', '0123456789abcdef');
    const attempts = await Promise.all(Array.from({ length: 40 }, () => takeAttempt(t.db, keys)));
    expect(attempts.filter((a) => a.retryAfter === undefined)).toHaveLength(maxFailures);
    expect(attempts.filter((a) => a.first)).toHaveLength(1);
    expect(await refusedFor(t.db, keys)).toBeGreaterThan(0);
  });

  it('gives a successful attempt back: operators signing in from one address never lock it out', async () => {
    const keys = (operator: string) => throttleKeys('198.51.100.10', operator);
    for (let i = 0; i < maxFailures * 3; i++) {
      const k = keys(`operator${String(i).padStart(8, '0')}`);
      const attempt = await takeAttempt(t.db, k);
      expect(attempt.retryAfter).toBeUndefined();
      await releaseAttempt(t.db, k);
    }
    expect(await refusedFor(t.db, keys('fedcba9876543210'))).toBeUndefined();
  });
});
