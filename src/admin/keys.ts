// Key pairs for members' subsystems (`tabadol keys generate`): the private JWK they keep, the public JWK set they register.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export type MemberKeyAlgorithm = 'ES256' | 'EdDSA';

export const kidPattern = /^[A-Za-z0-9._-]{1,128}$/;

export interface MemberKeyPair {
  kid: string;
  alg: MemberKeyAlgorithm;
  privateJwk: JWK;
  publicJwks: { keys: JWK[] };
}

/** Generates a key pair; without a kid, one derived from the key's thumbprint (RFC 7638), unique without coordination. */
export async function generateMemberKeyPair(alg: MemberKeyAlgorithm, kid?: string): Promise<MemberKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const publicJwk = await exportJWK(publicKey);
  const keyId = kid ?? `${alg === 'ES256' ? 'es256' : 'ed25519'}-${(await calculateJwkThumbprint(publicJwk)).slice(0, 16)}`;
  const meta = { kid: keyId, alg, use: 'sig' };
  return { kid: keyId, alg, privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwks: { keys: [{ ...publicJwk, ...meta }] } };
}
