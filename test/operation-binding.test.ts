// Adapter bindings dispatch on the operationId the pipeline's router matched, with the path parameters it decoded
// (issue 12 item 4): never on the path again. An operationId a binding does not serve is a 404 problem, never a 5xx.
import { describe, expect, it } from 'vitest';
import { territoryService } from '../referentials/territory/service.ts';
import type { ProviderRequest, ProviderResponse } from '../src/exchange/bindings.ts';
import { operationBinding } from '../src/exchange/operation-binding.ts';
import type { ProblemBody } from '../src/http/problem.ts';
import { routedRequest, serviceContract } from './helpers/routed-request.ts';

const signal = new AbortController().signal;

function request(operationId: string, pathAndQuery: string, pathParams: Record<string, string> = {}): ProviderRequest {
  return { serviceId: 'MA/GOV/TEST/x/things', operationId, pathParams, method: 'GET', pathAndQuery, headers: {}, body: new Uint8Array(), client: 'MA/GOV/TEST/y', purpose: 'test', requestId: 'r1' };
}

const text = (answer: ProviderResponse) => Buffer.from(answer.body).toString('utf8');
const problemOf = (answer: ProviderResponse) => JSON.parse(text(answer)) as ProblemBody;

describe('an operation binding', () => {
  // Each handler answers what it was given, so that the test sees what the binding passed on.
  const binding = operationBinding('things', {
    getThing: async (params, query) => ({ status: 200, headers: {}, body: Buffer.from(JSON.stringify({ op: 'getThing', params, q: query.get('q') })) }),
    listThings: async (params, query) => ({ status: 200, headers: {}, body: Buffer.from(JSON.stringify({ op: 'listThings', params, q: query.get('q') })) }),
  });

  it("calls the operationId's handler with the router's decoded path parameters and the query, whatever the path says", async () => {
    // The path names another operation: the operationId decides, and the parameters are the ones given, not re-read.
    const answer = await binding.handle(request('getThing', '/things?q=a%20b', { id: 'a/b c' }), signal);
    expect(JSON.parse(text(answer))).toEqual({ op: 'getThing', params: { id: 'a/b c' }, q: 'a b' });
    expect(JSON.parse(text(await binding.handle(request('listThings', '/things/1'), signal)))).toEqual({ op: 'listThings', params: {}, q: null });
  });

  it('answers an operationId it does not serve with a 404 not-found problem, Object.prototype names included', async () => {
    for (const operationId of ['x', 'getthing', 'constructor', '__proto__', 'toString', '']) {
      const answer = await binding.handle(request(operationId, '/things'), signal);
      expect(answer.status, operationId).toBe(404);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(problemOf(answer).type).toBe('urn:tabadol:problem:not-found');
    }
  });

  it('refuses a path that is not valid percent-encoding (400 naming the path) before any handler', async () => {
    const answer = await binding.handle(request('getThing', '/things/%ED%A0%80', { id: '%ED%A0%80' }), signal);
    expect(answer.status).toBe(400);
    expect(problemOf(answer)).toMatchObject({ type: 'urn:tabadol:problem:request-invalid', errors: [{ location: 'path' }] });
  });

  it('runs the precheck before the handler, and the handler when the precheck lets it', async () => {
    const refusing = operationBinding('things', { getThing: async () => ({ status: 200, headers: {}, body: Buffer.from('handled') }) }, (params) =>
      params.id === 'bad' ? { status: 422, headers: {}, body: Buffer.from('refused') } : undefined,
    );
    expect(text(await refusing.handle(request('getThing', '/things/bad', { id: 'bad' }), signal))).toBe('refused');
    expect(text(await refusing.handle(request('getThing', '/things/good', { id: 'good' }), signal))).toBe('handled');
  });
});

describe('the territory binding', () => {
  const contract = serviceContract('MA/GOV/HUB/referentials/territory');
  const call = async (pathAndQuery: string) => {
    const answer = await territoryService.handle(
      routedRequest(contract, { serviceId: 'MA/GOV/HUB/referentials/territory', method: 'GET', pathAndQuery, headers: {}, body: new Uint8Array(), client: 'MA/GOV/TEST/y', purpose: 'test', requestId: 'r1' }),
      signal,
    );
    const operation = contract.match('GET', pathAndQuery.split('?')[0] ?? '');
    // Every answer is one the contract allows, as the pipeline checks it.
    expect(operation?.validateResponse(answer.status, answer.headers['content-type'], JSON.parse(text(answer))), pathAndQuery).toEqual([]);
    return { status: answer.status, body: JSON.parse(text(answer)) as Record<string, unknown> };
  };

  it('answers each operation of its contract from the parameters the router decoded', async () => {
    expect(await call('/units/01.511.05.19')).toMatchObject({ status: 200, body: { unit: { code: '01.511.05.19', nameFr: 'Hjar Ennhal' }, via: 'current' } });
    // The code percent-encoded in the path reaches the binding decoded.
    expect(await call('/units/%30%31.511.05.19')).toMatchObject({ status: 200, body: { unit: { code: '01.511.05.19' } } });
    const children = await call('/units/01.511.05/children');
    expect(children.status).toBe(200);
    expect((children.body.units as Array<{ code: string }>).map((u) => u.code)).toEqual(['01.511.05.01', '01.511.05.05', '01.511.05.07', '01.511.05.17', '01.511.05.19']);
    // From the parent up to the region, as the contract says.
    const ancestors = await call('/units/01.511.05.19/ancestors');
    expect((ancestors.body.units as Array<{ code: string }>).map((u) => u.code)).toEqual(['01.511.05', '01.511', '01']);
    const search = await call('/search?q=Hjar%20Ennhal&kind=commune');
    expect((search.body.hits as Array<{ unit: { code: string } }>)[0]?.unit.code).toBe('01.511.05.19');
    expect(await call('/units/99')).toMatchObject({ status: 404, body: { type: 'urn:tabadol:problem:not-found', errors: [{ location: 'path.code' }] } });
    expect(await call('/search?q=%20')).toMatchObject({ status: 400, body: { errors: [{ location: 'query.q' }] } });
  });

  it('answers an operationId that is not in its contract with a 404 problem', async () => {
    const answer = await territoryService.handle({ ...request('getRecord', '/units/01'), pathParams: { code: '01' } }, signal);
    expect(answer.status).toBe(404);
    expect(problemOf(answer).type).toBe('urn:tabadol:problem:not-found');
  });
});
