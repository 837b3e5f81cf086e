// Hostile input at the HTTP layer (issue 11, items 3 to 6 and 8), over a real hub server: lying lengths and stalled
// bodies, dot segments, refusals after the signature verified, malformed percent-encoding, duplicate JSON keys,
// aborted uploads, what Node's parser refuses, and 5xx answers that keep internal messages to the log. Raw sockets
// (node:net) where a client library would fix the request up.
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { verifyResponse } from '../src/client/index.ts';
import { toFolderName } from '../src/identity/ids.ts';
import { addOperator } from '../src/identity/operators.ts';
import { mefId, mefPurpose, provider, startExchangeWorld, type ExchangeWorld, type RawAnswer, type SignedRequest } from './exchange/harness.ts';
import { waitFor } from './helpers/wait.ts';

const bodyTimeoutSeconds = 3;
const classification = `/x/v1/${provider}/classification/companies/${demoIces.qualified}/classification`;
const echoService = `${provider}/echo`;
const failingService = `${provider}/failing`;
const failingAdapter = 'hostile-http-failing';
const internalMessage = 'relation "secret_internal_table" does not exist';

const echoOpenapi = `openapi: 3.1.0
info: {title: echo, version: '1'}
paths:
  /things:
    post:
      operationId: createThing
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
`;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: unknown;
  /** ms from the first byte written to the whole answer read. */
  ms: number;
}

/** Opens a raw connection to the hub. */
function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads one HTTP/1.1 answer (Content-Length framed) from a socket; rejects after `timeoutMs` so that a hang fails the test. */
function readAnswer(socket: Socket, started: number, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    const tryParse = (): boolean => {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return false;
      const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) return false;
      const body = data.subarray(end + 4, end + 4 + length).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      cleanup();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, json, ms: performance.now() - started });
      return true;
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      tryParse();
    };
    const onEnd = () => {
      if (!tryParse()) {
        cleanup();
        reject(new Error(`the connection ended without a whole answer: ${JSON.stringify(data.toString('latin1').slice(0, 200))}`));
      }
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
  });
}

