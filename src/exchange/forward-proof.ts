// The hub's proof to a provider that a call came through it (Tabadol-Hub-Signature, docs/protocol.md §5): a compact
// JWS by the hub's ES256 key, which any provider verifies with the hub's JWKS, or, for a binding that asked for it, an
// HS256 JWS with a key of that binding's own: one signature operation fewer per exchange (docs/decisions.md §24).
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

export const forwardTyp = 'tabadol-forward+jwt';

/** A binding's HS256 forward proof: the id of its key (the key itself is derived, never stored). */
export interface ForwardProof {
  alg: 'HS256';
  keyId: string;
}

/** A fresh key id, `fk-` and 16 random base64url characters: a new id is a new key (rotation). */
export function newForwardKeyId(): string {
  return `fk-${randomBytes(12).toString('base64url')}`;
}

export const forwardKeyIdPattern = /^fk-[A-Za-z0-9_-]{16}$/;

/**
 * A binding's HS256 key: HKDF-SHA256 of the hub's secret (its key file's subject key), in a domain of its own, for this
 * service and key id. Whoever reads the hub's key file can derive it; the database holds only the id.
 */
export function deriveForwardKey(hubSecret: Uint8Array, serviceId: string, keyId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', hubSecret, Buffer.from('tabadol-forward-key/v1'), Buffer.from(`${serviceId}\u0000${keyId}`, 'utf8'), 32));
}

/** What the provider verifies: the claims of docs/protocol.md §5. */
export interface ForwardClaims {
  iss: string;
  sub: string;
  pur: string;
  jti: string;
  htm: string;
  htu: string;
  iat: number;
}

/** Signs forward proofs: ES256 through the hub's keyring, HS256 with each binding's derived key (derived once). */
export class ForwardSigner {
  private readonly hs256 = new Map<string, { key: Buffer; header: string }>();

  constructor(
    private readonly hubSecret: Uint8Array,
    private readonly es256: (payload: Record<string, unknown>, typ: string) => string,
  ) {}

  sign(serviceId: string, proof: ForwardProof | undefined, claims: ForwardClaims): string {
    if (!proof) return this.es256({ ...claims }, forwardTyp);
    const cacheKey = `${serviceId}\u0000${proof.keyId}`;
    let entry = this.hs256.get(cacheKey);
    if (!entry) {
      entry = { key: deriveForwardKey(this.hubSecret, serviceId, proof.keyId), header: Buffer.from(JSON.stringify({ alg: 'HS256', kid: proof.keyId, typ: forwardTyp })).toString('base64url') };
      // Bindings are few; a registry that rotated them all many times over just derives again.
      if (this.hs256.size >= 4096) this.hs256.clear();
      this.hs256.set(cacheKey, entry);
    }
    const signingInput = `${entry.header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${signingInput}.${createHmac('sha256', entry.key).update(signingInput).digest('base64url')}`;
  }
}
