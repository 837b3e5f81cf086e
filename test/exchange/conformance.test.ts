// Conformance with ../shared/design/exchange-protocol.md: every row of the checks table (1 to 16), the response headers
// and JWS, minimisation, transparency, metaservices and conventions taking effect in every hub process. Each refusal
// is asserted by its exact problem type and status, its hub signature (rqh, sts, bdh, jti) and its message-log row.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait.ts';
import { companiesByIce, demoIces } from '../../adapters/btp-qualification/data.ts';
import { makeIce } from '../../adapters/btp-qualification/ice.ts';
import { verifyResponse } from '../../src/client/index.ts';
import { revokeConvention } from '../../src/conventions/store.ts';
import { revokeMemberKey, setMemberStatus } from '../../src/identity/members.ts';
import {
  btpOpenapiPath,
  btpService,
  generateMemberKey,
  identityOf,
  mefId,
  mefPurpose,
  miId,
  miPurpose,
  portalPurpose,
  provider,
  sha256b64u,
  startExchangeWorld,
  type Consumer,
  type ExchangeWorld,
  type RawAnswer,
  type SignedRequest,
} from './harness.ts';

const problemStatus = {
  'signature-missing': 401,
  'signature-malformed': 401,
  'client-unknown': 401,
  'key-unknown': 401,
  'algorithm-refused': 401,
  'signature-invalid': 401,
  'signature-mismatch': 401,
  'clock-skew': 401,
  'replayed-request': 409,
  'body-digest-mismatch': 401,
  'no-convention': 403,
  'operation-not-allowed': 403,
  'purpose-not-allowed': 403,
  'convention-not-valid': 403,
  'quota-exceeded': 429,
  'request-invalid': 400,
  'provider-timeout': 504,
  'provider-unavailable': 502,
  'provider-response-invalid': 502,
  'payload-too-large': 413,
} as const;
type Code = keyof typeof problemStatus;

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  errors?: Array<{ location: string; message: string }>;
}

const classification = (ice: string, service = btpService): string => `/x/v1/${service}/companies/${ice}/classification`;
const company = (ice: string, service = btpService): string => `/x/v1/${service}/companies/${ice}`;
const b64u = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The answer is signed by the hub (rqh bound to the request when there was a signature), logged, and its request id is the jti. */
async function expectSignedAndLogged(world: ExchangeWorld, answer: RawAnswer, request: { signature?: string; jti?: string }, logged: { status: number; problem: string | null }) {
  const claims = await world.verifyAnswer(answer, request.signature);
  if (request.signature === undefined) expect(claims.rqh).toBeUndefined();
  if (request.jti !== undefined) {
    expect(answer.headers['tabadol-request-id']).toBe(request.jti);
    expect(claims.jti).toBe(request.jti);
  }
  const logId = answer.headers['tabadol-log-id'];
  expect(logId, 'Tabadol-Log-Id').toMatch(/^\d+$/);
  const row = await world.logRow(logId ?? '');
  expect(row, `message_log row ${logId}`).toBeDefined();
  expect(row?.status).toBe(logged.status);
  expect(row?.problem).toBe(logged.problem);
  expect(row?.request_id).toBe(answer.headers['tabadol-request-id']);
  return claims;
}

/** A refusal: exact type and status, problem+json, signed, logged with that status and problem. */
async function expectRefusal(world: ExchangeWorld, answer: RawAnswer, code: Code, request: { signature?: string; jti?: string } = {}): Promise<Problem> {
  const status = problemStatus[code];
  expect({ status: answer.status, body: answer.json }).toMatchObject({ status, body: { type: `urn:tabadol:problem:${code}`, status } });
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = answer.json as Problem;
  expect(typeof problem.title).toBe('string');
  expect(typeof problem.detail).toBe('string');
  expect(problem.requestId).toBe(answer.headers['tabadol-request-id']);
  await expectSignedAndLogged(world, answer, request, { status, problem: code });
  return problem;
}

async function expectOk(world: ExchangeWorld, answer: RawAnswer, request: SignedRequest, status = 200): Promise<void> {
  expect({ status: answer.status, body: answer.json }).toMatchObject({ status });
  await expectSignedAndLogged(world, answer, request, { status, problem: null });
}