/** Resolves true when the server closes the connection within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}

function head(method: string, target: string, headers: Record<string, string>): string {
  return `${method} ${target} HTTP/1.1\r\nHost: hub.test\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

describe('hostile input at the HTTP layer', () => {
  let world: ExchangeWorld;
  let url: string;
  let adminToken: string;
  const echoed: string[] = [];

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pg', redis: true, env: { BODY_TIMEOUT_SECONDS: String(bodyTimeoutSeconds) }, logLevel: 'info' });
    url = world.urls[0] ?? '';
    adminToken = (await addOperator(world.db, { name: 'hostile-http admin', role: 'admin', actor: 'test' })).token;
    // Two services with a JSON body: one behind an HTTP provider that records what it receives, one behind an adapter that fails.
    for (const service of ['echo', 'failing']) {
      const dir = join(world.contractsDir, toFolderName(provider), service);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'openapi.yaml'), echoOpenapi);
      await world.addConvention({ service, consumer: mefId, operations: [{ operationId: 'createThing' }] });
    }
    const stub = await world.stubProvider((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        echoed.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    world.loadAdapter(failingAdapter, {
      handle: () => Promise.reject(new Error(internalMessage)),
    });
    await world.bind(echoService, { kind: 'http', baseUrl: stub.url, timeoutMs: 5000 });
    await world.bind(failingService, { kind: 'adapter', adapter: failingAdapter, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await world?.close();
  });

  const signedPost = (target: string, body: string) => world.sign(world.mef.identity, { method: 'POST', target, purpose: mefPurpose, body });

  /** The project's own client accepts the answer: signed for this request, jti and aud echoed. */
  async function clientAccepts(request: SignedRequest, answer: { status: number; headers: Record<string, string>; body: string }) {
    return verifyResponse({
      jwks: await world.jwks(),
      hubId: world.hubId,
      clientId: mefId,
      requestSignature: request.signature,
      jti: request.jti,
      status: answer.status,
      signature: answer.headers['tabadol-signature'] ?? null,
      body: answer.body,
    });
  }

  describe('item 4: the body is read only after the signature is checked', () => {
    it('answers an unsigned request declaring 1 GiB at once, without waiting for the body, and closes the connection', async () => {
      const socket = await open(url);
      const started = performance.now();
      socket.write(head('POST', `/x/v1/${echoService}/things`, { 'content-type': 'application/json', 'content-length': '1073741824' }) + '{"a":1,"b"');
      const answer = await readAnswer(socket, started);
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:signature-missing' });
      expect(answer.headers['tabadol-signature']).toBeTruthy();
      expect(answer.ms, 'answered well before the body timeout').toBeLessThan((bodyTimeoutSeconds * 1000) / 2);
      expect(await closedWithin(socket, 2000), 'the hub closes the connection rather than waiting for the body').toBe(true);
      socket.destroy();
    });

    it('answers a badly signed request streaming a large body without reading it: the connection closes long before the body is sent', async () => {
      const request = await signedPost(`/x/v1/${echoService}/things`, '{}');
      const socket = await open(url);
      const total = 256 * 1024 * 1024;
      socket.write(head('POST', request.target, { ...request.headers, 'tabadol-signature': `${request.signature.slice(0, -4)}AAAA`, 'content-length': String(total) }));
      const answerPromise = readAnswer(socket, performance.now());
      const closed = closedWithin(socket, 20_000);
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      socket.on('error', () => undefined);
      while (sent < total && !socket.destroyed && !socket.writableEnded) {
        if (!socket.write(chunk)) await new Promise<void>((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
        sent += chunk.length;
      }
      const answer = await answerPromise;
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:signature-invalid' });
      expect(await closed).toBe(true);
      expect(sent, 'bytes the client could send before the hub closed').toBeLessThan(total / 4);
      socket.destroy();
    });

    it('refuses a signed request declaring more than the limit at once (413, signed with its jti, logged), without waiting for the body', async () => {
      const request = await signedPost(`/x/v1/${echoService}/things`, '{}');
      const socket = await open(url);
      const started = performance.now();
      socket.write(head('POST', request.target, { ...request.headers, 'content-length': '1073741824' }) + '{}');
      const answer = await readAnswer(socket, started);
      expect(answer.status).toBe(413);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:payload-too-large', requestId: request.jti });
      expect(answer.ms).toBeLessThan((bodyTimeoutSeconds * 1000) / 2);
      expect(answer.headers['tabadol-request-id']).toBe(request.jti);
      await clientAccepts(request, answer);
      expect((await world.logRow(answer.headers['tabadol-log-id'] ?? '0'))?.problem).toBe('payload-too-large');
      expect(await closedWithin(socket, 2000)).toBe(true);
      socket.destroy();
    });

    it('cuts a body that stalls with a 408 request-timeout after BODY_TIMEOUT_SECONDS, signed with the jti and logged', async () => {
      const body = '{"name":"a stalled upload"}';
      const request = await signedPost(`/x/v1/${echoService}/things`, body);
      const socket = await open(url);
      const started = performance.now();
      socket.write(head('POST', request.target, { ...request.headers, 'content-length': String(body.length) }) + body.slice(0, 10));
      const answer = await readAnswer(socket, started, 15_000);
      expect(answer.status).toBe(408);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:request-timeout', requestId: request.jti });
      expect(answer.ms).toBeGreaterThanOrEqual(bodyTimeoutSeconds * 1000 - 100);
      expect(answer.ms).toBeLessThan(bodyTimeoutSeconds * 1000 + 3000);
      await clientAccepts(request, answer);
      expect((await world.logRow(answer.headers['tabadol-log-id'] ?? '0'))?.problem).toBe('request-timeout');
      expect(await closedWithin(socket, 2000)).toBe(true);
      socket.destroy();
    });

    it('still reads and checks a whole body once the signature verified (200, and bdh checked)', async () => {
      const request = await signedPost(`/x/v1/${echoService}/things`, '{"name":"fine"}');
      const ok = await world.send(request);
      expect(ok.status).toBe(200);
      const tampered = await world.send({ ...request, body: '{"name":"evil"}' });
      expect(tampered.json).toMatchObject({ type: 'urn:tabadol:problem:replayed-request' });
      const fresh = await signedPost(`/x/v1/${echoService}/things`, '{"name":"fine"}');
      const mismatch = await world.send({ ...fresh, body: '{"name":"evil"}' });
      expect(mismatch.json).toMatchObject({ type: 'urn:tabadol:problem:body-digest-mismatch' });
    });
  });

  describe('item 5: dot segments never reach another route', () => {
    const targets = [
      '/x/v1/../../admin/v1/members',
      '/x/v1/%2e%2e/%2e%2e/admin/v1/members',
      '/x/v1/%2E%2E/%2E%2E/admin/v1/members',
      '/x/v1/.%2e/.%2e/admin/v1/members',
      '/meta/v1/../../admin/v1/members',
      '/healthz/../admin/v1/members',
      '/admin/v1/./members',
      '/x/v1/MA/GOV/METLE/qualification-btp/classification/companies/%2e%2e/x',
    ];
    it('checks the control: the token reaches /admin/v1/members', async () => {
      const socket = await open(url);
      socket.write(head('GET', '/admin/v1/members', { authorization: `Bearer ${adminToken}` }));
      expect((await readAnswer(socket, performance.now())).status).toBe(200);
      socket.destroy();
    });
    it.each(targets)('refuses %s with a 400 problem before routing', async (target) => {
      const socket = await open(url);
      socket.write(head('GET', target, { authorization: `Bearer ${adminToken}` }));
      const answer = await readAnswer(socket, performance.now());
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:request-invalid', errors: [expect.objectContaining({ location: 'path' })] });
      socket.destroy();
    });
  });

  describe('item 8: refusals after the signature verified carry the jti and aud', () => {
    const expectEchoed = async (request: SignedRequest, answer: RawAnswer, code: string) => {
      expect(answer.json).toMatchObject({ type: `urn:tabadol:problem:${code}`, requestId: request.jti });
      expect(answer.headers['tabadol-request-id']).toBe(request.jti);
      const claims = await clientAccepts(request, { status: answer.status, headers: answer.headers, body: answer.text });
      expect(claims).toMatchObject({ jti: request.jti, aud: mefId });
      const row = await world.logRow(answer.headers['tabadol-log-id'] ?? '0');
      expect(row).toMatchObject({ request_id: request.jti, problem: code, client: mefId });
    };
    it('signature-mismatch (check 5): htu signed for another target', async () => {
      const request = await world.sign(world.mef.identity, { method: 'GET', target: classification, purpose: mefPurpose }, { claims: { htu: `${classification}?x=1` } });
      await expectEchoed(request, await world.send(request), 'signature-mismatch');
    });
    it('clock-skew (check 6): iat an hour ago', async () => {
      const request = await world.sign(world.mef.identity, { method: 'GET', target: classification, purpose: mefPurpose }, { claims: { iat: Math.floor(Date.now() / 1000) - 3600 } });
      await expectEchoed(request, await world.send(request), 'clock-skew');
    });
    it('a fresh id before the signature verified (check 4), and no aud', async () => {
      const request = await world.sign(world.mef.identity, { method: 'GET', target: classification, purpose: mefPurpose });
      const answer = await world.send({ ...request, headers: { ...request.headers, 'tabadol-signature': `${request.signature.slice(0, -4)}AAAA` } });
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:signature-invalid' });
      expect(answer.headers['tabadol-request-id']).not.toBe(request.jti);
      const claims = await world.verifyAnswer(answer);
      expect(claims.aud).toBeUndefined();
    });
  });

  describe('item 6: smaller ones', () => {
    it('a malformed percent-encoding in /meta/v1/openapi/ is a 400 request-invalid naming the path', async () => {
      const target = '/meta/v1/openapi/%E0%A4%A';
      const request = await world.sign(world.mef.identity, { method: 'GET', target, purpose: mefPurpose });
      const answer = await world.send(request);
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:request-invalid', errors: [{ location: 'path' }] });
    });

    it.each([
      ['{"name":"a","name":"b"}', 'body.name'],
      ['{"x":{"y":[{"k":1},{"k":1,"j":"k","k":2}]}}', 'body.x.y.1.k'],
      ['{"a":1,"\\u0061":2}', 'body.a'],
    ])('refuses %s as request-invalid at %s, and the provider receives nothing', async (body, location) => {
      const before = echoed.length;
      const request = await signedPost(`/x/v1/${echoService}/things`, body);
      const answer = await world.send(request);
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:request-invalid', errors: [{ location, message: 'duplicate key' }] });
      expect(echoed.length).toBe(before);
    });

    it('logs a client that aborts its upload at info, without a stack, and counts no server error', async () => {
      const request = await signedPost(`/x/v1/${echoService}/things`, '{"name":"never finished"}');
      const logs = world.logs[0] ?? [];
      const from = logs.length;
      const socket = await open(url);
      socket.write(head('POST', request.target, { ...request.headers, 'content-length': '1000' }) + '{"name":');
      await new Promise((r) => setTimeout(r, 200));
      socket.destroy();
      const line = await waitFor(() => logs.slice(from).find((l) => l.includes('client closed the connection')) ?? false, 'an info line for the aborted upload');
      expect(line, 'an info line for the aborted upload').toBeDefined();
      const entry = JSON.parse(line ?? '{}') as { level: number | string; err?: { stack?: string } };
      expect(entry.level === 30 || entry.level === 'info').toBe(true);
      expect(line).not.toContain('stack');
      expect(logs.slice(from).some((l) => l.includes('unhandled error') || l.includes('"status":500'))).toBe(false);
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      const serverErrors = metrics.split('\n').filter((l) => l.startsWith('tabadol_http_request_duration_seconds_count{') && l.includes('route="/x/v1/*"') && /status="5\d\d"/.test(l));
      expect(serverErrors).toEqual([]);
    });

    it.each([
      ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'request-invalid'],
      ['oversized headers', `GET /healthz HTTP/1.1\r\nHost: hub.test\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, 431, 'headers-too-large'],
      ['a backslash in the path', 'GET /x/v1\\..\\..\\admin/v1/members HTTP/1.1\r\nHost: hub.test\r\n\r\n', 400, 'request-invalid'],
    ])("answers %s with a problem+json (Node's own answer is plain text)", async (_name, raw, status, code) => {
      const socket = await open(url);
      socket.on('error', () => undefined);
      socket.write(raw);
      const answer = await readAnswer(socket, performance.now());
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json).toMatchObject({ type: `urn:tabadol:problem:${code}`, status });
      expect(typeof (answer.json as { requestId?: unknown }).requestId).toBe('string');
      socket.destroy();
    });
  });

  describe('item 3: a 5xx answer never carries an internal message', () => {
    it("says the adapter failed, with the request id, and the hub's log carries the cause under the same id", async () => {
      const request = await signedPost(`/x/v1/${failingService}/things`, '{"name":"x"}');
      const answer = await world.send(request);
      expect(answer.status).toBe(502);
      expect(answer.json).toMatchObject({ type: 'urn:tabadol:problem:provider-unavailable', requestId: request.jti });
      expect(answer.text).not.toContain('secret_internal_table');
      expect((answer.json as { detail: string }).detail).toContain(request.jti);
      const line = (world.logs[0] ?? []).find((l) => l.includes('secret_internal_table'));
      expect(line).toBeDefined();
      expect(JSON.parse(line ?? '{}')).toMatchObject({ requestId: answer.headers['tabadol-request-id'] });
    });
  });
});
