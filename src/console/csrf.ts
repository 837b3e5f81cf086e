// Form tokens: every console form carries one (field _csrf), compared in constant time with the session's (or, before
// sign-in, with a cookie of its own: double submit). SameSite=Strict already keeps the cookies off cross-site posts;
// the token is the second lock, and the Origin check the third.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../http/context.ts';
import { requestHeader } from '../http/app.ts';
import { cookieOptions } from './session.ts';

export const csrfField = '_csrf';
const signInCookie = 'tabadol_console_signin';

/** Equal in constant time: both sides hashed first, so that lengths differ without saying by how much. */
export function sameToken(presented: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(presented ?? '').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented !== undefined && expected.length > 0;
}

/**
 * A cross-site request names another origin (Origin), or says it is one (Sec-Fetch-Site); a same-origin one names
 * ours. A client that sends neither (curl, an old browser) is left to the form token.
 */
export function sameOrigin(c: Context<AppEnv>): boolean {
  const site = requestHeader(c, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = requestHeader(c, 'origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === requestHeader(c, 'host');
  } catch {
    return false;
  }
}

/** The sign-in form's token: set as its own cookie on the sign-in page, sent back in the form. */
export function signInToken(c: Context<AppEnv>): string {
  const existing = getCookie(c, signInCookie);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  setCookie(c, signInCookie, token, cookieOptions(c));
  return token;
}

export function signInTokenMatches(c: Context<AppEnv>, presented: string | undefined): boolean {
  const cookie = getCookie(c, signInCookie);
  return cookie !== undefined && sameToken(presented, cookie);
}
