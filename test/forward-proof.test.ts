// The hub's forward proof (Tabadol-Hub-Signature, docs/protocol.md §5): HS256 with a key per binding when the service
// was bound with `forwardProof: hs256` (docs/decisions.md §24), checked by the provider-side verifier that the BTP
// simulator uses; the binding keeps its key id across re-bindings unless rotated; ES256 stays the default.
import type { IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { createHubSignatureVerifier, type ForwardedRequest } from '../adapters/btp-qualification/hub-signature.ts';
import { AdminInputError } from '../src/admin/errors.ts';
import { listBindings, setBinding } from '../src/admin/bindings.ts';
import { deriveForwardKey, ForwardSigner, forwardKeyIdPattern, type ForwardClaims } from '../src/exchange/forward-proof.ts';
import { hubId, mefId, mefPurpose, provider, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';

const secret = Buffer.alloc(32, 7);
const keyId = 'fk-AAAAAAAAAAAAAAAA';
const serviceId = `${provider}/classification`;
const target = `/api/companies/${demoIces.qualified}/classification`;
const claims: ForwardClaims = { iss: hubId, sub: mefId, pur: mefPurpose, jti: '6f1c2f4e-8a4b-4c1e-9d7a-2b3c4d5e6f70', htm: 'GET', htu: target, iat: Math.floor(Date.now() / 1000) };
const noEs256 = (): string => {
  throw new Error('an HS256 binding must not be signed with ES256');
};

function forwarded(headers: Record<string, string>, overrides: Partial<ForwardedRequest> = {}): ForwardedRequest {
  return { method: 'GET', target, header: (name) => headers[name], ...overrides };
}

function headersOf(token: string): Record<string, string> {
  return { 'tabadol-client': mefId, 'tabadol-purpose': mefPurpose, 'tabadol-request-id': claims.jti, 'tabadol-hub-signature': token };
}

describe('HS256 forward proof, signer and provider-side verifier', () => {
  const token = new ForwardSigner(secret, noEs256).sign(serviceId, { alg: 'HS256', keyId }, claims);
  const key = deriveForwardKey(secret, serviceId, keyId).toString('base64url');
  // No JWKS is reachable there: an HS256 proof never needs it.
  const verify = createHubSignatureVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json', hubId, forwardKey: { keyId, key } });

  it('is a compact JWS with alg HS256, the key id and the forward typ', () => {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(header).toEqual({ alg: 'HS256', kid: keyId, typ: 'tabadol-forward+jwt' });
  });

  it('verifies with the binding key and binds the request', async () => {
    expect(await verify(forwarded(headersOf(token)))).toEqual({ ok: true, client: mefId, purpose: mefPurpose, requestId: claims.jti });
    const other = await verify(forwarded(headersOf(token), { target: `/api/companies/${demoIces.unknown}/classification` }));
    expect(other).toMatchObject({ ok: false, code: 'hub-signature-mismatch' });
  });

  it('refuses another service key, a tampered payload, a truncated MAC, and an HS256 proof where no key is configured', async () => {
    const otherService = deriveForwardKey(secret, `${provider}/other`, keyId).toString('base64url');
    const wrongKey = createHubSignatureVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json', forwardKey: { keyId, key: otherService } });
    expect(await wrongKey(forwarded(headersOf(token)))).toMatchObject({ ok: false, code: 'hub-signature-invalid' });
    const [h, , mac] = token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'MA/GOV/X/y' })).toString('base64url')}.${mac}`;
    expect(await verify(forwarded({ ...headersOf(tampered), 'tabadol-client': 'MA/GOV/X/y' }))).toMatchObject({ ok: false, code: 'hub-signature-invalid' });
    expect(await verify(forwarded(headersOf(token.slice(0, -4))))).toMatchObject({ ok: false, code: 'hub-signature-invalid' });
    const jwksOnly = createHubSignatureVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json' });
    expect(await jwksOnly(forwarded(headersOf(token)))).toMatchObject({ ok: false, code: 'hub-signature-invalid' });
  });

  it('accepts one spelling of the MAC only, and refuses to start with a key that is not 32 bytes or an id that is not fk-…', async () => {
    const [h, p, mac = ''] = token.split('.');
    expect(await verify(forwarded(headersOf(`${h}.${p}.${mac}=`)))).toMatchObject({ ok: false, code: 'hub-signature-invalid' });
    // The last character's spare bits set: Buffer decodes it to the same MAC, the verifier does not take it.
    const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(mac.at(-1) ?? 'A');
    const respelt = `${mac.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex + 1] ?? ''}`;
    expect(Buffer.from(respelt, 'base64url').equals(Buffer.from(mac, 'base64url'))).toBe(true);
    expect(await verify(forwarded(headersOf(`${h}.${p}.${respelt}`)))).toMatchObject({ ok: false, code: 'hub-signature-invalid' });
    for (const forwardKey of [{ keyId, key: '' }, { keyId, key: key.slice(0, 20) }, { keyId: 'k1', key }]) {
      expect(() => createHubSignatureVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json', forwardKey })).toThrow(RangeError);
    }
  });

  it('refuses a proof under another key id (a rotated key)', async () => {
    const rotated = new ForwardSigner(secret, noEs256).sign(serviceId, { alg: 'HS256', keyId: 'fk-BBBBBBBBBBBBBBBB' }, claims);
    expect(await verify(forwarded(headersOf(rotated)))).toMatchObject({ ok: false, code: 'hub-signature-invalid' });
  });

  it('signs with ES256 (the keyring) when the binding has no HS256 proof', () => {
    const calls: string[] = [];
    const signer = new ForwardSigner(secret, (_payload, typ) => {
      calls.push(typ);
      return 'es256-token';
    });
    expect(signer.sign(serviceId, undefined, claims)).toBe('es256-token');
    expect(calls).toEqual(['tabadol-forward+jwt']);
  });
});

describe('a hub forwarding under an HS256 binding', () => {
  let world: ExchangeWorld;
  let received: IncomingHttpHeaders | undefined;
  let receivedUrl: string | undefined;
  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pglite', redis: false });
    const stub = await world.stubProvider((req, res) => {
      received = req.headers;
      receivedUrl = req.url;
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end('{"type":"about:blank","title":"Not found","status":404}');
    });
    await setBinding(world.db, { serviceId: `${provider}/hs`, baseUrl: stub.url, timeoutMs: 2000, forwardProof: 'hs256', actor: 'test' });
    await world.addConvention({ consumer: mefId, service: 'hs', operations: [{ operationId: 'getCompanyClassification', subjects: [{ type: 'ice', in: 'path', name: 'ice' }] }] });
    await world.sync();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('sends a proof the provider verifies with the key derived from the hub key file and the binding key id', async () => {
    const binding = (await listBindings(world.db)).find((b) => b.serviceId === `${provider}/hs`);
    expect(binding?.forwardProof).toBe('hs256');
    expect(binding?.forwardKeyId).toMatch(forwardKeyIdPattern);
    const hubSecret = Buffer.from((JSON.parse(readFileSync(world.hubKeyFile, 'utf8')) as { subjectKey: string }).subjectKey, 'base64url');
    const key = deriveForwardKey(hubSecret, `${provider}/hs`, binding?.forwardKeyId ?? '').toString('base64url');

    const request = await world.sign(world.mef.identity, { method: 'GET', target: `/x/v1/${provider}/hs/companies/${demoIces.qualified}/classification`, purpose: mefPurpose });
    const answer = await world.send(request);
    expect(answer.status).toBe(404);
    const token = String(received?.['tabadol-hub-signature'] ?? '');
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'))).toMatchObject({ alg: 'HS256', kid: binding?.forwardKeyId });
    const verify = createHubSignatureVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json', hubId, forwardKey: { keyId: binding?.forwardKeyId ?? '', key } });
    const headers = received ?? {};
    const outcome = await verify({ method: 'GET', target: receivedUrl ?? '', header: (name) => (typeof headers[name] === 'string' ? headers[name] : undefined) });
    expect(outcome).toMatchObject({ ok: true, client: mefId, purpose: mefPurpose });
    // The answer the consumer verifies is still the hub's ES256 signature.
    await world.verifyAnswer(answer, request.headers['tabadol-signature']);
  });

  it('keeps the key id when bound again, changes it when rotated, clears it for es256, and refuses hs256 for an adapter', async () => {
    const first = await setBinding(world.db, { serviceId: `${provider}/hs2`, baseUrl: 'http://127.0.0.1:9/api', forwardProof: 'hs256', actor: 'test' });
    const again = await setBinding(world.db, { serviceId: `${provider}/hs2`, baseUrl: 'http://127.0.0.1:9/api', timeoutMs: 3000, forwardProof: 'hs256', actor: 'test' });
    expect(again.forwardKeyId).toBe(first.forwardKeyId);
    const rotated = await setBinding(world.db, { serviceId: `${provider}/hs2`, baseUrl: 'http://127.0.0.1:9/api', forwardProof: 'hs256', rotateForwardKey: true, actor: 'test' });
    expect(rotated.forwardKeyId).toMatch(forwardKeyIdPattern);
    expect(rotated.forwardKeyId).not.toBe(first.forwardKeyId);
    const es256 = await setBinding(world.db, { serviceId: `${provider}/hs2`, baseUrl: 'http://127.0.0.1:9/api', actor: 'test' });
    expect(es256.forwardProof).toBeUndefined();
    expect(es256.forwardKeyId).toBeUndefined();
    expect((await listBindings(world.db)).find((b) => b.serviceId === `${provider}/hs2`)).toEqual({ serviceId: `${provider}/hs2`, kind: 'http', baseUrl: 'http://127.0.0.1:9/api', timeoutMs: 10_000 });
    const refusal = await setBinding(world.db, { serviceId: `${provider}/hs3`, adapter: 'x:y', forwardProof: 'hs256', actor: 'test' }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(AdminInputError);
    expect((refusal as AdminInputError).location).toBe('forwardProof');
  });
});
