// Hostile bodies cost bounded work and get bounded answers (issue 11, items 1 and 2): validation of any body within
// the limit answers a 4xx in under 2 s while /healthz keeps answering within 200 ms, and every problem body stays
// under 64 KB with the errors it leaves out counted, whatever the input.
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { goldenService } from '../referentials/golden-service.ts';
import { referentialModules } from '../referentials/index.ts';
import { compileServiceOpenApi } from '../src/exchange/openapi-service.ts';
import { ProblemError, problemLimits } from '../src/http/problem.ts';
import { addOperator } from '../src/identity/operators.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld, type RawAnswer } from './exchange/harness.ts';

const bodyLimit = 1024 * 1024; // the default BODY_LIMIT_BYTES, which the world's hubs run with
const maxProblemBytes = 64 * 1024;
const repoContracts = new URL('../contracts/', import.meta.url).pathname;
/** A provider of our own serving copies of the referential contracts (the harness signs conventions for members it registered). */
const testProvider = 'MA/GOV/TEST/hostile-refs';
const purpose = 'hostile-input-check';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ location: string; message: string }>;
  errorsOmitted?: number;
}

/** `{"items":[X,X,…]}` as large as the limit allows. */
function itemsAtLimit(item: string, room = bodyLimit): string {
  const head = '{"items":[';
  const count = Math.floor((room - head.length - 2) / (item.length + 1));
  return `${head}${Array.from({ length: count }, () => item).join(',')}]}`;
}

/**
 * Runs the hostile call while asking /healthz in a loop, and returns the answer, how long it took and the longest
 * /healthz wait: the gap between two /healthz answers, less the pause between asks, so that an event loop held by
 * the hub (which runs in this process) shows whether or not a /healthz call was in flight at that moment.
 */
async function whileProbingHealth(world: ExchangeWorld, call: () => Promise<RawAnswer>): Promise<{ answer: RawAnswer; ms: number; healthMs: number }> {
  const pause = 10;
  let done = false;
  let healthMs = 0;
  const probe = (async () => {
    let last = performance.now();
    while (!done) {
      const res = await fetch(`${world.urls[0] ?? ''}/healthz`);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      const now = performance.now();
      healthMs = Math.max(healthMs, now - last);
      await new Promise((resolve) => setTimeout(resolve, pause));
      last = performance.now();
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 30)); // the probe runs before the hostile call starts
  const started = performance.now();
  const answer = await call();
  const ms = performance.now() - started;
  done = true;
  await probe;
  return { answer, ms, healthMs };
}

function expectBoundedProblem(answer: RawAnswer): Problem {
  expect(answer.status, answer.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.body.length).toBeLessThanOrEqual(maxProblemBytes);
  const problem = answer.json as Problem;
  expect(problem.errors?.length ?? 0).toBeLessThanOrEqual(problemLimits.errors);
  return problem;
}

/** Every operation of a contract whose body or parameters hold an array (where a validator may find a fault per item). */
function operationsWithArrays(openapiText: string): string[] {
  const document = parseYaml(openapiText) as Record<string, unknown>;
  const resolve = (node: unknown): unknown => {
    let current = node;
    for (let hops = 0; hops < 16 && typeof current === 'object' && current !== null && typeof (current as { $ref?: unknown }).$ref === 'string'; hops++) {
      current = ((current as { $ref: string }).$ref.slice(2).split('/') as string[]).reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], document);
    }
    return current;
  };
  const holdsArray = (schema: unknown, depth = 0): boolean => {
    const s = resolve(schema);
    if (depth > 24 || typeof s !== 'object' || s === null) return false;
    const type = (s as { type?: unknown }).type;
    if (type === 'array' || (Array.isArray(type) && type.includes('array'))) return true;
    return Object.values(s).some((v) => (Array.isArray(v) ? v.some((x) => holdsArray(x, depth + 1)) : holdsArray(v, depth + 1)));
  };
  const found: string[] = [];
  for (const item of Object.values(document.paths as Record<string, Record<string, unknown>>)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      const operation = raw as { operationId: string; parameters?: unknown[]; requestBody?: unknown };
      const parameters = [...((item.parameters as unknown[] | undefined) ?? []), ...(operation.parameters ?? [])].map(resolve) as Array<{ schema?: unknown }>;
      const body = resolve(operation.requestBody) as { content?: Record<string, { schema?: unknown }> } | undefined;
      const schemas = [...parameters.map((p) => p.schema), ...Object.values(body?.content ?? {}).map((m) => m.schema)];
      if (schemas.some((schema) => holdsArray(schema))) found.push(operation.operationId);
    }
  }
  return found;
}

