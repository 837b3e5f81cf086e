// Property-based fuzzing of every operation the hub serves: each operation of every contract under contracts/ (called
// through the signed exchange, under a convention that allows it) and each operation of the hub's own API in
// openapi.yaml (with an admin token). Parameters and bodies are arbitrary, shaped after the operation's schemas often
// enough to get past the first checks, and seeded with the hostile values the attack campaign used (NUL, lone
// surrogates, dot segments, huge numbers, out-of-range dates, formulas, deep nesting). Whatever arrives, the hub answers
// below 500, within 2 s, and stays ready.
//
// CI runs a fixed seed and a bounded number of runs per operation; `npm run fuzz` runs longer (FUZZ_RUNS, FUZZ_SEED).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOperator } from '../src/identity/operators.ts';
import { toFolderName } from '../src/identity/ids.ts';
// The referentials' part of a hub, as bin/parts.ts composes it: their bindings and the plug-in that binds their services.
import { referentialParts } from '../referentials/services.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld, type RawAnswer } from './exchange/harness.ts';
// The systems' simulators behind their bindings, so that their contracts are fuzzed through the hub as any other.
import { infractionsBinding, infractionsBindingName, infractionsProvider, infractionsService } from '../adapters/infractions/binding.ts';
import { startInfractionsSimulator, type InfractionsSimulator } from '../adapters/infractions/simulator.ts';
import { marrouteSubsystem } from '../adapters/marroute/adapter.ts';
import { marrouteBinding, marrouteService } from '../adapters/marroute/binding.ts';
import { startMarrouteSimulator, type MarrouteSimulator } from '../adapters/marroute/simulator.ts';
import { permisBinding, permisService, permisSubsystem } from '../adapters/permis-rdv/binding.ts';
import { startPermisSimulator, type PermisSimulator } from '../adapters/permis-rdv/simulator.ts';
import { portalStatusService, reclamationsSubsystem } from '../adapters/reclamations/adapter.ts';
import { complaintsBinding, complaintsService } from '../adapters/reclamations/binding.ts';
import { startPortalReceiver, type PortalReceiver } from '../adapters/reclamations/portal.ts';
import { startComplaintsSimulator, type ComplaintsSimulator } from '../adapters/reclamations/simulator.ts';
import { dpmBinding, dpmBindingName, dpmService } from '../adapters/dpm-occupations/binding.ts';
import { dpmSubsystem } from '../adapters/dpm-occupations/adapter.ts';
import { startDpmSimulator, type DpmSimulator } from '../adapters/dpm-occupations/simulator.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 12);
const seed = Number(process.env.FUZZ_SEED ?? 20261204);
const answerWithinMs = 2000;
/** The harness hub's body limit (the default, 1 MiB): bodies are generated up to it, never past it. */
const bodyLimit = 1024 * 1024;

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  /** `service id` for a contract, `hub` for openapi.yaml. */
  service: string;
  operationId: string;
  method: string;
  path: string;
  parameters: Parameter[];
  media: Array<{ type: string; schema?: Schema }>;
  doc: Schema;
}

// ---------------------------------------------------------------------------------------------------------------
// The operations

const repo = fileURLToPath(new URL('..', import.meta.url));

function resolveRef(doc: Schema, value: unknown): unknown {
  if (value && typeof value === 'object' && typeof (value as Schema).$ref === 'string') {
    const path = ((value as Schema).$ref as string).replace(/^#\//, '').split('/');
    return resolveRef(doc, path.reduce<unknown>((node, key) => (node as Schema | undefined)?.[key], doc));
  }
  return value;
}

function operationsOf(doc: Schema, service: string): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Schema>)) {
    const shared = ((item.parameters ?? []) as unknown[]).map((p) => resolveRef(doc, p) as Parameter);
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method] as Schema | undefined;
      if (!op) continue;
      const own = ((op.parameters ?? []) as unknown[]).map((p) => resolveRef(doc, p) as Parameter);
      const body = resolveRef(doc, op.requestBody) as Schema | undefined;
      const content = (body?.content ?? {}) as Record<string, Schema>;
      out.push({
        service,
        operationId: String(op.operationId ?? `${method} ${path}`),
        method: method.toUpperCase(),
        path,
        parameters: [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own],
        media: Object.entries(content).map(([type, m]) => ({ type, schema: m.schema as Schema | undefined })),
        doc,
      });
    }
  }
  return out;
}

