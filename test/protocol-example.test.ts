// docs/protocol.md's worked example must show exactly the bytes that the protocol produces, and they must verify.
import { readFileSync } from 'node:fs';
import { compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { protocolExample } from '../scripts/protocol-example.ts';
import { signRequest } from '../src/client/index.ts';

const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
const example = protocolExample();

describe('the worked example of docs/protocol.md', () => {
  it('shows the key, the digests, the encoded parts, the JWS and the curl line byte for byte', () => {
    for (const value of [example.privateJwk.x, example.privateJwk.d, example.bdh, example.headerB64, example.payloadB64, example.signatureB64, example.curl]) {
      expect(doc).toContain(value);
    }
    expect(doc).toContain(JSON.stringify(example.claims));
    expect(doc).toContain(JSON.stringify(example.header));
  });

  it('verifies with a standard JOSE library and carries the documented claims', async () => {
    const key = await importJWK(example.publicJwk, 'EdDSA');
    const { payload, protectedHeader } = await compactVerify(example.jws, key, { algorithms: ['EdDSA'] });
    expect(protectedHeader).toEqual(example.header);
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(example.claims);
  });

  it('is what the client library produces for the same inputs (EdDSA is deterministic)', async () => {
    const privateKey = await importJWK(example.privateJwk, 'EdDSA');
    const { headers } = await signRequest({
      identity: { id: String(example.claims.iss), kid: example.privateJwk.kid ?? '', alg: 'EdDSA', privateKey },
      hubId: String(example.claims.aud),
      method: 'GET',
      target: String(example.claims.htu),
      purpose: String(example.claims.pur),
      jti: String(example.claims.jti),
      iat: Number(example.claims.iat),
    });
    expect(headers['tabadol-signature']).toBe(example.jws);
  });
});
