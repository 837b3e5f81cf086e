// The exchange pipeline's steps, each alone: no hub, no database; what each refuses and with which code.
import { describe, expect, it } from 'vitest';
import type { ActiveConvention } from '../src/conventions/store.ts';
import type { ProviderResponse } from '../src/exchange/bindings.ts';
import { bodyOf, checkPurpose, checkValidity, forwardedHeaders, parseRequestBody, parseTarget, passedBackHeaders, validateAnswer } from '../src/exchange/exchange-checks.ts';
import { ProblemError } from '../src/http/problem.ts';

/** Only what the purpose and validity checks read. */
const convention = {
  id: 'MA.GOV.A.b.s--MA.GOV.C.d',
  version: 2,
  convention: { purposes: [{ code: 'marche-public' }, { code: 'controle' }], validFrom: '2026-01-01', validUntil: '2026-12-31' },
} as unknown as ActiveConvention;

function refusalOf(step: () => unknown): ProblemError {
  try {
    step();
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
  throw new Error('the step did not refuse');
}

describe('the body as read', () => {
  it('passes the bytes through, refuses one too large (413) or too slow (408) naming the body', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(bodyOf({ kind: 'read', body: bytes })).toBe(bytes);
    const tooLarge = refusalOf(() => bodyOf({ kind: 'too-large', limit: 10 }));
    expect([tooLarge.code, tooLarge.status, tooLarge.errors[0]?.location]).toEqual(['payload-too-large', 413, 'body']);
    const slow = refusalOf(() => bodyOf({ kind: 'timeout', seconds: 30 }));
    expect([slow.code, slow.status]).toEqual(['request-timeout', 408]);
  });
});

describe('the target', () => {
  it('splits the service id, the path within it and the query; refuses a path that names no service (400)', () => {
    expect(parseTarget('/x/v1/MA/GOV/A/b/s/items/1?x=1')).toEqual({ serviceId: 'MA/GOV/A/b/s', path: '/items/1', query: 'x=1' });
    const refused = refusalOf(() => parseTarget('/x/v1/MA/GOV'));
    expect([refused.code, refused.errors[0]?.location]).toEqual(['request-invalid', 'path']);
  });
});

describe('checks 11 and 12 on a convention', () => {
  it('purpose: one the convention lists passes; another is refused naming the allowed ones', () => {
    expect(checkPurpose(convention, 'controle')).toBeUndefined();
    const refused = checkPurpose(convention, 'curiosite');
    expect([refused?.code, refused?.status, refused?.errors[0]]).toEqual(['purpose-not-allowed', 403, { location: 'header.tabadol-purpose', message: 'allowed: marche-public, controle' }]);
  });

  it('validity: inside the dates passes, the last day included; after them is refused', () => {
    expect(checkValidity(convention, new Date('2026-12-31T23:59:00Z'))).toBeUndefined();
    expect(checkValidity(convention, new Date('2027-01-01T00:00:00Z'))?.code).toBe('convention-not-valid');
  });
});

describe('check 14: the request body as the OpenAPI check reads it', () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);

  it('parses JSON, reads other types as text, no body as undefined', () => {
    expect(parseRequestBody(utf8('{"a":1}'), 'application/json')).toEqual({ a: 1 });
    expect(parseRequestBody(utf8('a,b'), 'text/csv')).toBe('a,b');
    expect(parseRequestBody(new Uint8Array(0), 'application/json')).toBeUndefined();
  });

  it('refuses JSON that is not UTF-8, not JSON, or holds a key twice, each as request-invalid naming where', () => {
    const notUtf8 = refusalOf(() => parseRequestBody(new Uint8Array([0x7b, 0xff, 0x7d]), 'application/json'));
    expect([notUtf8.code, notUtf8.errors[0]?.location]).toEqual(['request-invalid', 'body']);
    expect(refusalOf(() => parseRequestBody(utf8('{"a":'), 'application/json')).errors[0]?.message).toBe('not valid JSON');
    const twice = refusalOf(() => parseRequestBody(utf8('{"a":1,"a":2}'), 'application/problem+json'));
    expect([twice.code, twice.errors[0]?.message]).toEqual(['request-invalid', 'duplicate key']);
  });
});

describe('the headers each way', () => {
  it('the provider receives neither hop-by-hop nor the hub’s own headers', () => {
    expect(forwardedHeaders({ accept: 'application/json', connection: 'close', authorization: 'Bearer x', 'tabadol-signature': 'jws', 'x-request-id': 'r' })).toEqual({ accept: 'application/json' });
  });

  it('the consumer receives only the listed answer headers', () => {
    expect(passedBackHeaders({ 'content-type': 'application/json', 'set-cookie': 'a=b', server: 'legacy/1.0', etag: '"1"' })).toEqual({ 'content-type': 'application/json', etag: '"1"' });
  });
});

describe('check 16: the provider’s answer', () => {
  const answer = (body: string, contentType = 'application/json'): ProviderResponse => ({ status: 200, headers: { 'content-type': contentType }, body: new TextEncoder().encode(body) });
  const accepting = { validateResponse: () => [] };

  it('gives the JSON value to minimise, or undefined when the answer is not JSON', () => {
    expect(validateAnswer(accepting, answer('{"ok":true}'))).toEqual({ ok: true });
    expect(validateAnswer(accepting, answer('<ok/>', 'application/xml'))).toBeUndefined();
  });

  it('refuses invalid JSON and an answer its OpenAPI does not allow, as provider-response-invalid (502)', () => {
    expect(refusalOf(() => validateAnswer(accepting, answer('{'))).code).toBe('provider-response-invalid');
    const refusing = { validateResponse: () => [{ location: 'response.ok', message: 'must be boolean' }] };
    const refused = refusalOf(() => validateAnswer(refusing, answer('{"ok":1}')));
    expect([refused.status, refused.errors]).toEqual([502, [{ location: 'response.ok', message: 'must be boolean' }]]);
  });
});