/** contracts/{PROVIDER FOLDER}/{SERVICE}/openapi.yaml → the service id (folder dots are the id's slashes). */
function contractOperations(): Operation[] {
  const root = join(repo, 'contracts');
  const out: Operation[] = [];
  for (const providerFolder of readdirSync(root)) {
    for (const service of readdirSync(join(root, providerFolder))) {
      const file = join(root, providerFolder, service, 'openapi.yaml');
      if (!statSync(join(root, providerFolder, service)).isDirectory()) continue;
      const doc = parseYaml(readFileSync(file, 'utf8')) as Schema;
      out.push(...operationsOf(doc, `${providerFolder.split('.').join('/')}/${service}`));
    }
  }
  return out;
}

const hubOperations = (): Operation[] => operationsOf(parseYaml(readFileSync(join(repo, 'openapi.yaml'), 'utf8')) as Schema, 'hub');

// ---------------------------------------------------------------------------------------------------------------
// Arbitrary values

/** What the attack campaign sent: each once broke something, somewhere. */
const hostileStrings = [
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '..',
  '../../admin/v1/members',
  '%2e%2e',
  '%E0%A4%A',
  '=HYPERLINK("http://x","y")',
  "+cmd|' /C calc'!A0",
  '99999999999999999999999',
  '9223372036854775808',
  '-9223372036854775809',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '275760-09-13T00:00:00Z',
  '1e309',
  'NaN',
  '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
  '{"a":{"a":',
  'محمد عبد القادر',
  'A'.repeat(5000),
];

/** Bodies that once froze, flooded or crashed something: deep nesting, 30,000 failing items, a 200,000-column CSV header. */
const hostileBodies = [
  '['.repeat(50_000) + ']'.repeat(50_000),
  `{"items":[${Array.from({ length: 30_000 }, () => '{}').join(',')}]}`,
  `{"sourceId":"a","attributes":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`,
  '{"a":1,"a":2}',
  `sourceId${',x'.repeat(200_000)}\n1${',2'.repeat(10)}`,
  'sourceId,name\n"unterminated,\n',
  '\xff\xfe{"sourceId":"\xe9"}',
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...hostileStrings) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const hostileNumber = fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.constantFrom(0, -1, 2 ** 53, 2 ** 63, 1e308, -1e308, 0.5));

/** A value shaped after a schema (its type, properties, items, enums), with hostile leaves; depth-bounded. */
function shaped(doc: Schema, schemaRef: unknown, depth = 0): fc.Arbitrary<unknown> {
  const schema = (resolveRef(doc, schemaRef) ?? {}) as Schema;
  const anything = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));
  if (depth > 4) return anything;
  const branches = (schema.oneOf ?? schema.anyOf ?? schema.allOf) as unknown[] | undefined;
  if (branches && branches.length > 0) return fc.oneof(...branches.map((b) => shaped(doc, b, depth + 1)));
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(schema.enum as unknown[])) }, { weight: 1, arbitrary: anything });
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object' || schema.properties) {
    const props = Object.entries((schema.properties ?? {}) as Record<string, unknown>);
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, sub] of props) record[name] = shaped(doc, sub, depth + 1);
    return fc.oneof({ weight: 4, arbitrary: fc.record(record, { requiredKeys: [] }) }, { weight: 1, arbitrary: anything });
  }
  if (type === 'array') {
    return fc.oneof({ weight: 4, arbitrary: fc.array(shaped(doc, schema.items, depth + 1), { maxLength: 6 }) }, { weight: 1, arbitrary: anything });
  }
  if (type === 'integer' || type === 'number') return fc.oneof({ weight: 2, arbitrary: hostileNumber }, { weight: 1, arbitrary: anything });
  if (type === 'boolean') return fc.oneof(fc.boolean(), anything);
  return fc.oneof({ weight: 3, arbitrary: hostileString }, { weight: 1, arbitrary: anything });
}

