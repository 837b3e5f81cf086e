// Interoperability: a consumer written with a second JOSE library (node-jose, not jose which the hub and src/client
// use) signs requests and verifies the hub's answers from the protocol text alone; one answer is also verified with
// plain node:crypto. If these pass, the protocol is implementable without the project's own code.
import { createHash, createPublicKey, randomUUID, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK as JoseJwk } from 'jose';
import jose from 'node-jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIces } from '../../adapters/btp-qualification/data.ts';
import { btpService, mefPurpose, startExchangeWorld, type ExchangeWorld, type MemberKey } from './harness.ts';
import { hasServer } from '../helpers/servers.ts';

const consumerId = 'MA/GOV/TEST/interop-node-jose';
const digest = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('base64url');

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

describe.runIf(hasServer('postgres') && hasServer('redis'))('a node-jose consumer (a second JOSE library) talks to the hub', () => {
  let world: ExchangeWorld;
  let key: jose.JWK.Key;

  /** Signs as the protocol says, with node-jose only, and calls the hub with plain fetch. */
  const call = async (method: string, target: string, purpose: string, body?: string): Promise<{ signature: string; jti: string; answer: Answer }> => {
    const jti = randomUUID();
    const claims = { iss: consumerId, aud: world.hubId, htm: method, htu: target, pur: purpose, iat: Math.floor(Date.now() / 1000), jti, bdh: digest(body ?? '') };
    const signed: unknown = await jose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: key.kid, typ: 'tabadol-request+jwt' } }, key)
      .update(JSON.stringify(claims), 'utf8')
      .final();
    if (typeof signed !== 'string') throw new Error('node-jose did not produce a compact JWS');
    const res = await fetch(`${world.urls[0] ?? ''}${target}`, {
      method,
      headers: { 'Tabadol-Client': consumerId, 'Tabadol-Purpose': purpose, 'Tabadol-Signature': signed, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    return { signature: signed, jti, answer: { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) } };
  };

  /** Verifies the hub's answer with node-jose against the JWKS the hub publishes, then checks the claims. */
  const verifyWithNodeJose = async (answer: Answer, request: { signature: string; jti: string }) => {
    const jwks = (await (await fetch(`${world.urls[0] ?? ''}/.well-known/jwks.json`)).json()) as object;
    const keystore = await jose.JWK.asKeyStore(jwks);
    const signature = answer.headers.get('tabadol-signature');
    expect(signature).toBeTruthy();
    const verified = await jose.JWS.createVerify(keystore, { algorithms: ['ES256', 'EdDSA'] }).verify(signature ?? '');
    const header = verified.header as { alg?: string; kid?: string; typ?: string };
    expect(header.typ).toBe('tabadol-response+jwt');
    expect(header.alg).toBe('ES256');
    const claims = JSON.parse(verified.payload.toString('utf8')) as Record<string, unknown>;
    expect(claims.bdh, 'bdh (digest of the body as received)').toBe(digest(answer.body));
    expect(claims.rqh, 'rqh (digest of our Tabadol-Signature)').toBe(digest(request.signature));
    expect(claims).toMatchObject({ iss: world.hubId, aud: consumerId, jti: request.jti, sts: answer.status });
    expect(typeof claims.iat).toBe('number');
    expect(answer.headers.get('tabadol-request-id')).toBe(request.jti);
    return claims;
  };

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pg', redis: true });
    key = await jose.JWK.createKey('EC', 'P-256', { alg: 'ES256', use: 'sig' });
    const publicJwk = key.toJSON() as JoseJwk;
    const privateJwk = key.toJSON(true) as JoseJwk;
    expect(publicJwk).not.toHaveProperty('d');
    // Registered through its public JWK; the harness (jose) signs the convention with the exported private JWK.
    const asMemberKey: MemberKey = {
      kid: key.kid,
      alg: 'ES256',
      privateJwk,
      publicJwk,
      privateKey: (await importJWK(privateJwk, 'ES256')) as CryptoKey,
      publicKey: (await importJWK(publicJwk, 'ES256')) as CryptoKey,
    };
    await world.registerConsumer(consumerId, 'ES256', [asMemberKey]);
    await world.addConvention({ consumer: consumerId, operations: [{ operationId: 'getCompanyClassification', fields: ['ice', 'statut'] }] });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('signs a call that the hub accepts, and verifies the signed answer (rqh, bdh, sts, jti)', async () => {
    const request = await call('GET', `/x/v1/${btpService}/companies/${demoIces.qualified}/classification`, mefPurpose);
    expect(request.answer.status).toBe(200);
    expect(JSON.parse(request.answer.body.toString('utf8'))).toEqual({ ice: demoIces.qualified, statut: 'VALIDE' });
    await verifyWithNodeJose(request.answer, request);
  });

  it('verifies a refusal the same way', async () => {
    const request = await call('GET', `/x/v1/${btpService}/companies/${demoIces.qualified}`, mefPurpose);
    expect(request.answer.status).toBe(403);
    expect(JSON.parse(request.answer.body.toString('utf8'))).toMatchObject({ type: 'urn:tabadol:problem:operation-not-allowed', requestId: request.jti });
    await verifyWithNodeJose(request.answer, request);
  });

  it('signs a metaservice call and a call with a body digest', async () => {
    const meta = await call('GET', '/meta/v1/allowed', mefPurpose);
    expect(meta.answer.status).toBe(200);
    await verifyWithNodeJose(meta.answer, meta);
    // A body the signer digested: passes check 8 (then refused at 10, POST not an operation); a wrong digest would be 401.
    const posted = await call('POST', `/x/v1/${btpService}/companies/${demoIces.qualified}/classification`, mefPurpose, '{"é":"ü"}');
    expect(JSON.parse(posted.answer.body.toString('utf8'))).toMatchObject({ type: 'urn:tabadol:problem:operation-not-allowed' });
    await verifyWithNodeJose(posted.answer, posted);
  });

  it('node-jose refuses the hub answer once its body is altered (the digest no longer matches)', async () => {
    const request = await call('GET', `/x/v1/${btpService}/companies/${demoIces.topClass}/classification`, mefPurpose);
    const altered = { ...request.answer, body: Buffer.from(request.answer.body.toString('utf8').replace(demoIces.topClass, demoIces.qualified)) };
    const claims = await verifyWithNodeJose(request.answer, request);
    expect(altered.body.equals(request.answer.body)).toBe(false);
    expect(digest(altered.body)).not.toBe(claims.bdh);
    await expect(verifyWithNodeJose(altered, request)).rejects.toThrow(/bdh/);
  });

  it('verifies an answer with plain node:crypto (ES256, ieee-p1363)', async () => {
    const request = await call('GET', `/x/v1/${btpService}/companies/${demoIces.suspended}/classification`, mefPurpose);
    expect(request.answer.status).toBe(200);
    const signature = request.answer.headers.get('tabadol-signature') ?? '';
    const [headerPart = '', payloadPart = '', signaturePart = ''] = signature.split('.');
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg: string; kid: string; typ: string };
    expect(header).toMatchObject({ alg: 'ES256', typ: 'tabadol-response+jwt' });
    const jwks = (await (await fetch(`${world.urls[0] ?? ''}/.well-known/jwks.json`)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    expect(jwk, `kid ${header.kid} in the hub JWKS`).toBeDefined();
    const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const ok = cryptoVerify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signaturePart, 'base64url'));
    expect(ok).toBe(true);
    const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: world.hubId, jti: request.jti, sts: 200, rqh: digest(request.signature), bdh: digest(request.answer.body) });
    // The same bytes with one flipped bit of the body do not pass the digest.
    expect(digest(Buffer.concat([request.answer.body, Buffer.from(' ')]))).not.toBe(claims.bdh);
  });
});
