// Where the keys that sign conventions are found: members' keys in member_keys, the hub's own in its keyring.
import { importJWK, type JWK } from 'jose';
import type { KeyResolver } from '../conventions/signing.ts';
import type { Queryable } from '../storage/db.ts';
import type { HubKeyring } from './hub-keys.ts';

export type HubKeys = Pick<HubKeyring, 'hubId' | 'verifyKey'>;

/** A resolver that knows the hub's own keys (current and retired) and asks `resolveKey` for everyone else. */
export function withHubKeys(resolveKey: KeyResolver, keyring: HubKeys): KeyResolver {
  return async (signer, kid) => (signer === keyring.hubId ? keyring.verifyKey(kid) : resolveKey(signer, kid));
}

/** Resolves members' keys from member_keys: a revoked key is reported as revoked (not unknown), so the reason is precise. */
export function memberKeyResolver(db: Queryable): KeyResolver {
  return async (signer, kid) => {
    const { rows } = await db.query<{ alg: 'ES256' | 'EdDSA'; jwk: JWK; status: 'active' | 'revoked'; revoked_at: Date | null; compromised: boolean }>(
      'SELECT alg, jwk, status, revoked_at, compromised FROM member_keys WHERE member_id = $1 AND kid = $2',
      [signer, kid],
    );
    const row = rows[0];
    if (!row) return undefined;
    const key = await importJWK({ ...row.jwk, alg: row.alg }, row.alg);
    if (row.status === 'revoked') {
      return {
        revoked: true,
        compromised: row.compromised,
        ...(row.revoked_at ? { reason: `since ${row.revoked_at.toISOString()}`, revokedAt: row.revoked_at } : {}),
        ...(key instanceof Uint8Array ? {} : { key }),
      };
    }
    // Only asymmetric keys are ever registered (checkPublicJwk); a secret would allow HMAC, which is refused.
    return key instanceof Uint8Array ? undefined : key;
  };
}
