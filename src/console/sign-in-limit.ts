// The sign-in limit: failed sign-ins counted per operator (the id typed in the password form) and per client address
// (both forms), in console_sign_in_failures (migration 0020) so that every hub process counts the same attempts. At
// maxFailures failures within a window of windowMs that started at the first one, that key is refused (429, with
// Retry-After) until the window ends, before any password or token is checked: a guesser gets 5 tries a quarter of an
// hour per name and per address. Keys are stored as SHA-256 digests (no typed name or address in the table). Each
// attempt costs the same few statements whatever it names; the password check itself always runs one scrypt
// (identity/passwords.ts), so a name that does not exist answers as slowly as one that does.
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { AppEnv } from '../http/context.ts';
import type { Queryable } from '../storage/db.ts';

export const maxFailures = 5;
export const windowMs = 15 * 60_000;

export interface ThrottleKeys {
  /** Digests of `address:<ip>` and, for the password form, `operator:<id>`. */
  hashes: string[];
  address: string;
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * The peer's address as the hub's socket sees it. Behind a reverse proxy that is the proxy's, shared by every
 * operator: the per-operator limit still holds, the per-address one then counts the proxy's traffic as one client.
 */
export function clientAddress(c: Context<AppEnv>): string {
  return c.env?.incoming?.socket.remoteAddress ?? 'in-process';
}

export function throttleKeys(address: string, operatorId: string | undefined): ThrottleKeys {
  const hashes = [digest(`address:${address}`)];
  // The id as typed (bounded: the form allows 16 characters), so that guessing an operator's id is limited as well.
  if (operatorId !== undefined && operatorId !== '') hashes.push(digest(`operator:${operatorId.trim().slice(0, 100)}`));
  return { hashes, address };
}

/** Seconds until the keys may try again, or undefined when none of them is at the limit (a look, taking no attempt). */
export async function refusedFor(db: Queryable, keys: ThrottleKeys): Promise<number | undefined> {
  const { rows } = await db.query<{ seconds: string | null }>(
    `SELECT ceil(extract(epoch FROM max(window_start) + $3::int * interval '1 millisecond' - now()))::text AS seconds
       FROM console_sign_in_failures WHERE key_hash = ANY($1::text[]) AND failures >= $2 AND window_start > now() - $3::int * interval '1 millisecond'`,
    [keys.hashes, maxFailures, windowMs],
  );
  const seconds = rows[0]?.seconds;
  return seconds === null || seconds === undefined ? undefined : Math.max(1, Number(seconds));
}

/**
 * Takes one attempt against each key before any credential is checked, in one statement per key set: parallel
 * attempts each see their own count (a burst cannot all read "under the limit" and all get a password check). The
 * attempt is refused when any key is then over maxFailures; `first` says this attempt is the one that went over (the
 * refusal is audited once per window, not at every request of a flood). A window that has ended starts again at 1,
 * and ended windows are dropped. A success gives its attempt back (releaseAttempt).
 */
export async function takeAttempt(db: Queryable, keys: ThrottleKeys): Promise<{ retryAfter?: number; first: boolean }> {
  const { rows } = await db.query<{ failures: number; seconds: string }>(
    `INSERT INTO console_sign_in_failures (key_hash, failures, window_start) SELECT k, 1, now() FROM unnest($1::text[]) AS k
     ON CONFLICT (key_hash) DO UPDATE SET
       failures = CASE WHEN console_sign_in_failures.window_start <= now() - $2::int * interval '1 millisecond' THEN 1 ELSE least(console_sign_in_failures.failures + 1, 1000000) END,
       window_start = CASE WHEN console_sign_in_failures.window_start <= now() - $2::int * interval '1 millisecond' THEN now() ELSE console_sign_in_failures.window_start END
     RETURNING failures, ceil(extract(epoch FROM window_start + $2::int * interval '1 millisecond' - now()))::text AS seconds`,
    [keys.hashes, windowMs],
  );
  // Each row is deleted once after its window: a flood of distinct names costs one delete per name, spread over time.
  await db.query(`DELETE FROM console_sign_in_failures WHERE window_start <= now() - $1::int * interval '1 millisecond'`, [windowMs]);
  const over = rows.filter((r) => r.failures > maxFailures);
  if (over.length === 0) return { first: false };
  return { retryAfter: Math.max(1, ...over.map((r) => Number(r.seconds))), first: over.some((r) => r.failures === maxFailures + 1) };
}

/**
 * A successful sign-in gives its attempt back and clears its operator's count; the address keeps the failures it had
 * (one success does not excuse a scan), so that operators signing in from one address never lock it out.
 */
export async function releaseAttempt(db: Queryable, keys: ThrottleKeys): Promise<void> {
  const [addressKey, ...operatorKeys] = keys.hashes;
  if (addressKey !== undefined) await db.query('UPDATE console_sign_in_failures SET failures = greatest(failures - 1, 0) WHERE key_hash = $1', [addressKey]);
  if (operatorKeys.length > 0) await db.query('DELETE FROM console_sign_in_failures WHERE key_hash = ANY($1::text[])', [operatorKeys]);
}
