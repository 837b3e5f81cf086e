// The adapters' shared call to their systems (adapters/shared/system-call.ts): what a system's bad answers become.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveLocal, type LocalServer } from '../adapters/shared/local-server.ts';
import { probeHealth, SystemCallError, systemCaller } from '../adapters/shared/system-call.ts';

let system: LocalServer;
const seen: { authorization?: string; method?: string; body?: string }[] = [];

beforeAll(async () => {
  system = await serveLocal((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, method: req.method, body });
      const path = req.url ?? '';
      if (path.startsWith('/ok')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[1,2]}');
      if (path === '/empty') return void res.writeHead(204).end();
      if (path === '/html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      if (path === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        const chunk = '"x",'.repeat(16_384);
        const pump = (left: number): void => {
          if (left === 0 || res.destroyed) return void res.end('"x"]');
          if (res.write(chunk)) pump(left - 1);
          else res.once('drain', () => pump(left - 1));
        };
        return pump(64);
      }
      if (path === '/redirect') return void res.writeHead(302, { location: '/ok' }).end();
      if (path === '/slow') return void setTimeout(() => res.writeHead(200).end('{}'), 2000).unref();
      const status = Number(path.slice(1));
      res.writeHead(Number.isInteger(status) && status >= 400 ? status : 404).end('{}');
    });
  });
});
afterAll(() => system.close());

const call = systemCaller('the test system', { maxBytes: 64 * 1024 });
const config = () => ({ baseUrl: system.url, token: 'a-token-of-sixteen-chars', timeoutMs: 500 });
const signal = () => new AbortController().signal;

async function failure(path: string): Promise<SystemCallError> {
  const err = await call(config(), path, signal()).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SystemCallError);
  return err as SystemCallError;
}

describe('systemCaller', () => {
  it('sends the bearer token, GET without a body and POST with JSON, and returns the parsed answer', async () => {
    expect(await call(config(), '/ok?since=3', signal())).toEqual({ items: [1, 2] });
    expect(await call(config(), '/ok', signal(), { changes: [1] })).toEqual({ items: [1, 2] });
    expect(seen.at(-2)).toMatchObject({ authorization: 'Bearer a-token-of-sixteen-chars', method: 'GET', body: '' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"changes":[1]}' });
    expect(await call(config(), '/empty', signal())).toBeUndefined();
  });

  it('says whether a refusal is for good: 4xx yes, but 408, 429 and 5xx are retried', async () => {
    expect((await failure('/400')).permanent).toBe(true);
    expect((await failure('/404')).permanent).toBe(true);
    for (const status of [408, 429, 500, 503]) {
      const err = await failure(`/${status}`);
      expect(err.status).toBe(status);
      expect(err.permanent).toBe(false);
      expect(err.message).toBe(`the test system answered ${status} to GET /${status}`);
    }
  });

  it('refuses what is not an answer: HTML with a 200, a redirect, more than the bound, no answer in time', async () => {
    expect((await failure('/html')).message).toMatch(/not JSON/);
    expect((await failure('/redirect')).message).toMatch(/did not answer GET \/redirect: unreachable/);
    const huge = await failure('/huge');
    expect(huge.message).toMatch(/more than 65536 bytes/);
    expect(huge.permanent).toBe(false);
    expect((await failure('/slow')).message).toMatch(/did not answer GET \/slow: timed out/);
  });

  it('leaves the query string out of its messages (cursors are no one else\'s business)', async () => {
    expect((await failure('/503?since=secret-cursor')).message).not.toContain('secret-cursor');
  });

  it('gives an adapter health from one probe', async () => {
    const health = probeHealth((c: ReturnType<typeof config>, s: AbortSignal) => call(c, '/503', s));
    expect(await health({ config: config(), signal: signal() })).toEqual({ ok: false, detail: 'the test system answered 503 to GET /503' });
    expect(await probeHealth(() => Promise.resolve(1))({ config: config(), signal: signal() })).toEqual({ ok: true });
  });
});