/** contract folder → its operations with arrays and, for each, the worst bodies at the limit (JSON text). */
const worstCases: Record<string, Record<string, Array<{ name: string; body: string }>>> = {};
const resolveWorst = [
  // Three branches of a oneOf, each with a required property: four Ajv errors per three bytes.
  { name: 'empty objects', body: itemsAtLimit('{}') },
  // No branch's type: three type errors and a oneOf per two bytes.
  { name: 'numbers', body: itemsAtLimit('1') },
];
for (const referential of ['companies', 'persons', 'vehicles']) worstCases[`MA.GOV.HUB.referentials/${referential}`] = { resolveMany: resolveWorst };
// The road agents' batch (contract: at most 50 rows): the same items at the limit under `rows`.
worstCases['MA.GOV.METLE.infractions/tickets'] = { recordInfractionBatch: resolveWorst.map((c) => ({ name: c.name, body: c.body.replace('{"items":[', '{"rows":[') })) };
/** Where each contract's worst case is sent: the service under the test provider and the operation's path. */
const caseTarget: Record<string, { service: string; path: string }> = {
  'MA.GOV.METLE.infractions/tickets': { service: 'tickets', path: '/infraction-batches' },
};
const targetOf = (contract: string) => caseTarget[contract] ?? { service: contract.split('/')[1] ?? '', path: '/resolve' };

