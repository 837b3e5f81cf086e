// Console sessions: a random secret in an HttpOnly, SameSite=Strict cookie (Secure over TLS), its SHA-256 in
// console_sessions with the session's form token; idle and absolute timeouts decided by the database's clock.
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { activeOperator, type Operator } from '../identity/operators.ts';
import type { AppEnv } from '../http/context.ts';
import { requestHeader } from '../http/app.ts';
import type { Queryable } from '../storage/db.ts';

export const sessionCookie = 'tabadol_console';
/** A session unused this long ends (the operator signs in again). */
export const idleTimeoutMinutes = 30;
/** A session ends this long after sign-in, however busy. */
export const absoluteTimeoutHours = 12;
// last_seen_at is written at most this often: a page view is a read, not a write, most of the time.
const touchEverySeconds = 60;

export interface ConsoleSession {
  operator: Operator;
  csrfToken: string;
}

const hashId = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Whether this request reached the hub over TLS (directly, or through a proxy that says so). */
export function overTls(c: Context<AppEnv>): boolean {
  const socket = c.env?.incoming?.socket as { encrypted?: boolean } | undefined;
  return socket?.encrypted === true || requestHeader(c, 'x-forwarded-proto') === 'https' || new URL(c.req.url).protocol === 'https:';
}

export function cookieOptions(c: Context<AppEnv>) {
  return { path: '/console', httpOnly: true, secure: overTls(c), sameSite: 'Strict' as const };
}

/** Opens a session for the operator and sets its cookie. */
export async function openSession(c: Context<AppEnv>, db: Queryable, operator: Operator): Promise<void> {
  const secret = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  await db.query('INSERT INTO console_sessions (id_hash, operator_id, csrf_token) VALUES ($1, $2, $3)', [hashId(secret), operator.id, csrf]);
  // No Max-Age: a browser session cookie; the server's timeouts are what end it.
  setCookie(c, sessionCookie, secret, cookieOptions(c));
}

export type SessionLookup = { state: 'none' } | { state: 'expired' } | { state: 'valid'; session: ConsoleSession };

/** The request's session: none (no cookie, unknown), expired (and removed), or valid (and touched). */
export async function readSession(c: Context<AppEnv>, db: Queryable): Promise<SessionLookup> {
  const secret = getCookie(c, sessionCookie);
  if (!secret || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return { state: 'none' };
  const id = hashId(secret);
  const { rows } = await db.query<{ operator_id: string; csrf_token: string; expired: boolean; touch: boolean }>(
    `SELECT operator_id, csrf_token,
            (last_seen_at < now() - make_interval(mins => $2) OR created_at < now() - make_interval(hours => $3)) AS expired,
            last_seen_at < now() - make_interval(secs => $4) AS touch
       FROM console_sessions WHERE id_hash = $1`,
    [id, idleTimeoutMinutes, absoluteTimeoutHours, touchEverySeconds],
  );
  const row = rows[0];
  if (!row) return { state: 'none' };
  const operator = row.expired ? undefined : await activeOperator(db, row.operator_id);
  if (!operator) {
    await db.query('DELETE FROM console_sessions WHERE id_hash = $1', [id]);
    deleteCookie(c, sessionCookie, cookieOptions(c));
    return { state: 'expired' };
  }
  if (row.touch) await db.query('UPDATE console_sessions SET last_seen_at = now() WHERE id_hash = $1', [id]);
  return { state: 'valid', session: { operator, csrfToken: row.csrf_token } };
}

/** Ends the request's session (sign-out), in the database and in the browser. */
export async function closeSession(c: Context<AppEnv>, db: Queryable): Promise<void> {
  const secret = getCookie(c, sessionCookie);
  if (secret) await db.query('DELETE FROM console_sessions WHERE id_hash = $1', [hashId(secret)]);
  deleteCookie(c, sessionCookie, cookieOptions(c));
}
