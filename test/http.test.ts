import { createRoute, z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryQueue } from '../src/queue/memory.ts';
import { problemResponses } from '../src/http/problem.ts';
import { openTestDb, type TestDb } from './helpers/db.ts';
import { buildTestApp } from './helpers/hub.ts';

// A route used only here, to exercise the factory's shared body parsing, defaultHook and error handling.
const echo = createRoute({
  method: 'post',
  path: '/test/echo',
  request: {
    body: { required: true, content: { 'application/json': { schema: z.object({ ice: z.string().regex(/^\d{15}$/, 'must be 15 digits'), count: z.number().int() }) } } },
  },
  responses: { 200: { description: 'echo', content: { 'application/json': { schema: z.object({ ice: z.string() }) } } }, ...problemResponses },
});

describe('HTTP app', () => {
  let t: TestDb;
  let built: ReturnType<typeof buildTestApp>;
  const queue = createMemoryQueue();

  beforeAll(async () => {
    t = await openTestDb('pglite');
    built = buildTestApp(t.db, queue);
    built.app.openapi(echo, (c) => c.json({ ice: c.req.valid('json').ice }, 200));
    built.app.post('/test/boom', () => {
      throw new Error('secret internal detail');
    });
  });
  afterAll(async () => {
    await queue.close();
    await t.dispose();
  });

  const expectProblem = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { type: string; status: number; requestId: string; errors?: Array<{ location: string; message: string }> };
    expect(body.type).toBe(`urn:tabadol:problem:${code}`);
    expect(body.status).toBe(status);
    expect(body.requestId).toBe(res.headers.get('tabadol-request-id'));
    return body;
  };

  it('answers /healthz and /readyz with a request id', async () => {
    const health = await built.app.request('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('tabadol-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const ready = await built.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', queue: 'ok' } });
  });

  it('gives every request its own id, or keeps a well-formed inbound X-Request-Id', async () => {
    const a = await built.app.request('/healthz');
    const b = await built.app.request('/healthz');
    expect(a.headers.get('tabadol-request-id')).not.toBe(b.headers.get('tabadol-request-id'));
    const kept = await built.app.request('/healthz', { headers: { 'x-request-id': 'caller-trace-0001' } });
    expect(kept.headers.get('tabadol-request-id')).toBe('caller-trace-0001');
    const refused = await built.app.request('/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(refused.headers.get('tabadol-request-id')).not.toContain('bad');
  });

  it('answers an unknown route with a 404 problem', async () => {
    const body = await expectProblem(await built.app.request('/no/such/route'), 404, 'not-found');
    expect(body).toMatchObject({ title: 'Not found', detail: 'no route for GET /no/such/route' });
  });

  it('answers malformed JSON with a 400 problem naming the body', async () => {
    const res = await built.app.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ice": "0015' });
    const body = await expectProblem(res, 400, 'body-malformed');
    expect(body.errors).toEqual([{ location: 'body', message: 'not valid JSON' }]);
  });

  it('answers invalid fields with a 400 problem naming each field at fault', async () => {
    const res = await built.app.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ice: '12', count: 1.5 }) });
    const body = await expectProblem(res, 400, 'request-invalid');
    expect(body.errors?.map((e) => e.location).sort()).toEqual(['body.count', 'body.ice']);
    expect(body.errors?.find((e) => e.location === 'body.ice')?.message).toBe('must be 15 digits');
  });

  it('answers a body over the limit with a 413 problem, by declared length or by streamed size', async () => {
    const big = JSON.stringify({ ice: '001525458000088', count: 1, pad: 'x'.repeat(70 * 1024) });
    await expectProblem(await built.app.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big }), 413, 'payload-too-large');
    // Without a content-length the limit still holds while the body streams in.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const res = await built.app.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    await expectProblem(res, 413, 'payload-too-large');
  });

  it('accepts a valid body', async () => {
    const res = await built.app.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ice: '001525458000088', count: 2 }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ice: '001525458000088' });
  });

  it('hides the cause of an unexpected error from the client and logs it without the body', async () => {
    const res = await built.app.request('/test/boom', { method: 'POST', body: 'password=hunter2', headers: { authorization: 'Bearer tok-123' } });
    const body = (await expectProblem(res, 500, 'internal')) as unknown as { detail: string };
    expect(body.detail).not.toContain('secret internal detail');
    const joined = built.logs.join('\n');
    expect(joined).toContain('secret internal detail');
    expect(joined).not.toContain('hunter2');
    expect(joined).not.toContain('tok-123');
  });

  it('exposes Prometheus metrics with HTTP latency by route template, queue depths and outbox lag', async () => {
    await queue.add('metrics-probe', { n: 1 });
    const res = await built.app.request('/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/tabadol_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).toMatch(/tabadol_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(text).toMatch(/tabadol_queue_depth\{topic="metrics-probe",state="waiting"\} 1/);
    expect(text).toMatch(/tabadol_outbox_lag_seconds 0/);
    expect(text).toMatch(/tabadol_outbox_pending_rows 0/);
  });

  it('serves its OpenAPI document and the API reference', async () => {
    const spec = (await (await built.app.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']));
    const docs = await built.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
  });
});
