// Prints the worked example of docs/protocol.md: a fixed Ed25519 key (EdDSA signatures are deterministic), fixed
// claims, the exact JWS and curl line. test/protocol-example.test.ts checks that the document shows these bytes.
import { createHash, createPrivateKey, sign } from 'node:crypto';

export interface ProtocolExample {
  privateJwk: Record<string, string>;
  publicJwk: Record<string, string>;
  body: string;
  bdh: string;
  header: Record<string, string>;
  claims: Record<string, string | number>;
  headerB64: string;
  payloadB64: string;
  signatureB64: string;
  jws: string;
  curl: string;
}

const seed = Buffer.from('7461626164c3b76c2d776f726b65642d6578616d706c652d6b65792d30303031', 'hex'); // "tabadol-worked-example-key-0001", 32 bytes

export function protocolExample(): ProtocolExample {
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const jwk = key.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; d: string };
  const kid = 'mef-2026-01';
  const privateJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d, kid, alg: 'EdDSA' };
  const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' };
  const body = '';
  const bdh = createHash('sha256').update(body).digest('base64url');
  const target = '/x/v1/MA/GOV/METLE/qualification-btp/classification/companies/002145873000014/classification';
  const header = { alg: 'EdDSA', kid, typ: 'tabadol-request+jwt' };
  const claims = {
    iss: 'MA/GOV/MEF/marches-publics',
    aud: 'MA/GOV/HUB/core',
    htm: 'GET',
    htu: target,
    pur: 'public-procurement-eligibility',
    iat: 1798761600,
    jti: '3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d',
    bdh,
  };
  const headerB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
  const payloadB64 = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signatureB64 = sign(null, Buffer.from(`${headerB64}.${payloadB64}`), key).toString('base64url');
  const jws = `${headerB64}.${payloadB64}.${signatureB64}`;
  const curl = [
    `curl -i 'http://localhost:8080${target}' \\`,
    `  -H 'Tabadol-Client: ${claims.iss}' \\`,
    `  -H 'Tabadol-Purpose: ${claims.pur}' \\`,
    `  -H 'Tabadol-Signature: ${jws}'`,
  ].join('\n');
  return { privateJwk, publicJwk, body, bdh, header, claims, headerB64, payloadB64, signatureB64, jws, curl };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const e = protocolExample();
  process.stdout.write(`${JSON.stringify(e, null, 2)}\n`);
}