/** Bodies an attacker would send: shaped after the schema, arbitrary JSON, deep nesting, a huge array, raw bytes. */
function bodyFor(op: Operation): fc.Arbitrary<{ contentType?: string; body?: Buffer }> {
  if (op.media.length === 0) {
    return fc.oneof(fc.constant({}), fc.constant({ contentType: 'application/json', body: Buffer.from('{}') }));
  }
  return fc.constantFrom(...op.media).chain((media) => {
    const json = media.type.includes('json') && !media.type.includes('ndjson');
    const shapedText = shaped(op.doc, media.schema).map((v) => JSON.stringify(v) ?? 'null');
    const lines = fc.array(shapedText, { maxLength: 8 });
    const raw = fc.oneof(
      shapedText,
      fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
      fc.constantFrom(...hostileBodies),
      lines.map((l) => l.join('\n')),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    return fc.record({ text: raw, bytes: fc.boolean() }).map(({ text, bytes }) => {
      let body = bytes ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf8');
      if (body.length > bodyLimit) body = body.subarray(0, bodyLimit);
      return { contentType: json ? media.type : media.type, body };
    });
  });
}

/** Percent-encodes UTF-8 bytes (a lone surrogate becomes U+FFFD's bytes, as a browser sends it); sometimes raw. */
function encodeSegment(value: string, raw: boolean): string {
  // Raw: as typed into a client that does not encode (ASCII only: a request line carries no other byte).
  if (raw) return [...Buffer.from(value.replace(/[/?#\s]/g, '_'), 'utf8')].map((b) => (b > 0x20 && b < 0x7f ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  return [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/**
 * The schema's skeleton with every string leaf set to `leaf` and every number to `number`: one instance per hostile
 * value, so that each reaches every field of every operation in every run, whatever the random part draws.
 */
function skeleton(doc: Schema, schemaRef: unknown, leaf: string, number: number, depth = 0): unknown {
  const schema = (resolveRef(doc, schemaRef) ?? {}) as Schema;
  if (depth > 6) return leaf;
  const branches = (schema.oneOf ?? schema.anyOf ?? schema.allOf) as unknown[] | undefined;
  if (branches && branches.length > 0) return skeleton(doc, branches[0], leaf, number, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if ((type === 'object' || schema.properties) && !schema.properties) return { name: leaf, [leaf]: leaf };
  if (type === 'object' || schema.properties) {
    return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, unknown>).map(([name, sub]) => [name, skeleton(doc, sub, leaf, number, depth + 1)]));
  }
  if (type === 'array') return [skeleton(doc, schema.items, leaf, number, depth + 1)];
  if (type === 'integer' || type === 'number') return number;
  if (type === 'boolean') return true;
  return leaf;
}

const hostileNumbers = [2 ** 63, -1, 1e308, 0.5];

/** A value the parameter's schema accepts (its example, default or first enum value), so that one hostile neighbour is what the hub decides on. */
function plausible(doc: Schema, p: Parameter): string {
  const schema = (resolveRef(doc, p.schema) ?? {}) as Schema;
  const given = schema.example ?? schema.default ?? (Array.isArray(schema.enum) ? schema.enum[0] : undefined);
  if (given !== undefined) return String(given);
  if (schema.type === 'integer' || schema.type === 'number') return String(schema.minimum ?? 1);
  if (schema.type === 'boolean') return 'true';
  return 'x';
}

/**
 * For each hostile value: each parameter in turn set to it (the others plausible), then the body's skeleton with every
 * string set to it; then the hostile bodies as they are. Run in every CI run, before the random calls.
 */
function hostileCalls(op: Operation, prefix: string): Call[] {
  const params = op.parameters.filter((p) => p.in === 'path' || p.in === 'query');
  const target = (hostile?: Parameter, value = '') => {
    const valueOf = (p: Parameter) => encodeSegment(p === hostile ? value : plausible(op.doc, p), false) || 'x';
    const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const p = params.find((q) => q.in === 'path' && q.name === name);
      return p ? valueOf(p) : 'x';
    });
    // Optional parameters only when hostile: a plausible value may still fail a pattern, and hide the hostile one.
    const query = params.filter((p) => p.in === 'query' && (p === hostile || p.required === true)).map((p) => `${p.name}=${valueOf(p)}`);
    return `${prefix}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
  };
  const calls: Call[] = [];
  hostileStrings.forEach((value, i) => {
    for (const p of params) calls.push({ target: target(p, value) });
    for (const media of op.media) {
      const json = JSON.stringify(skeleton(op.doc, media.schema, value, hostileNumbers[i % hostileNumbers.length] ?? 0));
      const text = media.type.includes('csv') ? `sourceId,nameFr\n${JSON.stringify(value)},${JSON.stringify(value)}` : media.type.includes('ndjson') ? `${json}\n{"sourceId":${JSON.stringify(value)},"attributes":{"name":${JSON.stringify(value)}}}` : json;
      calls.push({ target: target(), contentType: media.type, body: Buffer.from(text, 'utf8') });
    }
  });
  for (const media of op.media) {
    for (const body of hostileBodies) calls.push({ target: target(), contentType: media.type, body: Buffer.from(body, 'latin1') });
  }
  return calls.map((call) => Object.assign(call, { [fc.toStringMethod]: () => describeCall(call) }));
}

interface Call {
  target: string;
  contentType?: string;
  body?: Buffer;
}

function describeCall(call: Call): string {
  const body = call.body ? `, ${call.body.length} bytes of ${call.contentType ?? 'no type'}: ${JSON.stringify(call.body.subarray(0, 200).toString('utf8'))}` : '';
  return `${call.target.length > 300 ? `${call.target.slice(0, 300)}… (${call.target.length} chars)` : call.target}${body}`;
}

function callFor(op: Operation, prefix: string): fc.Arbitrary<Call> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const value = (p: Parameter) => fc.oneof({ weight: 2, arbitrary: shaped(op.doc, p.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')) }, { weight: 2, arbitrary: hostileString });
  const path = fc.record(Object.fromEntries(pathParams.map((p) => [p.name, fc.tuple(value(p), fc.boolean())])) as Record<string, fc.Arbitrary<[string, boolean]>>);
  const query = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, value(p)])) as Record<string, fc.Arbitrary<string>>, { requiredKeys: [] });
  return fc.record({ path, query, body: bodyFor(op), extra: fc.option(fc.tuple(hostileString, hostileString)) }).map(({ path, query, body, extra }) => {
    const filled = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const [v, raw] = (path as Record<string, [string, boolean]>)[name] ?? ['', false];
      // A raw dot segment would be refused before routing, which is right but explores nothing further.
      return encodeSegment(v, raw && v !== '.' && v !== '..') || 'x';
    });
    const pairs = Object.entries(query as Record<string, string>).map(([k, v]) => `${encodeSegment(k, false)}=${encodeSegment(v, false)}`);
    if (extra) pairs.push(`${encodeSegment(extra[0], false)}=${encodeSegment(extra[1], false)}`);
    const call: Call = { target: `${prefix}${filled}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}`, ...body };
    // A counterexample can be a megabyte: show its shape and its beginning.
    return Object.assign(call, { [fc.toStringMethod]: () => describeCall(call) });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The world

let world: ExchangeWorld;
let fuzzer: Consumer;
let infractions: InfractionsSimulator | undefined;
let permis: PermisSimulator | undefined;
let dpm: DpmSimulator | undefined;
const dpmToken = 'fuzz-dpm-token-0123456789';
const permisToken = 'fuzz-permis-token-0123456789';
let complaints: ComplaintsSimulator | undefined;
let complaintsPortal: PortalReceiver | undefined;
const complaintsToken = 'fuzz-complaints-token-0123456789';
let marroute: MarrouteSimulator | undefined;
const marrouteToken = 'fuzz-marroute-token-0123456789';
let adminToken = '';
const purpose = 'fuzzing';
/** FUZZ_OPS=resolveMany,search fuzzes only the operations whose name holds one of these (for a long run on a few). */
const only = (process.env.FUZZ_OPS ?? '').split(',').filter(Boolean);
const selected = (op: Operation) => only.length === 0 || only.some((name) => `${op.service} ${op.operationId}`.includes(name));
const contracts = contractOperations().filter(selected);
const hubOps = hubOperations().filter(selected);

beforeAll(async () => {
  const referentials = referentialParts();
  world = await startExchangeWorld({ storage: 'pglite', redis: false, referentials: referentials.referentials, plugins: referentials.plugins, adapters: referentials.adapters });
  fuzzer = await world.registerConsumer('MA/GOV/TEST/fuzzer', 'ES256');
  infractions = await startInfractionsSimulator();
  permis = await startPermisSimulator({ token: permisToken, seed: 15, candidates: 30, schools: 3 });
  world.loadAdapter(infractionsBindingName, infractionsBinding({ endpoint: infractions.url, timeoutMs: 1000 }));
  world.loadAdapter('permis-rdv-appointments', permisBinding({ baseUrl: permis.url, token: permisToken }));
  marroute = await startMarrouteSimulator({ token: marrouteToken });
  world.loadAdapter('marroute-road-events', marrouteBinding({ baseUrl: marroute.url, token: marrouteToken, timeoutMs: 1000 }));
  for (const provider of [infractionsProvider, permisSubsystem, marrouteSubsystem, dpmSubsystem]) await world.registerConsumer(provider, 'ES256');
  dpm = await startDpmSimulator({ token: dpmToken, seed: 16 });
  world.loadAdapter(dpmBindingName, dpmBinding({ baseUrl: dpm.url, token: dpmToken }));
  await world.bind(dpmService, { kind: 'adapter', adapter: dpmBindingName, timeoutMs: 5000 });
  await world.bind(infractionsService, { kind: 'adapter', adapter: infractionsBindingName, timeoutMs: 5000 });
  await world.bind(permisService, { kind: 'adapter', adapter: 'permis-rdv-appointments', timeoutMs: 5000 });
  complaints = await startComplaintsSimulator({ token: complaintsToken, persons: 20, companies: 4 });
  complaintsPortal = await startPortalReceiver();
  world.loadAdapter('reclamations-complaints', complaintsBinding({ baseUrl: complaints.url, token: complaintsToken }));
  await world.registerConsumer(reclamationsSubsystem, 'ES256');
  await world.bind(complaintsService, { kind: 'adapter', adapter: 'reclamations-complaints', timeoutMs: 5000 });
  await world.bind(portalStatusService, { kind: 'http', baseUrl: complaintsPortal.url, timeoutMs: 5000 });
  await world.bind(marrouteService, { kind: 'adapter', adapter: 'marroute-road-events', timeoutMs: 5000 });
  const services = [...new Set(contracts.map((op) => op.service))];
  for (const service of services) {
    const parts = service.split('/');
    await world.addConvention(
      {
        id: `fuzz-${toFolderName(service)}`,
        provider: parts.slice(0, 4).join('/'),
        service: parts[4] ?? '',
        consumer: fuzzer.id,
        purposes: [{ code: purpose, description: 'Property-based fuzzing of every operation', legalBasis: 'Test' }],
        operations: contracts.filter((op) => op.service === service).map((op) => ({ operationId: op.operationId })),
        quota: { count: 1_000_000, windowSeconds: 60 },
      },
      { sync: false },
    );
  }
  await world.sync();
  adminToken = (await addOperator(world.db, { name: 'fuzzer', role: 'admin', actor: 'test' })).token;
}, 120_000);

afterAll(async () => {
  await world?.close();
  await infractions?.close();
  await permis?.close();
  await complaints?.close();
  await complaintsPortal?.close();
  await marroute?.close();
  await dpm?.close();
});

async function expectReady(): Promise<void> {
  const ready = await world.send({ method: 'GET', target: '/readyz' });
  expect(ready.status, `/readyz after fuzzing: ${ready.text}`).toBe(200);
}

function expectSane(op: Operation, call: Call, answer: RawAnswer, ms: number): void {
  const shown = `${op.operationId} ${describeCall(call)}`;
  expect(answer.status, `${shown} → ${answer.status} ${answer.text.slice(0, 500)}`).toBeLessThan(500);
  expect(ms, `${shown} took ${Math.round(ms)} ms`).toBeLessThan(answerWithinMs);
}

describe('fuzzing every operation (fast-check)', () => {
  it.each(contracts.map((op) => [`${op.service} ${op.operationId}`, op] as const))('%s: arbitrary calls through the exchange never answer 5xx, stay under 2 s, and leave the hub ready', async (_name, op) => {
    await fc.assert(
      fc.asyncProperty(callFor(op, `/x/v1/${op.service}`), async (call) => {
        const signed = await world.sign(fuzzer.identity, { method: op.method, target: call.target, purpose, ...(call.body ? { body: call.body } : {}) });
        if (call.contentType) signed.headers['content-type'] = call.contentType;
        const started = performance.now();
        const answer = await world.send(signed);
        if (process.env.FUZZ_TRACE) console.log(answer.status, describeCall(call).slice(0, 200));
        expectSane(op, call, answer, performance.now() - started);
      }),
      { numRuns: runs, seed, endOnFailure: true, examples: hostileCalls(op, `/x/v1/${op.service}`).map((call) => [call]) },
    );
    await expectReady();
  });

  it.each(hubOps.map((op) => [op.operationId, op] as const))("hub API %s: arbitrary calls with an admin token never answer 5xx, stay under 2 s, and leave the hub ready", async (_name, op) => {
    await fc.assert(
      fc.asyncProperty(callFor(op, ''), async (call) => {
        const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
        if (call.contentType) headers['content-type'] = call.contentType;
        const started = performance.now();
        const answer = await world.send({ method: op.method, target: call.target, headers, ...(call.body ? { body: call.body } : {}) });
        expectSane(op, call, answer, performance.now() - started);
      }),
      { numRuns: runs, seed, endOnFailure: true, examples: hostileCalls(op, '').map((call) => [call]) },
    );
    await expectReady();
  });
});
