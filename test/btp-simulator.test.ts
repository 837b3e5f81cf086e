// The BTP qualification simulator against its own OpenAPI document, its ICEs, its hub-signature check, and the demo conventions.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parse } from 'yaml';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { startBtpSimulator, type BtpSimulator } from '../adapters/btp-qualification/simulator.ts';
import { companies, demoIces } from '../adapters/btp-qualification/data.ts';
import { iceControlKey, isValidIce, makeIce } from '../adapters/btp-qualification/ice.ts';
import { createHubSignatureVerifier } from '../adapters/btp-qualification/hub-signature.ts';
import { conventionSchema, isValidAt } from '../src/conventions/model.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const serviceDir = join(root, 'contracts', 'MA.GOV.METLE.qualification-btp', 'classification');
const transparencyDir = join(root, 'contracts', 'MA.GOV.HUB.transparency', 'accesses');
const conventionFiles = [
  join(serviceDir, 'conventions', 'MA.GOV.MEF.marches-publics.yaml'),
  join(serviceDir, 'conventions', 'MA.GOV.MI.collectivites-territoriales.yaml'),
  join(transparencyDir, 'conventions', 'MA.GOV.ADD.portail-citoyen.yaml'),
];

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  return value;
}
const loadYaml = (path: string): unknown => parse(readFileSync(path, 'utf8'), { schema: 'core' });

/** The OpenAPI document as its bytes say, and zod schemas built from its components (so the test checks the published contract). */
function openapiOf(dir: string) {
  const doc = record(loadYaml(join(dir, 'openapi.yaml')), 'openapi.yaml');
  const components = record(record(doc.components, 'components').schemas, 'components.schemas');
  // OpenAPI 3.1 schemas are JSON Schema 2020-12: only their $refs need to point at $defs instead of components.
  const defs = JSON.parse(JSON.stringify(components).replaceAll('#/components/schemas/', '#/$defs/')) as Record<string, z.core.JSONSchema.JSONSchema>;
  const schema = (name: string): z.ZodType => {
    expect(components[name], `schema ${name}`).toBeDefined();
    return z.fromJSONSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: defs, $ref: `#/$defs/${name}` });
  };
  const operations = new Map<string, { path: string; operation: Json }>();
  for (const [path, item] of Object.entries(record(doc.paths, 'paths'))) {
    for (const operation of Object.values(record(item, path))) {
      if (isRecord(operation) && typeof operation.operationId === 'string') operations.set(operation.operationId, { path, operation });
    }
  }
  const resolve = (node: unknown): Json => {
    const value = record(node, 'schema');
    const ref = value.$ref;
    return typeof ref === 'string' ? resolve(components[ref.replace('#/components/schemas/', '')]) : value;
  };
  /** Whether a convention's dot path (arrays flattened) names a field of the operation's 200 JSON body. */
  const hasField = (operationId: string, dotPath: string): boolean => {
    const found = operations.get(operationId);
    if (!found) return false;
    const content = record(record(record(found.operation.responses, 'responses')['200'], '200').content, 'content');
    let node = resolve(record(content['application/json'], 'application/json').schema);
    for (const part of dotPath.split('.')) {
      while (node.type === 'array') node = resolve(node.items);
      const next = isRecord(node.properties) ? node.properties[part] : undefined;
      if (next === undefined) return false;
      node = resolve(next);
    }
    return true;
  };
  const pathParams = (operationId: string): string[] => {
    const found = operations.get(operationId);
    return found ? [...found.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '') : [];
  };
  return { schema, operations, hasField, pathParams };
}

const btpApi = openapiOf(serviceDir);
const problemSchema = btpApi.schema('Problem');

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; type: string; body: unknown; bytes: Uint8Array }> {
  const res = await fetch(url, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: JSON.parse(new TextDecoder().decode(bytes)), bytes };
}

