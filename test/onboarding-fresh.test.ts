// What a newcomer meets on a fresh clone (issue 13): `npm test` without PostgreSQL or Redis, the offline /docs, the one spec.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../src/http/openapi.ts';
import { problemCodes, problemTypePrefix } from '../src/http/problem.ts';
import { createMemoryQueue } from '../src/queue/memory.ts';
import { openTestDb, type TestDb } from './helpers/db.ts';
import { buildTestApp } from './helpers/hub.ts';
import { runToExit } from './helpers/process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

/** Runs one test file in a vitest of its own, with the real-server settings given and none inherited. */
function vitestRun(file: string, settings: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('VITEST') || ['DATABASE_URL', 'REDIS_URL', 'TABADOL_TEST_SERVERS', 'NODE_OPTIONS'].includes(key)) delete env[key];
  }
  const child = spawn(process.execPath, [vitestBin, 'run', '--reporter=verbose', file], { cwd: root, env: { ...env, NO_COLOR: '1', ...settings }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('npm test on a machine without PostgreSQL and Redis', { timeout: 120_000 }, () => {
  it('runs on the embedded drivers and ends with one line naming what it did not run and how to run it', async () => {
    const { code, output } = await vitestRun('test/fixtures/left-out.test.ts', { TABADOL_TEST_SERVERS: 'none' });
    expect(code, output).toBe(0);
    expect(output).toMatch(/a storage suite on pglite/);
    expect(output).not.toMatch(/a storage suite on pg\b|a queue suite on bullmq/);
    const lines = output.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(
      'tabadol: embedded drivers only; not run on PostgreSQL (TABADOL_TEST_SERVERS=none): test/fixtures/left-out.test.ts; ' +
        'on Redis (TABADOL_TEST_SERVERS=none): test/fixtures/left-out.test.ts. ' +
        'To run them: start PostgreSQL and Redis (or set DATABASE_URL and REDIS_URL), then `TABADOL_TEST_SERVERS=required npm test`.',
    );
  });

  // With the servers present the whole suite runs on every driver (that is the CI run itself, .ci/run).
  it('fails, naming the server, when a server is named by DATABASE_URL or REDIS_URL and does not answer', async () => {
    const named = await vitestRun('test/fixtures/left-out.test.ts', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    expect(named.code).not.toBe(0);
    expect(named.output).toMatch(/PostgreSQL \(DATABASE_URL\) is not reachable at postgres:\/\/postgres@127\.0\.0\.1:1\/test/);
    const required = await vitestRun('test/fixtures/left-out.test.ts', { TABADOL_TEST_SERVERS: 'required', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(required.code).not.toBe(0);
    expect(required.output).toMatch(/Redis \(REDIS_URL\) is not reachable at redis:\/\/127\.0\.0\.1:1: .*TABADOL_TEST_SERVERS=required/);
  });

});

describe('the API reference at /docs on a closed network', () => {
  let t: TestDb;
  let app: ReturnType<typeof buildTestApp>['app'];
  const queue = createMemoryQueue();
  beforeAll(async () => {
    t = await openTestDb('pglite');
    app = buildTestApp(t.db, queue).app;
  });
  afterAll(async () => {
    await queue.close();
    await t?.dispose();
  });

  it('references no other host, and the hub serves every script and stylesheet the page loads', async () => {
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    const references = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1] ?? '');
    const scripts = [...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1] ?? '');
    expect(scripts.length).toBeGreaterThan(0);
    for (const reference of references) {
      expect(reference, `${reference} stays on the hub`).toMatch(/^\/(?!\/)/);
      expect(new URL(reference, 'http://hub.invalid').host, reference).toBe('hub.invalid');
    }
    for (const reference of references.filter((r) => r !== '/openapi.json')) {
      const asset = await app.request(reference);
      expect(asset.status, reference).toBe(200);
      const type = asset.headers.get('content-type') ?? '';
      expect(type, reference).toMatch(scripts.includes(reference) ? /^text\/javascript\b/ : /^text\/css\b/);
      expect(asset.headers.get('cache-control'), reference).toMatch(/max-age=\d+/);
      expect((await asset.arrayBuffer()).byteLength, reference).toBeGreaterThan(0);
    }
    // The renderer's script is the real one, not an empty stand-in.
    const bundle = scripts.find((s) => s.endsWith('swagger-ui-bundle.js')) ?? '';
    expect(await (await app.request(bundle)).text()).toContain('SwaggerUIBundle');
  });

  it('serves only the listed assets', async () => {
    const page = await (await app.request('/docs')).text();
    const base = /src="([^"]*)\/swagger-ui-bundle\.js"/.exec(page)?.[1] ?? '';
    expect((await app.request(`${base}/package.json`)).status).toBe(404);
    expect((await app.request(`${base}/..%2F..%2Fpackage.json`)).status).toBe(404);
  });
});

