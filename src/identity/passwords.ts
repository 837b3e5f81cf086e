// Operator passwords for the console: scrypt (RFC 7914) with a random salt, stored as scrypt$N$r$p$salt$hash, and
// compared in constant time. The cost is in the stored string, so a later, higher cost leaves old hashes verifiable.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** N=2^15, r=8, p=1: about 32 MiB and a few tens of ms per attempt, OWASP's floor for scrypt. */
const cost = { N: 32768, r: 8, p: 1 } as const;
const keyLength = 32;
/** Passwords longer than this are refused before hashing: bounded work per sign-in. */
export const maxPasswordLength = 256;
export const minPasswordLength = 12;

function derive(password: string, salt: Buffer, options: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, { ...options, maxmem: 256 * options.N * options.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

// A stored hash with these parameters is ours: anything else (a hand-edited row) verifies as false, never throws.
const stored = /^scrypt\$(\d{4,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{43})$/;
// A dummy to hash against when there is no stored hash, so that a missing one costs as much as a wrong one.
const dummy = `scrypt$${cost.N}$${cost.r}$${cost.p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(keyLength).toString('base64url')}`;

/** Whether the password matches the stored hash; always does the work of one scrypt, even without a hash. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (password.length > maxPasswordLength) return false;
  const [, n = '', r = '', p = '', salt = '', key = ''] = stored.exec(hash ?? dummy) ?? stored.exec(dummy) ?? [];
  const N = Number(n);
  // Parameters bounded as read: a row cannot make one sign-in cost more than the hub's own setting allows.
  if (N > cost.N * 4 || (N & (N - 1)) !== 0 || Number(r) > 16 || Number(p) > 4) return false;
  const expected = Buffer.from(key, 'base64url');
  const derived = await derive(password, Buffer.from(salt, 'base64url'), { N, r: Number(r), p: Number(p) });
  return timingSafeEqual(derived, expected) && hash !== undefined;
}