describe('ICE rule', () => {
  it('every generated and demo ICE is valid mod 97, and distinct', () => {
    const ices = companies.map((c) => c.profile.ice);
    expect(ices).toHaveLength(50);
    expect(new Set(ices).size).toBe(50);
    for (const ice of [...ices, ...Object.values(demoIces)]) expect(isValidIce(ice), ice).toBe(true);
  });

  it('a corrupted ICE fails: any single changed digit, swapped digits, wrong shape', () => {
    const ice = demoIces.qualified;
    for (let i = 0; i < ice.length; i++) {
      const digit = Number(ice[i]);
      const corrupted = ice.slice(0, i) + String((digit + 1) % 10) + ice.slice(i + 1);
      expect(isValidIce(corrupted), corrupted).toBe(false);
    }
    expect(isValidIce(ice.slice(0, 13) + ice[14] + ice[13])).toBe(ice[13] === ice[14]);
    expect(isValidIce(ice.slice(0, 14))).toBe(false);
    expect(isValidIce(`${ice}0`)).toBe(false);
    expect(isValidIce('00214587300001a')).toBe(false);
  });

  it('the control key makes the number divisible by 97', () => {
    expect(iceControlKey('0021458730000')).toBe(demoIces.qualified.slice(13));
    expect(makeIce('002145873')).toBe(demoIces.qualified);
    expect(BigInt(makeIce('123456789', '0042')) % 97n).toBe(0n);
  });
});

describe('dataset', () => {
  it('holds the demo companies with the cases they stand for', () => {
    const byIce = new Map(companies.map((c) => [c.profile.ice, c]));
    expect(byIce.get(demoIces.qualified)?.classification.statut).toBe('VALIDE');
    expect(byIce.get(demoIces.topClass)?.classification.qualifications.some((q) => q.secteur.code === 'B' && q.classe === 'S')).toBe(true);
    expect(byIce.get(demoIces.pending)?.classification).toMatchObject({ statut: 'EN_INSTANCE', decisionDate: null, qualifications: [] });
    expect(byIce.get(demoIces.suspended)?.classification.statut).toBe('SUSPENDUE');
    expect(byIce.has(demoIces.unknown)).toBe(false);
    expect(companies.filter((c) => c.profile.raisonSocialeAr !== undefined).length).toBeGreaterThan(5);
  });
});