describe('the whole API in one spec', () => {
  type Operation = { parameters?: { name: string; in: string }[]; security?: Record<string, string[]>[]; responses: Record<string, { description: string; headers?: Record<string, unknown> }> };
  const spec = buildOpenApiDocument() as unknown as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, { oneOf?: { const: string; 'x-status': number }[] }>; securitySchemes: Record<string, { in?: string; name?: string }> };
  };
  const exchange = spec.paths['/x/v1/{instance}/{memberClass}/{memberCode}/{subsystem}/{service}/{path}'];

  it('lists every problem code of the hub with its status', () => {
    const listed = new Map((spec.components.schemas.ProblemType?.oneOf ?? []).map((entry) => [entry.const, entry['x-status']]));
    for (const [code, { status }] of Object.entries(problemCodes)) expect(listed.get(problemTypePrefix + code), code).toBe(status);
  });

  it('describes a call to a provider service: the request headers, the signed answer, each refusal of docs/protocol.md at its status', () => {
    expect(exchange, 'the /x/v1 path').toBeDefined();
    const protocol = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
    const checks = protocol.slice(protocol.indexOf('## 3.'), protocol.indexOf('## 4.'));
    const codes = [...checks.matchAll(/^\|\s*\d+\s*\|[^|]*\|([^|]*)\|/gm)].flatMap((row) => [...(row[1] ?? '').matchAll(/`([a-z-]+)`/g)].map((m) => m[1] ?? ''));
    expect(codes.length).toBeGreaterThanOrEqual(19);
    for (const method of ['get', 'post']) {
      const op = exchange?.[method];
      expect(op, method).toBeDefined();
      expect(op?.parameters?.filter((p) => p.in === 'header').map((p) => p.name)).toEqual(['Tabadol-Client', 'Tabadol-Purpose']);
      expect(op?.security).toEqual([{ tabadolSignature: [] }]);
      for (const code of codes) {
        const status = problemCodes[code as keyof typeof problemCodes]?.status;
        expect(status, `${code} is a problem code`).toBeDefined();
        expect(op?.responses[String(status)]?.description, `${method} ${code}`).toContain(`\`${code}\``);
      }
      for (const response of Object.values(op?.responses ?? {})) expect(Object.keys(response.headers ?? {})).toEqual(['Tabadol-Signature', 'Tabadol-Request-Id', 'Tabadol-Log-Id']);
    }
    expect(spec.components.securitySchemes.tabadolSignature).toMatchObject({ in: 'header', name: 'Tabadol-Signature' });
  });

  it('describes the metaservices, and says where each service\'s own contract is fetched', () => {
    for (const path of ['/meta/v1/clients', '/meta/v1/services', '/meta/v1/allowed', '/meta/v1/openapi/{instance}/{memberClass}/{memberCode}/{subsystem}/{service}']) {
      expect(spec.paths[path]?.get, path).toBeDefined();
    }
    expect(JSON.stringify(exchange?.get)).toContain('/meta/v1/openapi/');
  });
});

describe('small things a newcomer looks for', () => {
  it('`tabadol --version` prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const run = await runToExit(['--version'], {});
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('the LICENSE file holds the license that package.json names (Apache-2.0)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { license: string };
    expect(pkg.license).toBe('Apache-2.0');
    const license = readFileSync(new URL('../LICENSE', import.meta.url), 'utf8');
    expect(license).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });
});