describe('hostile bodies on a running hub', () => {
  let world: ExchangeWorld;
  let consumer: Consumer;
  let adminToken = '';

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pg', redis: false });
    consumer = await world.registerConsumer('MA/GOV/TEST/hostile-consumer');
    await world.registerConsumer(testProvider);
    // The referential services as the hub binds them, under our provider: the golden services on this hub's database.
    for (const module of referentialModules) {
      const service = module.name;
      const source = join(repoContracts, 'MA.GOV.HUB.referentials', service, 'openapi.yaml');
      const serviceDir = join(world.contractsDir, testProvider.replaceAll('/', '.'), service);
      mkdirSync(serviceDir, { recursive: true });
      copyFileSync(source, join(serviceDir, 'openapi.yaml'));
      const operations = (compileServiceOpenApi(readFileSync(source, 'utf8')).operations ?? []).map((o) => ({ operationId: o.operationId }));
      await world.addConvention({ provider: testProvider, service, consumer: consumer.id, purposes: [{ code: purpose, description: 'hostile input', legalBasis: 'test' }], operations });
      const adapter = `test:hostile:${service}`;
      world.loadAdapter(adapter, goldenService(module, world.db));
      await world.bind(`${testProvider}/${service}`, { kind: 'adapter', adapter, timeoutMs: 10_000 });
    }
    // The infractions contract under the test provider, bound to a provider that must never be reached: a batch at the
    // limit is refused by the hub's own validation.
    {
      const serviceDir = join(world.contractsDir, testProvider.replaceAll('/', '.'), 'tickets');
      mkdirSync(serviceDir, { recursive: true });
      copyFileSync(join(repoContracts, 'MA.GOV.METLE.infractions', 'tickets', 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
      await world.addConvention({ provider: testProvider, service: 'tickets', consumer: consumer.id, purposes: [{ code: purpose, description: 'hostile input', legalBasis: 'test' }], operations: [{ operationId: 'recordInfractionBatch' }] });
      world.loadAdapter('test:hostile:tickets', { handle: async () => ({ status: 500, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode('{"reached":"the provider"}') }) });
      await world.bind(`${testProvider}/tickets`, { kind: 'adapter', adapter: 'test:hostile:tickets', timeoutMs: 10_000 });
    }
    await world.sync();
    // The contracts compiled before anything is measured (as the hub does after each registry load, in the background).
    for (const hub of world.hubs) await hub.services.pipeline.prepare(hub.services.conventions.all());
    adminToken = (await addOperator(world.db, { name: 'hostile test admin', role: 'admin', actor: 'test' })).token;
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  const exchange = async (service: string, method: string, path: string, body: string, contentType = 'application/json') => {
    const signed = await world.sign(consumer.identity, { method, target: `/x/v1/${testProvider}/${service}${path}`, purpose, body });
    return world.send({ ...signed, headers: { ...signed.headers, 'content-type': contentType } });
  };

  it('every contract operation whose body or parameters hold arrays has its worst cases here', () => {
    // A new array in a contract fails this until its worst body is added to worstCases.
    const found: Record<string, string[]> = {};
    for (const provider of readdirSync(repoContracts)) {
      for (const service of readdirSync(join(repoContracts, provider))) {
        const operations = operationsWithArrays(readFileSync(join(repoContracts, provider, service, 'openapi.yaml'), 'utf8'));
        if (operations.length > 0) found[`${provider}/${service}`] = operations;
      }
    }
    expect(found).toEqual(Object.fromEntries(Object.entries(worstCases).map(([contract, cases]) => [contract, Object.keys(cases)])));
  });

  const exchangeCases = Object.entries(worstCases).flatMap(([contract, operations]) =>
    Object.entries(operations).flatMap(([operationId, bodies]) => bodies.map((c) => ({ contract, operationId, ...c }))),
  );
  it.each(exchangeCases)('$contract $operationId with $name at the limit: a bounded 4xx in under 2 s, /healthz within 200 ms meanwhile', async ({ contract, body }) => {
    expect(body.length).toBeGreaterThan(bodyLimit - 16);
    expect(body.length).toBeLessThanOrEqual(bodyLimit);
    const { service, path } = targetOf(contract);
    const { answer, ms, healthMs } = await whileProbingHealth(world, () => exchange(service, 'POST', path, body));
    const problem = expectBoundedProblem(answer);
    expect(problem.type).toBe('urn:tabadol:problem:request-invalid');
    expect(ms).toBeLessThan(2000);
    expect(healthMs).toBeLessThan(200);
  });

  it.each([
    { name: 'register a member', path: '/admin/v1/members', body: (keys: string) => `{"id":"MA/GOV/TEST/many-keys","name":"many keys","jwks":{"keys":${keys}}}` },
    { name: 'add keys', path: '/admin/v1/members/keys', body: (keys: string) => `{"id":"${testProvider}","jwks":{"keys":${keys}}}` },
  ])('admin API, $name with a key list at the limit: a bounded 4xx in under 2 s, /healthz within 200 ms meanwhile', async ({ path, body }) => {
    const room = bodyLimit - body('').length;
    for (const item of ['1', '{}']) {
      const keys = itemsAtLimit(item, room + '{"items":}'.length).slice('{"items":'.length, -1);
      const text = body(keys);
      expect(text.length).toBeLessThanOrEqual(bodyLimit);
      const { answer, ms, healthMs } = await whileProbingHealth(world, () =>
        world.send({ method: 'POST', target: path, body: text, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' } }),
      );
      expectBoundedProblem(answer);
      expect(ms).toBeLessThan(2000);
      expect(healthMs).toBeLessThan(200);
    }
  });

  it('a CSV batch whose header is sourceId and 1 MiB of unknown columns: a 422 under 64 KB naming the first ones and counting the rest', async () => {
    const columns: string[] = ['sourceId'];
    let length = 'sourceId'.length + 1;
    for (let i = 0; length + 8 < bodyLimit; i++) {
      const name = `c${i}`;
      columns.push(name);
      length += name.length + 1;
    }
    const csv = `${columns.join(',')}\n`;
    expect(csv.length).toBeLessThanOrEqual(bodyLimit);
    const { answer, ms, healthMs } = await whileProbingHealth(world, () => exchange('companies', 'POST', '/batches?batchId=wide-header', csv, 'text/csv'));
    expect(answer.status).toBe(422);
    const problem = expectBoundedProblem(answer);
    expect(problem.errors?.[0]).toEqual({ location: 'body.header.c0', message: expect.stringMatching(/^is not a known column \(expected sourceId and some of: /) });
    expect(problem.errors?.[1]).toEqual({ location: 'body.header.c1', message: 'is not a known column' });
    expect((problem.errors?.length ?? 0) + (problem.errorsOmitted ?? 0)).toBe(columns.length - 1);
    expect(problem.errorsOmitted).toBeGreaterThan(0);
    expect(ms).toBeLessThan(2000);
    expect(healthMs).toBeLessThan(200);
  });

  it('a JSON body with hundreds of invalid items: the first 100 faults listed, the rest counted', async () => {
    // 330 items stay within the validator's budget, so every fault is found (three per item: one per oneOf branch).
    const answer = await exchange('persons', 'POST', '/resolve', JSON.stringify({ items: Array.from({ length: 330 }, () => ({})) }));
    const problem = expectBoundedProblem(answer);
    expect(problem.errors).toHaveLength(problemLimits.errors);
    expect(problem.errors?.[0]).toEqual({ location: 'body.items.0.goldenId', message: 'is required' });
    expect(problem.errorsOmitted).toBe(330 * 3 - problemLimits.errors);
  });

  it('a JSON body past the validator budget: the first fault, and a word that checking stopped there', async () => {
    // Within the JSON budget (json-budget.ts, which refuses the 1 MiB floods before parsing), past the validator's.
    const answer = await exchange('vehicles', 'POST', '/resolve', `{"items":[${Array.from({ length: 3000 }, () => '{}').join(',')}]}`);
    const problem = expectBoundedProblem(answer);
    expect(problem.errors).toContainEqual({ location: 'body.items', message: 'must NOT have more than 1000 items' });
    expect(problem.errors).toContainEqual({ location: 'body', message: expect.stringMatching(/^not checked further: it holds more than 1000 values/) });
  });
});

describe('problem bodies are bounded whatever they are given', () => {
  // Control characters are six bytes once JSON-encoded, astral ones four: a bound in characters would not hold.
  const hostile = ['\u0001'.repeat(50_000), '😀'.repeat(50_000), '\ud800'.repeat(50_000), 'x'.repeat(50_000)];
  const errors = Array.from({ length: 10_000 }, (_, i) => ({ location: `body.${hostile[i % 4] ?? ''}`, message: hostile[(i + 1) % 4] ?? '' }));

  it('ProblemError: detail, locations and messages clipped, errors cut to the first ones with errorsOmitted', () => {
    const body = new ProblemError('request-invalid', hostile.join(''), { errors }).toBody('req-1');
    const bytes = Buffer.byteLength(JSON.stringify(body));
    expect(bytes).toBeLessThanOrEqual(maxProblemBytes);
    expect(body.errors?.length).toBeGreaterThan(0);
    expect((body.errors?.length ?? 0) + (body.errorsOmitted ?? 0)).toBe(errors.length);
    expect(body.errors?.[0]?.location.startsWith('body.\u0001')).toBe(true);
    expect(body.errors?.[0]?.location.endsWith('…')).toBe(true);
    // Clipping never splits a surrogate pair into a lone half.
    expect(body.errors?.[0]?.message).toMatch(/^(😀)+…$/u);
  });

  it('Refusal: the same bounds for the exchange', () => {
    const refusal = new ProblemError('request-invalid', hostile.join(''), { errors });
    const bytes = Buffer.byteLength(JSON.stringify(refusal.toBody('req-2')));
    expect(bytes).toBeLessThanOrEqual(maxProblemBytes);
    expect(refusal.errors.length + refusal.errorsOmitted).toBe(errors.length);
  });
});