describe('simulator routes, per the OpenAPI document', () => {
  let simulator: BtpSimulator;
  beforeAll(async () => {
    simulator = await startBtpSimulator();
  });
  afterAll(async () => {
    await simulator.close();
  });

  it('listens on a free port of 127.0.0.1', () => {
    expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('getCompany and getCompanyClassification answer every company as the schemas say', async () => {
    const company = btpApi.schema('Company');
    const classification = btpApi.schema('Classification');
    for (const { profile } of companies) {
      const a = await getJson(`${simulator.url}/companies/${profile.ice}`);
      expect(a.status).toBe(200);
      expect(a.type).toMatch(/^application\/json/);
      expect(company.safeParse(a.body).error).toBeUndefined();
      const b = await getJson(`${simulator.url}/companies/${profile.ice}/classification`);
      expect(b.status).toBe(200);
      expect(classification.safeParse(b.body).error).toBeUndefined();
      expect(record(b.body, 'classification').ice).toBe(profile.ice);
    }
  });

  it('answers the demo companies with their data', async () => {
    const profile = record((await getJson(`${simulator.url}/companies/${demoIces.qualified}`)).body, 'profile');
    expect(profile).toMatchObject({ ice: demoIces.qualified, raisonSociale: 'Atlas Bâtiment et Travaux SARL', adresse: { commune: 'Casablanca', communeCode: '06.141.01.0' } });
    expect(record(profile.dirigeant, 'dirigeant').cin).toMatch(/^[A-Z]{1,2}[0-9]{1,6}$/);
    expect(profile.statutDossier).toEqual({ procedure: 'VERIFICATION_ANNUELLE', etat: 'EN_ATTENTE_INSTRUCTION_SP', libelle: "En attente d'instruction par le SP" });
    const pending = (await getJson(`${simulator.url}/companies/${demoIces.pending}/classification`)).body;
    expect(pending).toMatchObject({ statut: 'EN_INSTANCE', decisionDate: null, qualifications: [] });
  });

  it('listCompanies pages through every company once, and filters by sector and class', async () => {
    const page = btpApi.schema('CompanyPage');
    const seen: string[] = [];
    for (let offset = 0; offset < 50; offset += 20) {
      const res = await getJson(`${simulator.url}/companies?limit=20&offset=${offset}`);
      expect(res.status).toBe(200);
      expect(page.safeParse(res.body).error).toBeUndefined();
      const body = record(res.body, 'page');
      expect(body).toMatchObject({ total: 50, limit: 20, offset });
      for (const item of body.items as Json[]) seen.push(String(item.ice));
    }
    expect(seen).toEqual(companies.map((c) => c.profile.ice));

    const filtered = record((await getJson(`${simulator.url}/companies?secteur=B&classe=S&limit=100`)).body, 'filtered');
    const items = filtered.items as { ice: string; classes: { secteur: string; classe: string }[] }[];
    expect(items.map((i) => i.ice)).toContain(demoIces.topClass);
    for (const item of items) expect(item.classes).toContainEqual({ secteur: 'B', classe: 'S' });
    expect(filtered.total).toBe(items.length);

    const defaults = record((await getJson(`${simulator.url}/companies`)).body, 'defaults');
    expect(defaults).toMatchObject({ total: 50, limit: 20, offset: 0 });
  });

  it('answers problems: 404 for an unknown ICE or route, 400 for a malformed parameter', async () => {
    for (const path of [`/companies/${demoIces.unknown}`, `/companies/${demoIces.unknown}/classification`, '/nowhere']) {
      const res = await getJson(simulator.url + path);
      expect(res.status, path).toBe(404);
      expect(res.type).toBe('application/problem+json');
      expect(problemSchema.safeParse(res.body).error).toBeUndefined();
      expect(JSON.stringify(res.body)).not.toContain(demoIces.unknown);
    }
    for (const path of ['/companies/12345', '/companies?limit=0', '/companies?limit=101', '/companies?offset=-1', '/companies?secteur=Z', '/companies?classe=6']) {
      const res = await getJson(simulator.url + path);
      expect(res.status, path).toBe(400);
      expect(res.type).toBe('application/problem+json');
      expect(problemSchema.safeParse(res.body).error).toBeUndefined();
    }
  });

  it('getFixed answers the same ~1 KB bytes every time', async () => {
    const first = await getJson(`${simulator.url}/bench/fixed`);
    const second = await getJson(`${simulator.url}/bench/fixed`);
    expect(first.status).toBe(200);
    expect(first.type).toBe('application/json');
    expect(first.bytes.byteLength).toBeGreaterThan(900);
    expect(first.bytes.byteLength).toBeLessThan(1200);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(btpApi.schema('Fixed').safeParse(first.body).error).toBeUndefined();
  });
});

describe('hub forward signature', () => {
  const hubId = 'MA/GOV/HUB/core';
  const client = 'MA/GOV/MEF/marches-publics';
  const purpose = 'public-procurement-eligibility';
  const requestId = '4b0e3c1e-8a51-4d5a-9f0e-2b8d6a0f7c31';
  const jwks: { keys: JWK[] } = { keys: [] };
  let jwksFetches = 0;
  let jwksServer: Server;
  let jwksUrl = '';
  let hubKey: CryptoKey;
  let simulator: BtpSimulator;

  async function newKey(kid: string): Promise<CryptoKey> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    jwks.keys.push({ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
    return privateKey;
  }

  function sign(target: string, options: { key?: CryptoKey; kid?: string; typ?: string; iat?: number; claims?: Json; method?: string } = {}): Promise<string> {
    const payload = { iss: hubId, sub: client, pur: purpose, jti: requestId, htm: options.method ?? 'GET', htu: target, iat: options.iat ?? Math.floor(Date.now() / 1000), ...options.claims };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'hub-1', typ: options.typ ?? 'tabadol-forward+jwt' })
      .sign(options.key ?? hubKey);
  }

  const forwardHeaders = (signature: string): Record<string, string> => ({
    'tabadol-client': client,
    'tabadol-purpose': purpose,
    'tabadol-request-id': requestId,
    'tabadol-hub-signature': signature,
  });

  beforeAll(async () => {
    hubKey = await newKey('hub-1');
    jwksServer = createServer((req, res) => {
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    simulator = await startBtpSimulator({ requireHubSignature: true, hubJwksUrl: jwksUrl, hubId });
  });
  afterAll(async () => {
    await simulator.close();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  const target = `/companies/${demoIces.qualified}/classification`;

  it('refuses a request without a signature (401), a bad signature (401), and serves a valid one (200)', async () => {
    const without = await getJson(simulator.url + target);
    expect(without.status).toBe(401);
    expect(without.type).toBe('application/problem+json');
    expect(problemSchema.safeParse(without.body).error).toBeUndefined();

    const { privateKey: stranger } = await generateKeyPair('ES256');
    const bad = await getJson(simulator.url + target, { headers: forwardHeaders(await sign(target, { key: stranger })) });
    expect(bad.status).toBe(401);
    expect(record(bad.body, 'problem').type).toMatch(/hub-signature-invalid$/);

    const good = await getJson(simulator.url + target, { headers: forwardHeaders(await sign(target)) });
    expect(good.status).toBe(200);
    expect(btpApi.schema('Classification').safeParse(good.body).error).toBeUndefined();
  });

  it('caches the JWKS across requests', async () => {
    const before = jwksFetches;
    for (let i = 0; i < 3; i++) expect((await fetch(simulator.url + target, { headers: forwardHeaders(await sign(target)) })).status).toBe(200);
    expect(jwksFetches).toBe(before);
  });

  it('binds the signature to the request: path, query, method, client, purpose, request id, issuer, age, type', async () => {
    const listTarget = '/companies?secteur=B&classe=S';
    expect((await fetch(simulator.url + listTarget, { headers: forwardHeaders(await sign(listTarget)) })).status).toBe(200);
    const mismatch = 'hub-signature-mismatch';
    const invalid = 'hub-signature-invalid';
    const cases: [string, string, Record<string, string>, string][] = [
      ['another path', target, forwardHeaders(await sign(`/companies/${demoIces.topClass}/classification`)), mismatch],
      ['another query', listTarget, forwardHeaders(await sign('/companies?secteur=B&classe=1')), mismatch],
      ['another method', target, forwardHeaders(await sign(target, { method: 'POST' })), mismatch],
      ['another client', target, { ...forwardHeaders(await sign(target)), 'tabadol-client': 'MA/GOV/MI/collectivites-territoriales' }, mismatch],
      ['another purpose', target, { ...forwardHeaders(await sign(target)), 'tabadol-purpose': 'communal-procurement-eligibility' }, mismatch],
      ['another request id', target, { ...forwardHeaders(await sign(target)), 'tabadol-request-id': 'c0ffee00-0000-4000-8000-000000000000' }, mismatch],
      ['too old', target, forwardHeaders(await sign(target, { iat: Math.floor(Date.now() / 1000) - 3_600 })), mismatch],
      ['another issuer', target, forwardHeaders(await sign(target, { claims: { iss: 'MA/GOV/HUB/other' } })), invalid],
      ['a client request token', target, forwardHeaders(await sign(target, { typ: 'tabadol-request+jwt' })), invalid],
      ['an unknown kid', target, forwardHeaders(await sign(target, { kid: 'hub-unknown' })), invalid],
      ['a missing header', target, { ...forwardHeaders(await sign(target)), 'tabadol-purpose': '' }, 'hub-signature-missing'],
    ];
    for (const [name, path, headers, code] of cases) {
      const res = await getJson(simulator.url + path, { headers });
      expect(res.status, name).toBe(401);
      expect(res.type, name).toBe('application/problem+json');
      expect(record(res.body, 'problem').type, name).toBe(`urn:metle:qualification-btp:problem:${code}`);
    }
  });

  it('verifies the fixed answer too, with the same bytes as the fast path', async () => {
    const res = await getJson(`${simulator.url}/bench/fixed`, { headers: forwardHeaders(await sign('/bench/fixed')) });
    expect(res.status).toBe(200);
    const plain = await startBtpSimulator();
    try {
      const fast = await getJson(`${plain.url}/bench/fixed`);
      expect(Buffer.from(fast.bytes).equals(Buffer.from(res.bytes))).toBe(true);
    } finally {
      await plain.close();
    }
  });

  it('refetches the JWKS when the hub signs with a new kid (key rotation)', async () => {
    const verify = createHubSignatureVerifier({ jwksUrl, hubId, jwksCooldownMs: 0 });
    const request = (signature: string) => ({ method: 'GET', target, header: (name: string) => forwardHeaders(signature)[name] });
    expect((await verify(request(await sign(target)))).ok).toBe(true);
    const before = jwksFetches;
    const rotated = await newKey('hub-2');
    expect(await verify(request(await sign(target, { key: rotated, kid: 'hub-2' })))).toMatchObject({ ok: true, client, purpose });
    expect(jwksFetches).toBe(before + 1);
  });

  it('answers 503, not 200, when the hub keys cannot be fetched', async () => {
    const verify = createHubSignatureVerifier({ jwksUrl: 'http://127.0.0.1:1/.well-known/jwks.json' });
    const signature = await sign(target);
    expect(await verify({ method: 'GET', target, header: (name) => forwardHeaders(signature)[name] })).toMatchObject({ ok: false, status: 503 });
  });
});

describe('demo conventions', () => {
  const apis = new Map([
    [serviceDir, btpApi],
    [transparencyDir, openapiOf(transparencyDir)],
  ]);

  for (const file of conventionFiles) {
    const name = relative(root, file);
    it(`${name} is a valid convention for its service's OpenAPI`, () => {
      const convention = conventionSchema.parse(loadYaml(file));
      // The layout of the protocol: contracts/<provider>/<service>/conventions/<consumer>.yaml, '/' written '.'.
      const parts = relative(join(root, 'contracts'), file).split(sep);
      expect(parts).toEqual([convention.provider.replaceAll('/', '.'), convention.service, 'conventions', `${convention.consumer.replaceAll('/', '.')}.yaml`]);
      expect(isValidAt(convention, new Date('2026-01-01T00:00:00Z'))).toBe(true);
      expect(isValidAt(convention, new Date('2028-12-31T23:59:59Z'))).toBe(true);

      const api = apis.get(dirname(dirname(file)));
      if (!api) throw new Error(`no OpenAPI for ${name}`);
      for (const operation of convention.operations) {
        expect(api.operations.has(operation.operationId), operation.operationId).toBe(true);
        for (const field of operation.fields ?? []) expect(api.hasField(operation.operationId, field), `${operation.operationId} field ${field}`).toBe(true);
        for (const subject of operation.subjects) {
          if (subject.in === 'path') expect(api.pathParams(operation.operationId)).toContain(subject.name);
          if (subject.in === 'response') expect(api.hasField(operation.operationId, subject.name), subject.name).toBe(true);
        }
      }
    });
  }

  it('minimises: the Treasury sees no dossier, the communes never see the manager CIN', () => {
    const mef = conventionSchema.parse(loadYaml(conventionFiles[0] ?? ''));
    expect(mef.operations.map((o) => o.operationId)).toEqual(['getCompanyClassification']);
    expect(mef.operations[0]?.fields).toEqual(['ice', 'raisonSociale', 'qualifications.secteur', 'qualifications.classe', 'qualifications.qualification', 'qualifications.validUntil', 'statut']);

    const mi = conventionSchema.parse(loadYaml(conventionFiles[1] ?? ''));
    const getCompany = mi.operations.find((o) => o.operationId === 'getCompany');
    expect(getCompany?.fields).toBeDefined();
    expect(getCompany?.fields).not.toContain('dirigeant');
    expect(getCompany?.fields).not.toContain('dirigeant.cin');
    expect(getCompany?.subjects).toContainEqual({ type: 'cin', in: 'response', name: 'dirigeant.cin' });
    expect(mi.logBodies).toBe(false);
  });
});