describe.runIf(hasServer('postgres') && hasServer('redis'))('the exchange protocol, PostgreSQL + Redis, two hub processes', () => {
  let world: ExchangeWorld;
  let mef: Consumer;
  let mi: Consumer;

  const mefGet = async (target: string, overrides: Parameters<ExchangeWorld['sign']>[2] = {}, hub = 0, purpose = mefPurpose) => {
    const request = await world.sign(mef.identity, { method: 'GET', target, purpose }, overrides);
    return { request, answer: await world.send(request, hub) };
  };

  // Two `tabadol serve` processes to start (each compiles its TypeScript through tsx): more than the default minute on a busy machine.
  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pg', redis: true, processes: 2 });
    mef = world.mef;
    mi = world.mi;
  }, 180_000);
  afterAll(async () => {
    await world?.close();
  });

  it('answers a signed call (ES256) with 200, signed and logged, Tabadol-Request-Id = jti', async () => {
    const { request, answer } = await mefGet(classification(demoIces.qualified));
    await expectOk(world, answer, request);
    const claims = await world.verifyAnswer(answer, request.signature);
    expect(claims.aud).toBe(mefId);
    expect(claims.rqh).toBe(sha256b64u(request.signature));
    const row = await world.logRow(answer.headers['tabadol-log-id'] ?? '');
    expect(row).toMatchObject({ client: mefId, service: btpService, operation: 'getCompanyClassification', purpose: mefPurpose });
  });

  describe('check 1: signature-missing, signature-malformed (401)', () => {
    it('refuses a request without Tabadol-Signature', async () => {
      const answer = await world.send({ method: 'GET', target: classification(demoIces.qualified), headers: { 'tabadol-client': mefId, 'tabadol-purpose': mefPurpose } });
      const problem = await expectRefusal(world, answer, 'signature-missing');
      expect(problem.errors).toContainEqual(expect.objectContaining({ location: 'header.tabadol-signature' }));
      // No jti was sent: a fresh request id, and the problem carries it.
      expect(answer.headers['tabadol-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('refuses a header that is not a compact JWS', async () => {
      for (const value of ['not-a-jws', 'a.b', 'a.b.c.d', 'e30.e30', '!!!.e30.sig']) {
        const answer = await world.send({ method: 'GET', target: classification(demoIces.qualified), headers: { 'tabadol-client': mefId, 'tabadol-purpose': mefPurpose, 'tabadol-signature': value } });
        await expectRefusal(world, answer, 'signature-malformed', { signature: value });
      }
    });

    it('refuses three base64url parts whose header or payload is not JSON', async () => {
      const value = `${b64u('not json')}.${b64u({ iss: mefId })}.c2ln`;
      const answer = await world.send({ method: 'GET', target: classification(demoIces.qualified), headers: { 'tabadol-client': mefId, 'tabadol-purpose': mefPurpose, 'tabadol-signature': value } });
      await expectRefusal(world, answer, 'signature-malformed', { signature: value });
    });
  });

  describe('check 2: client-unknown (401)', () => {
    it('refuses iss ≠ Tabadol-Client', async () => {
      const request = await world.sign(mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose, clientHeader: miId });
      const answer = await world.send(request);
      const problem = await expectRefusal(world, answer, 'client-unknown', { signature: request.signature });
      expect(problem.errors).toContainEqual(expect.objectContaining({ location: 'header.tabadol-client' }));
    });

    it('refuses a client that is not registered', async () => {
      const stranger = identityOf('MA/GOV/TEST/stranger', await generateMemberKey('ES256'));
      const request = await world.sign(stranger, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectRefusal(world, await world.send(request), 'client-unknown', { signature: request.signature });
    });

    it('refuses a disabled client, and serves it again once enabled', async () => {
      const disabled = await world.registerConsumer('MA/GOV/TEST/disabled');
      await world.addConvention({ consumer: disabled.id });
      const ok = await world.sign(disabled.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectOk(world, await world.send(ok), ok);

      await setMemberStatus(world.db, { id: disabled.id, status: 'disabled', actor: 'test' });
      await world.sync();
      for (const hub of [0, 1]) {
        const request = await world.sign(disabled.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
        await expectRefusal(world, await world.send(request, hub), 'client-unknown', { signature: request.signature });
      }
      await setMemberStatus(world.db, { id: disabled.id, status: 'active', actor: 'test' });
      await world.sync();
      const again = await world.sign(disabled.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectOk(world, await world.send(again), again);
    });
  });

  describe('check 3: key-unknown, algorithm-refused (401)', () => {
    it('refuses a kid that the client never registered', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified), { header: { kid: 'no-such-kid' } });
      await expectRefusal(world, answer, 'key-unknown', { signature: request.signature });
    });

    it('refuses a kid of another client', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified), { header: { kid: mi.identity.kid } });
      await expectRefusal(world, answer, 'key-unknown', { signature: request.signature });
    });

    it('rotates a key: old and new both work during the overlap; the revoked old one is key-unknown on every hub', async () => {
      const rotating = await world.registerConsumer('MA/GOV/TEST/rotation');
      await world.addConvention({ consumer: rotating.id });
      const oldKey = rotating.keys[0];
      if (!oldKey) throw new Error('no key');
      const newKey = await world.addKey(rotating, 'ES256');
      for (const key of [oldKey, newKey]) {
        const request = await world.sign(identityOf(rotating.id, key), { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
        await expectOk(world, await world.send(request), request);
      }
      await revokeMemberKey(world.db, { id: rotating.id, kid: oldKey.kid, actor: 'test', reason: 'rotation' });
      await world.sync();
      for (const hub of [0, 1]) {
        const request = await world.sign(identityOf(rotating.id, oldKey), { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
        const problem = await expectRefusal(world, await world.send(request, hub), 'key-unknown', { signature: request.signature });
        expect(problem.errors).toContainEqual(expect.objectContaining({ message: 'key revoked' }));
      }
      // The new key passes checks 2 to 8 (a metaservice needs no convention)...
      const meta = await world.sign(identityOf(rotating.id, newKey), { method: 'GET', target: '/meta/v1/allowed', purpose: mefPurpose });
      await expectOk(world, await world.send(meta, 1), meta);
    });

    it('after the rotation, the new key still reaches the service under the convention signed with the old key', async () => {
      // A routine rotation (add, overlap, revoke the old key) must not cut the consumer off. The hub re-verifies every
      // active convention with the keys as they are now, so a convention signed with the revoked key stops being enforced.
      const rotating = await world.registerConsumer('MA/GOV/TEST/rotation2');
      await world.addConvention({ consumer: rotating.id });
      const oldKey = rotating.keys[0];
      if (!oldKey) throw new Error('no key');
      const newKey = await world.addKey(rotating, 'ES256');
      await revokeMemberKey(world.db, { id: rotating.id, kid: oldKey.kid, actor: 'test', reason: 'rotation' });
      await world.sync();
      const request = await world.sign(identityOf(rotating.id, newKey), { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      const answer = await world.send(request);
      expect({ status: answer.status, body: answer.json }).toMatchObject({ status: 200 });
    });

    it('refuses alg none (an unsecured JWS, empty signature part) as algorithm-refused', async () => {
      const signed = await world.sign(mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      const [, payload] = signed.signature.split('.');
      const unsecured = `${b64u({ alg: 'none', kid: mef.identity.kid, typ: 'tabadol-request+jwt' })}.${payload ?? ''}.`;
      const answer = await world.send({ ...signed, headers: { ...signed.headers, 'tabadol-signature': unsecured } });
      await expectRefusal(world, answer, 'algorithm-refused', { signature: unsecured });
    });

    it('refuses alg none with a signature part kept from a real signature', async () => {
      const signed = await world.sign(mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      const [, payload, signature] = signed.signature.split('.');
      const value = `${b64u({ alg: 'none', kid: mef.identity.kid, typ: 'tabadol-request+jwt' })}.${payload ?? ''}.${signature ?? ''}`;
      const answer = await world.send({ ...signed, headers: { ...signed.headers, 'tabadol-signature': value } });
      await expectRefusal(world, answer, 'algorithm-refused', { signature: value });
    });

    it('refuses HS256 keyed with the client’s public key (JWK bytes, PEM, raw x)', async () => {
      const publicJwk = mef.keys[0]?.publicJwk;
      if (!publicJwk) throw new Error('no key');
      const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      const secrets = [new TextEncoder().encode(JSON.stringify(publicJwk)), new TextEncoder().encode(pem), Buffer.from(publicJwk.x ?? '', 'base64url')];
      for (const secret of secrets) {
        const claims = {
          iss: mefId,
          aud: world.hubId,
          htm: 'GET',
          htu: classification(demoIces.qualified),
          pur: mefPurpose,
          iat: Math.floor(Date.now() / 1000),
          jti: crypto.randomUUID(),
          bdh: sha256b64u(''),
        };
        for (const alg of ['HS256', 'HS512']) {
          const value = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg, kid: mef.identity.kid, typ: 'tabadol-request+jwt' }).sign(secret);
          const answer = await world.send({ method: 'GET', target: classification(demoIces.qualified), headers: { 'tabadol-client': mefId, 'tabadol-purpose': mefPurpose, 'tabadol-signature': value } });
          await expectRefusal(world, answer, 'algorithm-refused', { signature: value });
        }
      }
    });

    it('refuses an alg that does not fit the registered key (EdDSA key, ES256 header)', async () => {
      // jose cannot sign ES256 with an Ed25519 key: put an ES256 header over a real EdDSA signature.
      const real = await world.sign(mi.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: miPurpose });
      const [, payload, signature] = real.signature.split('.');
      const value = `${b64u({ alg: 'ES256', kid: mi.identity.kid, typ: 'tabadol-request+jwt' })}.${payload ?? ''}.${signature ?? ''}`;
      const answer = await world.send({ ...real, headers: { ...real.headers, 'tabadol-signature': value } });
      await expectRefusal(world, answer, 'algorithm-refused', { signature: value });
    });

    it('accepts EdDSA (MI, Ed25519)', async () => {
      expect(mi.identity.alg).toBe('EdDSA');
      const request = await world.sign(mi.identity, { method: 'GET', target: classification(demoIces.topClass), purpose: miPurpose });
      await expectOk(world, await world.send(request, 1), request);
    });
  });

  describe('check 4: signature-invalid (401)', () => {
    it('refuses a tampered signature', async () => {
      const signed = await world.sign(mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      const [h, p, s = ''] = signed.signature.split('.');
      const flipped = `${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
      const value = `${h}.${p}.${flipped}`;
      await expectRefusal(world, await world.send({ ...signed, headers: { ...signed.headers, 'tabadol-signature': value } }), 'signature-invalid', { signature: value });
    });

    it('refuses claims changed after signing (payload swapped under the same signature)', async () => {
      const signed = await world.sign(mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      const [h, p = '', s] = signed.signature.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
      const value = `${h}.${b64u({ ...claims, htu: classification(demoIces.topClass) })}.${s}`;
      const answer = await world.send({ method: 'GET', target: classification(demoIces.topClass), headers: { ...signed.headers, 'tabadol-signature': value } });
      await expectRefusal(world, answer, 'signature-invalid', { signature: value });
    });

    it('refuses a signature by another key under the client’s kid', async () => {
      const other = await generateMemberKey('ES256');
      const forged = { ...mef.identity, privateKey: other.privateKey };
      const request = await world.sign(forged, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectRefusal(world, await world.send(request), 'signature-invalid', { signature: request.signature });
    });
  });

  describe('check 5: signature-mismatch (401)', () => {
    const mismatch = async (claims: Record<string, unknown>, location: string, options: { target?: string; sentTarget?: string; method?: string; purposeHeader?: string } = {}) => {
      const target = options.target ?? classification(demoIces.qualified);
      const signed = await world.sign(mef.identity, { method: options.method ?? 'GET', target, purpose: mefPurpose }, { claims });
      const answer = await world.send({
        method: options.method ?? 'GET',
        target: options.sentTarget ?? target,
        headers: { ...signed.headers, ...(options.purposeHeader ? { 'tabadol-purpose': options.purposeHeader } : {}) },
      });
      const problem = await expectRefusal(world, answer, 'signature-mismatch', { signature: signed.signature });
      expect(problem.errors?.map((e) => e.location)).toContain(location);
    };

    it('aud not the hub', () => mismatch({ aud: 'MA/GOV/HUB/other' }, 'signature.aud'));
    it('htm not the method', () => mismatch({ htm: 'POST' }, 'signature.htm'));
    it('htm in lower case', () => mismatch({ htm: 'get' }, 'signature.htm'));
    it('htu another path', () => mismatch({ htu: classification(demoIces.topClass) }, 'signature.htu'));
    it('htu without the query that was sent', () => mismatch({}, 'signature.htu', { sentTarget: `${classification(demoIces.qualified)}?x=1` }));
    it('htu with a query that was not sent', () => mismatch({ htu: `${classification(demoIces.qualified)}?x=1` }, 'signature.htu'));
    it('htu decoded where the request was percent-encoded (query)', () =>
      mismatch({ htu: `${classification(demoIces.qualified)}?x=A b` }, 'signature.htu', { sentTarget: `${classification(demoIces.qualified)}?x=%41%20b` }));
    it('htu decoded where the request was percent-encoded (path)', () => {
      const encoded = `/x/v1/${btpService}/companies/${[...demoIces.qualified].map((d) => `%3${d}`).join('')}/classification`;
      return mismatch({ htu: classification(demoIces.qualified) }, 'signature.htu', { sentTarget: encoded });
    });
    it('htu with another percent-encoding case', () =>
      mismatch({ htu: `${classification(demoIces.qualified)}?x=%2f` }, 'signature.htu', { sentTarget: `${classification(demoIces.qualified)}?x=%2F` }));
    it('pur not Tabadol-Purpose', () => mismatch({}, 'signature.pur', { purposeHeader: 'communal-procurement-eligibility' }));
    it('typ not tabadol-request+jwt', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified), { header: { typ: 'JWT' } });
      const problem = await expectRefusal(world, answer, 'signature-mismatch', { signature: request.signature });
      expect(problem.errors?.map((e) => e.location)).toContain('signature.typ');
    });

    it('accepts htu exactly as sent, query and percent-encoding preserved', async () => {
      const encoded = `/x/v1/${btpService}/companies/${[...demoIces.qualified].map((d) => `%3${d}`).join('')}/classification?note=%C3%A9t%C3%A9&x=%2F`;
      const { request, answer } = await mefGet(encoded);
      await expectOk(world, answer, request);
      expect((answer.json as { ice: string }).ice).toBe(demoIces.qualified);
    });
  });

  describe('check 6: clock-skew (401)', () => {
    it('refuses iat more than 300 s in the past', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified), { claims: { iat: Math.floor(Date.now() / 1000) - 400 } });
      await expectRefusal(world, answer, 'clock-skew', { signature: request.signature });
    });
    it('refuses iat more than 300 s in the future', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified), { claims: { iat: Math.floor(Date.now() / 1000) + 400 } });
      await expectRefusal(world, answer, 'clock-skew', { signature: request.signature });
    });
    it('accepts iat within 300 s either way', async () => {
      for (const delta of [-200, 200]) {
        const { request, answer } = await mefGet(classification(demoIces.qualified), { claims: { iat: Math.floor(Date.now() / 1000) + delta } });
        await expectOk(world, answer, request);
      }
    });
  });

  describe('check 7: replayed-request (409), shared across hub processes', () => {
    it('refuses the same signed request twice on one hub', async () => {
      const request = await world.sign(mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectOk(world, await world.send(request, 0), request);
      await expectRefusal(world, await world.send(request, 0), 'replayed-request', request);
    });
    it('refuses a replay sent to a second hub process', async () => {
      const request = await world.sign(mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectOk(world, await world.send(request, 0), request);
      await expectRefusal(world, await world.send(request, 1), 'replayed-request', request);
    });
    it('refuses a replayed metaservice call', async () => {
      const request = await world.sign(mef.identity, { method: 'GET', target: '/meta/v1/allowed', purpose: mefPurpose });
      await expectOk(world, await world.send(request, 1), request);
      await expectRefusal(world, await world.send(request, 0), 'replayed-request', request);
    });
  });

  describe('check 8: body-digest-mismatch (401)', () => {
    it('refuses a body that is not the one signed (bdh)', async () => {
      const target = classification(demoIces.qualified);
      const signed = await world.sign(mef.identity, { method: 'POST', target, purpose: mefPurpose, body: '{"a":1}' });
      const answer = await world.send({ ...signed, body: '{"a":2}' });
      const problem = await expectRefusal(world, answer, 'body-digest-mismatch', signed);
      expect(problem.errors).toContainEqual(expect.objectContaining({ location: 'signature.bdh' }));
    });
    it('refuses a body added to a request signed without one', async () => {
      const signed = await world.sign(mef.identity, { method: 'POST', target: classification(demoIces.qualified), purpose: mefPurpose });
      const answer = await world.send({ ...signed, body: '{}', headers: { ...signed.headers, 'content-type': 'application/json' } });
      await expectRefusal(world, answer, 'body-digest-mismatch', signed);
    });
    it('refuses a tampered body on a metaservice', async () => {
      const signed = await world.sign(mef.identity, { method: 'GET', target: '/meta/v1/clients', purpose: mefPurpose, body: 'x' });
      await expectRefusal(world, await world.send({ ...signed, body: 'y' }), 'body-digest-mismatch', signed);
    });
  });

  describe('check 9: no-convention (403)', () => {
    it('refuses a client without a convention for the service', async () => {
      const request = await world.sign(world.noConvention.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectRefusal(world, await world.send(request), 'no-convention', request);
    });
    it('refuses MEF on the transparency service (a convention with another consumer)', async () => {
      const request = await world.sign(mef.identity, { method: 'GET', target: `/x/v1/MA/GOV/HUB/transparency/accesses/subjects/ice/${demoIces.qualified}/accesses`, purpose: portalPurpose });
      await expectRefusal(world, await world.send(request), 'no-convention', request);
    });
    it('refuses a service that does not exist', async () => {
      const request = await world.sign(mef.identity, { method: 'GET', target: `/x/v1/${provider}/nothing/companies`, purpose: mefPurpose });
      await expectRefusal(world, await world.send(request), 'no-convention', request);
    });
  });

  describe('check 10: operation-not-allowed (403)', () => {
    it('refuses an operation of the service that is not in the convention (MEF getCompany)', async () => {
      const { request, answer } = await mefGet(company(demoIces.qualified));
      await expectRefusal(world, answer, 'operation-not-allowed', request);
    });
    it('refuses a method the operation does not have', async () => {
      const request = await world.sign(mef.identity, { method: 'DELETE', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectRefusal(world, await world.send(request), 'operation-not-allowed', request);
    });
    it('refuses a path that is no operation of the service', async () => {
      const { request, answer } = await mefGet(`/x/v1/${btpService}/nope`);
      await expectRefusal(world, answer, 'operation-not-allowed', request);
    });
  });

  describe('check 11: purpose-not-allowed (403)', () => {
    it('refuses a purpose that is not in the convention', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified), {}, 0, miPurpose);
      const problem = await expectRefusal(world, answer, 'purpose-not-allowed', request);
      expect(problem.errors).toContainEqual(expect.objectContaining({ location: 'header.tabadol-purpose' }));
    });
  });

  describe('check 12: convention-not-valid (403)', () => {
    it('refuses under an expired convention (validUntil in the past)', async () => {
      const expired = await world.registerConsumer('MA/GOV/TEST/expired');
      await world.addConvention({ consumer: expired.id, validFrom: '2020-01-01', validUntil: '2021-12-31' });
      const request = await world.sign(expired.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectRefusal(world, await world.send(request), 'convention-not-valid', request);
    });
    it('refuses under a convention not valid yet (validFrom in the future)', async () => {
      const early = await world.registerConsumer('MA/GOV/TEST/not-yet');
      await world.addConvention({ consumer: early.id, validFrom: '2098-01-01', validUntil: '2099-12-31' });
      const request = await world.sign(early.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectRefusal(world, await world.send(request, 1), 'convention-not-valid', request);
    });
  });

  describe('check 13: quota-exceeded + Retry-After (429), shared across hub processes', () => {
    it('counts the calls of both hubs against one quota: 3 on A, 2 on B pass, the 6th is 429', async () => {
      const quota = await world.registerConsumer('MA/GOV/TEST/quota');
      await world.addConvention({ consumer: quota.id, quota: { count: 5, windowSeconds: 86_400 } });
      const call = async (hub: number) => {
        const request = await world.sign(quota.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
        return { request, answer: await world.send(request, hub) };
      };
      for (const hub of [0, 0, 0, 1, 1]) {
        const { request, answer } = await call(hub);
        await expectOk(world, answer, request);
      }
      for (const hub of [1, 0]) {
        const { request, answer } = await call(hub);
        await expectRefusal(world, answer, 'quota-exceeded', request);
        const retryAfter = answer.headers['retry-after'];
        expect(retryAfter).toMatch(/^\d+$/);
        expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(retryAfter)).toBeLessThanOrEqual(86_400);
      }
    });
  });

  describe('check 14: request-invalid (400)', () => {
    it('refuses an ICE that does not match ^[0-9]{15}$', async () => {
      for (const ice of ['12345', '00214587300001X']) {
        const { request, answer } = await mefGet(classification(ice));
        const problem = await expectRefusal(world, answer, 'request-invalid', request);
        expect(problem.errors?.some((e) => e.location.startsWith('path'))).toBe(true);
      }
    });
    it('refuses a service id whose parts are not [A-Za-z0-9._-]{1,64}', async () => {
      const { request, answer } = await mefGet(`/x/v1/MA/GOV/ME$F/qualification-btp/classification/companies/${demoIces.qualified}/classification`);
      await expectRefusal(world, answer, 'request-invalid', request);
    });
  });

  describe('checks 15 and 16: the provider', () => {
    let faultyAnswer: { status: number; type: string; body: string; extra?: Record<string, string> } = { status: 200, type: 'application/json', body: '{}' };

    beforeAll(async () => {
      const silent = await world.stubProvider(() => undefined);
      await world.bind(`${provider}/slow`, { kind: 'http', baseUrl: silent.url, timeoutMs: 300 });
      await world.bind(`${provider}/down`, { kind: 'http', baseUrl: await world.closedPortUrl(), timeoutMs: 2000 });
      const faulty = await world.stubProvider((_req, res) => {
        res.writeHead(faultyAnswer.status, { 'content-type': faultyAnswer.type, 'x-provider-internal': 'secret', ...faultyAnswer.extra });
        res.end(faultyAnswer.body);
      });
      await world.bind(`${provider}/faulty`, { kind: 'http', baseUrl: faulty.url, timeoutMs: 2000 });
      for (const service of ['slow', 'down', 'faulty']) {
        await world.addConvention({
          consumer: mefId,
          service,
          operations: [
            { operationId: 'getCompanyClassification', subjects: [{ type: 'ice', in: 'path', name: 'ice' }] },
            { operationId: 'getCompany', fields: ['ice'] },
          ],
        });
      }
    });

    it('15: provider-timeout (504) when the provider does not answer in time', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified, `${provider}/slow`));
      await expectRefusal(world, answer, 'provider-timeout', request);
    });
    it('15: provider-unavailable (502) when nothing listens', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified, `${provider}/down`));
      await expectRefusal(world, answer, 'provider-unavailable', request);
    });
    it('16: provider-response-invalid (502) for a 2xx that violates the schema', async () => {
      faultyAnswer = { status: 200, type: 'application/json', body: JSON.stringify({ ice: 'not-an-ice', raisonSociale: 'X' }) };
      const { request, answer } = await mefGet(classification(demoIces.qualified, `${provider}/faulty`));
      await expectRefusal(world, answer, 'provider-response-invalid', request);
      // Nothing of the invalid answer reaches the consumer.
      expect(answer.text).not.toContain('not-an-ice');
    });
    it('16: provider-response-invalid (502) for a 2xx that is not JSON', async () => {
      faultyAnswer = { status: 200, type: 'application/json', body: '{"ice": ' };
      const { request, answer } = await mefGet(classification(demoIces.qualified, `${provider}/faulty`));
      await expectRefusal(world, answer, 'provider-response-invalid', request);
    });
    it('passes a provider 4xx through unchanged (bytes, status) and signed', async () => {
      const body = '{"type":"urn:metle:problem:not-found","title":"Not found","status":404,"detail":"no dossier  for this ICE (kept byte for byte)"}';
      faultyAnswer = { status: 404, type: 'application/problem+json', body };
      const { request, answer } = await mefGet(classification(demoIces.unknown, `${provider}/faulty`));
      expect(answer.status).toBe(404);
      expect(answer.text).toBe(body);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.headers['x-provider-internal']).toBeUndefined();
      await expectSignedAndLogged(world, answer, request, { status: 404, problem: null });
    });
    it('passes a provider 5xx through unchanged and signed', async () => {
      const body = 'the provider is in maintenance';
      faultyAnswer = { status: 503, type: 'text/plain', body, extra: { 'retry-after': '120' } };
      const { request, answer } = await mefGet(classification(demoIces.qualified, `${provider}/faulty`));
      expect(answer.status).toBe(503);
      expect(answer.text).toBe(body);
      expect(answer.headers['retry-after']).toBe('120');
      await expectSignedAndLogged(world, answer, request, { status: 503, problem: null });
    });
    it('passes the simulator’s own 404 (no dossier) through, signed', async () => {
      const { request, answer } = await mefGet(classification(demoIces.unknown));
      expect(answer.status).toBe(404);
      expect(answer.json).toMatchObject({ type: 'urn:metle:qualification-btp:problem:not-found', detail: 'no dossier for this ICE' });
      await expectSignedAndLogged(world, answer, request, { status: 404, problem: null });
    });
    it('minimises a 2xx from any provider to the convention’s fields', async () => {
      const profile = companiesByIce.get(demoIces.qualified)?.profile;
      faultyAnswer = { status: 200, type: 'application/json', body: JSON.stringify(profile) };
      const { request, answer } = await mefGet(company(demoIces.qualified, `${provider}/faulty`));
      await expectOk(world, answer, request);
      expect(answer.json).toEqual({ ice: demoIces.qualified });
    });
  });

  describe('data minimisation', () => {
    it('MEF receives only the fields its convention allows', async () => {
      const { request, answer } = await mefGet(classification(demoIces.topClass));
      await expectOk(world, answer, request);
      const body = answer.json as Record<string, unknown> & { qualifications: Array<Record<string, unknown>> };
      expect(Object.keys(body).sort()).toEqual(['ice', 'qualifications', 'raisonSociale', 'statut']);
      expect(body.qualifications.length).toBeGreaterThan(0);
      for (const q of body.qualifications) expect(Object.keys(q).sort()).toEqual(['classe', 'qualification', 'secteur', 'validUntil']);
      expect(answer.text).not.toContain('decisionDate');
    });

    it('MI receives getCompany without the dirigeant’s CIN', async () => {
      const profile = companiesByIce.get(demoIces.suspended)?.profile;
      if (!profile) throw new Error('no profile');
      const request = await world.sign(mi.identity, { method: 'GET', target: company(demoIces.suspended), purpose: miPurpose });
      const answer = await world.send(request);
      await expectOk(world, answer, request);
      const body = answer.json as { dirigeant: Record<string, unknown> } & Record<string, unknown>;
      expect(body.dirigeant).toEqual({ nom: profile.dirigeant.nom, qualite: profile.dirigeant.qualite });
      expect(answer.text).not.toContain(profile.dirigeant.cin);
      for (const hidden of ['capitalSocial', 'dateCreation', 'dateDepot']) expect(body).not.toHaveProperty(hidden);
    });
  });

  describe('the client-side check of the hub’s answer', () => {
    it('verifyResponse accepts the answer as sent and throws naming bdh when the body was altered after signing', async () => {
      const { request, answer } = await mefGet(classification(demoIces.qualified));
      expect(answer.status).toBe(200);
      const input = { jwks: await world.jwks(), hubId: world.hubId, clientId: mefId, requestSignature: request.signature, jti: request.jti, status: answer.status, signature: answer.headers['tabadol-signature'] ?? null };
      await expect(verifyResponse({ ...input, body: answer.body })).resolves.toMatchObject({ jti: request.jti, sts: 200 });
      const altered = answer.text.replace('"VALIDE"', '"SUSPENDUE"');
      expect(altered).not.toBe(answer.text);
      await expect(verifyResponse({ ...input, body: altered })).rejects.toThrow(/bdh/);
      await expect(verifyResponse({ ...input, body: answer.body, status: 203 })).rejects.toThrow(/status/);
      await expect(verifyResponse({ ...input, body: answer.body, requestSignature: `${request.signature}x` })).rejects.toThrow(/rqh/);
    });

    it('TabadolClient verifies refusals too', async () => {
      const result = await world.noConvention.client(1).call('GET', classification(demoIces.qualified), { purpose: mefPurpose });
      expect(result.status).toBe(403);
      expect(result.claims.sts).toBe(403);
      expect(result.headers.get('tabadol-request-id')).toBe(result.claims.jti);
    });
  });

  describe('transparency: who accessed a subject', () => {
    it('lists the ICE that MEF consulted and the dirigeant’s CIN that MI’s getCompany concerned, and nothing for others', async () => {
      const ice = demoIces.pending;
      const profile = companiesByIce.get(demoIces.topClass)?.profile;
      if (!profile) throw new Error('no profile');
      const mefCall = await mefGet(classification(ice));
      expect(mefCall.answer.status).toBe(200);
      const miCall = await world.sign(mi.identity, { method: 'GET', target: company(profile.ice), purpose: miPurpose });
      expect((await world.send(miCall, 1)).status).toBe(200);

      const report = async (type: string, id: string) => {
        const request = await world.sign(world.portal.identity, { method: 'GET', target: `/x/v1/MA/GOV/HUB/transparency/accesses/subjects/${type}/${encodeURIComponent(id)}/accesses`, purpose: portalPurpose });
        const answer = await world.send(request);
        await expectOk(world, answer, request);
        return (answer.json as { accesses: Array<{ client: string; operation: string; purpose: string; status: number; logSeq: number }> }).accesses;
      };
      const byIce = await report('ice', ice);
      expect(byIce).toContainEqual(expect.objectContaining({ client: mefId, operation: 'getCompanyClassification', purpose: mefPurpose, status: 200, logSeq: Number(mefCall.answer.headers['tabadol-log-id']) }));
      const byCin = await report('cin', profile.dirigeant.cin);
      expect(byCin).toContainEqual(expect.objectContaining({ client: miId, operation: 'getCompany', purpose: miPurpose, status: 200 }));
      expect(await report('cin', 'ZZ999999')).toEqual([]);
      expect(await report('ice', makeIce('008888888'))).toEqual([]);
    });
  });

  describe('transparency of refused attempts', () => {
    it('lists an attempt on a subject that the hub refused after the convention checks (provider-unavailable)', async () => {
      // The transparency OpenAPI: "a refused request is an access attempt, and is listed too".
      const ice = makeIce('007777777');
      const attempt = await mefGet(classification(ice, `${provider}/down`));
      expect(attempt.answer.status).toBe(502);
      const request = await world.sign(world.portal.identity, { method: 'GET', target: `/x/v1/MA/GOV/HUB/transparency/accesses/subjects/ice/${ice}/accesses`, purpose: portalPurpose });
      const answer = await world.send(request);
      await expectOk(world, answer, request);
      expect((answer.json as { accesses: unknown[] }).accesses).toContainEqual(expect.objectContaining({ client: mefId, status: 502, logSeq: Number(attempt.answer.headers['tabadol-log-id']) }));
    });
  });

  describe('metaservices', () => {
    const meta = async (target: string, consumer: Consumer = mef, hub = 0) => {
      const request = await world.sign(consumer.identity, { method: 'GET', target, purpose: mefPurpose });
      const answer = await world.send(request, hub);
      await expectOk(world, answer, request);
      return answer;
    };

    it('refuses an unsigned metaservice call', async () => {
      await expectRefusal(world, await world.send({ method: 'GET', target: '/meta/v1/clients' }), 'signature-missing');
    });

    it('/meta/v1/clients lists the registered subsystems', async () => {
      const { clients } = (await meta('/meta/v1/clients')).json as { clients: Array<{ id: string; kind: string; active: boolean }> };
      const ids = clients.map((c) => c.id);
      for (const id of [mefId, miId, provider, world.noConvention.id]) expect(ids).toContain(id);
      expect(clients.find((c) => c.id === mefId)).toMatchObject({ kind: 'subsystem', active: true });
    });

    it('/meta/v1/services lists each service with the digest of its OpenAPI bytes', async () => {
      const { services } = (await meta('/meta/v1/services', world.noConvention, 1)).json as { services: Array<{ id: string; openapiDigest: string }> };
      expect(services).toContainEqual(expect.objectContaining({ id: btpService, openapiDigest: sha256b64u(readFileSync(btpOpenapiPath)) }));
      const transparency = join(world.contractsDir, 'MA.GOV.HUB.transparency', 'accesses', 'openapi.yaml');
      expect(services).toContainEqual(expect.objectContaining({ id: 'MA/GOV/HUB/transparency/accesses', openapiDigest: sha256b64u(readFileSync(transparency)) }));
    });

    it('/meta/v1/allowed lists only the caller’s conventions, operations and purposes', async () => {
      const mine = (await meta('/meta/v1/allowed', mi)).json as { client: string; allowed: Array<{ service: string; convention: { id: string }; operations: Array<{ operationId: string; method: string; path: string }>; purposes: Array<{ code: string }>; validFrom: string; validUntil: string }> };
      expect(mine.client).toBe(miId);
      expect(mine.allowed).toHaveLength(1);
      const entry = mine.allowed[0];
      expect(entry).toMatchObject({ service: btpService, convention: { id: 'MA.GOV.METLE.qualification-btp.classification--MA.GOV.MI.collectivites-territoriales' }, validFrom: '2026-01-01', validUntil: '2028-12-31' });
      expect(entry?.operations.map((o) => o.operationId).sort()).toEqual(['getCompany', 'getCompanyClassification']);
      expect(entry?.operations).toContainEqual(expect.objectContaining({ operationId: 'getCompany', method: 'GET', path: '/companies/{ice}' }));
      expect(entry?.purposes.map((p) => p.code)).toEqual([miPurpose]);
      const none = (await meta('/meta/v1/allowed', world.noConvention)).json as { allowed: unknown[] };
      expect(none.allowed).toEqual([]);
    });

    it('/meta/v1/openapi/{service} answers exactly the bytes whose digest the conventions sign', async () => {
      const answer = await meta(`/meta/v1/openapi/${btpService}`);
      const { rows } = await world.db.query<{ openapi_digest: string }>(`SELECT openapi_digest FROM conventions WHERE service = 'classification' AND status = 'active'`);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(sha256b64u(answer.body)).toBe(row.openapi_digest);
      expect(answer.body.equals(readFileSync(btpOpenapiPath))).toBe(true);
    });
  });

  describe('conventions take effect on every hub process without a restart', () => {
    it('activated through A’s database, served by B within a few polls; revoked → no-convention on both', async () => {
      const late = await world.registerConsumer('MA/GOV/TEST/late');
      const call = async (hub: number) => {
        const request = await world.sign(late.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
        return { request, answer: await world.send(request, hub) };
      };
      await world.sync();
      const before = await call(1);
      await expectRefusal(world, before.answer, 'no-convention', before.request);
      const activation = await world.addConvention({ consumer: late.id }, { via: 0, sync: false });
      await waitFor(async () => (await call(1)).answer.status === 200, 'hub B to enforce the new convention');
      await waitFor(async () => (await call(0)).answer.status === 200, 'hub A to enforce the new convention');
      for (const hub of [0, 1]) {
        const { request, answer } = await call(hub);
        await expectOk(world, answer, request);
      }

      await revokeConvention(world.hubs[0]?.db ?? world.db, { id: activation.id, reason: 'test revocation', actor: 'test' });
      for (const hub of [0, 1]) await waitFor(async () => (await call(hub)).answer.status === 403, `hub ${hub} to drop the revoked convention`);
      for (const hub of [0, 1]) {
        const refused = await call(hub);
        await expectRefusal(world, refused.answer, 'no-convention', refused.request);
      }
    });
  });

  describe('every refusal is signed', () => {
    it('signs and logs the refusal of a body over the size limit', async () => {
      const body = 'x'.repeat(1024 * 1024 + 1);
      const signed = await world.sign(mef.identity, { method: 'POST', target: classification(demoIces.qualified), purpose: mefPurpose, body });
      const answer = await world.send(signed);
      expect(answer.status).toBe(413);
      expect(answer.headers['tabadol-signature'], 'Tabadol-Signature on the 413').toBeDefined();
      await expectRefusal(world, answer, 'payload-too-large', signed);
    });
  });
});

describe('the exchange protocol on PGlite without Redis (replay and quota in PostgreSQL)', () => {
  let world: ExchangeWorld;
  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pglite', redis: false });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('answers a signed call, signed and logged', async () => {
    const request = await world.sign(world.mi.identity, { method: 'GET', target: company(demoIces.qualified), purpose: miPurpose });
    await expectOk(world, await world.send(request), request);
  });

  it('check 7: refuses a replayed jti (409)', async () => {
    const request = await world.sign(world.mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
    await expectOk(world, await world.send(request), request);
    await expectRefusal(world, await world.send(request), 'replayed-request', request);
  });

  it('check 13: counts the quota and answers 429 with Retry-After', async () => {
    const quota = await world.registerConsumer('MA/GOV/TEST/quota');
    await world.addConvention({ consumer: quota.id, quota: { count: 3, windowSeconds: 86_400 } });
    for (let i = 0; i < 3; i++) {
      const request = await world.sign(quota.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      await expectOk(world, await world.send(request), request);
    }
    const request = await world.sign(quota.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
    const answer = await world.send(request);
    await expectRefusal(world, answer, 'quota-exceeded', request);
    expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    // A replay of the refused request is still a replay, and does not count.
    await expectRefusal(world, await world.send(request), 'replayed-request', request);
  });

  it('check 1 and 9 refusals are signed and logged here too', async () => {
    await expectRefusal(world, await world.send({ method: 'GET', target: classification(demoIces.qualified) }), 'signature-missing');
    const request = await world.sign(world.noConvention.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
    await expectRefusal(world, await world.send(request), 'no-convention', request);
  });
});
