// The admin API (/admin/v1) on a hub started in-process: operator authentication and roles, each endpoint's happy path
// and refusals, a full convention activation, the audit trail, and operator tokens kept out of the logs.
// Each test sets up the data it needs (its own member ids, its own convention) on the one hub started below, so any test
// passes alone (-t) and in any order (--sequence.shuffle).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivationBody, StoredConventionBody, VerificationBody } from '../src/admin/http/conventions.ts';
import type { MemberBody } from '../src/admin/http/members.ts';
import type { AuditEntryBody } from '../src/admin/http/audit.ts';
import type { BindingBody } from '../src/admin/http/bindings.ts';
import type { LogVerificationBody } from '../src/admin/http/log.ts';
import { generateMemberKeyPair, type MemberKeyPair } from '../src/admin/keys.ts';
import { loadConfig } from '../src/config.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { registerMember } from '../src/identity/members.ts';
import { addOperator, revokeOperator } from '../src/identity/operators.ts';
import type { ProblemBody } from '../src/http/problem.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import { freshDataDir } from './helpers/db.ts';
import { captureLogger } from './helpers/hub.ts';

const PROVIDER = 'MA/GOV/METLE/qualification-btp';
const SERVICE = 'classification';
const fixture = fileURLToPath(new URL('../contracts/MA.GOV.METLE.qualification-btp/classification/', import.meta.url));

const cleanup: Array<() => Promise<void> | void> = [];
let hub: Hub;
let logs: string[];
const tokens = { admin: '', auditor: '', revoked: '' };
let adminId = '';
let providerKeys: MemberKeyPair;
let consumerKeys: MemberKeyPair;

beforeAll(async () => {
  const dataDir = freshDataDir();
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const captured = captureLogger('debug');
  logs = captured.lines;
  hub = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir }), { logger: captured.logger, http: true, workers: false });
  cleanup.push(() => hub.close());
  const admin = await addOperator(hub.db, { name: 'Amina (admin)', role: 'admin', actor: 'test' });
  adminId = admin.operator.id;
  tokens.admin = admin.token;
  tokens.auditor = (await addOperator(hub.db, { name: 'Youssef (auditor)', role: 'auditor', actor: 'test' })).token;
  const revoked = await addOperator(hub.db, { name: 'Gone', role: 'admin', actor: 'test' });
  await revokeOperator(hub.db, { id: revoked.operator.id, actor: 'test' });
  tokens.revoked = revoked.token;
  providerKeys = await generateMemberKeyPair('EdDSA', 'btp-2025');
  consumerKeys = await generateMemberKeyPair('ES256', 'mp-2025');
  // The fixture convention's provider, shared by the conventions each test activates (each with its own consumer).
  await registerMember(hub.db, { id: PROVIDER, name: 'Qualification BTP', jwks: providerKeys.publicJwks, actor: 'test' });
});

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T = unknown>(method: string, path: string, options: { token?: string; body?: unknown; authorization?: string } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${hub.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

const asAdmin = <T>(method: string, path: string, body?: unknown) => call<T>(method, path, { token: tokens.admin, body });
const asAuditor = <T>(method: string, path: string, body?: unknown) => call<T>(method, path, { token: tokens.auditor, body });

/** Ids of one test's own: an organisation (member) no other test uses, with a provider and a consumer subsystem under it. */
function idsFor(label: string): { member: string; provider: string; consumer: string } {
  const member = `MA/GOV/T-${label}`;
  return { member, provider: `${member}/qualification-btp`, consumer: `${member}/marches-publics` };
}

interface ConventionDir {
  yamlPath: string;
  openapiPath: string;
  jwsPath: string;
}

/**
 * A temporary contracts/ tree holding the fixture convention and its service's OpenAPI document, the convention's
 * consumer replaced by `consumer` (so its id is new) and the file named after it.
 */
function conventionDir(consumer: string): ConventionDir {
  const root = mkdtempSync(join(tmpdir(), 'tabadol-admin-contracts-'));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  const serviceDir = join(root, 'contracts', 'MA.GOV.METLE.qualification-btp', SERVICE);
  mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
  cpSync(join(fixture, 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
  const dotted = consumer.replaceAll('/', '.');
  const yaml = readFileSync(join(fixture, 'conventions', 'MA.GOV.MEF.marches-publics.yaml'), 'utf8');
  const yamlPath = join(serviceDir, 'conventions', `${dotted}.yaml`);
  writeFileSync(yamlPath, yaml.replaceAll('MA.GOV.MEF.marches-publics', dotted).replaceAll('MA/GOV/MEF/marches-publics', consumer));
  return { yamlPath, openapiPath: join(serviceDir, 'openapi.yaml'), jwsPath: yamlPath.replace(/\.yaml$/, '.jws') };
}

const contents = (dir: ConventionDir) => ({
  yaml: readFileSync(dir.yamlPath, 'utf8'),
  openapi: readFileSync(dir.openapiPath, 'utf8'),
  jws: readFileSync(dir.jwsPath, 'utf8'),
});

/**
 * One test's own convention: the fixture convention whose consumer is a subsystem registered for this test alone,
 * signed by the provider, and by the consumer too when `consumerSigns`.
 */
async function ownConvention(label: string, options: { consumerSigns: boolean }): Promise<{ dir: ConventionDir; consumer: string; id: string }> {
  const consumer = `MA/GOV/MEF/mp-${label}`;
  const id = `MA.GOV.METLE.qualification-btp.classification--${consumer.replaceAll('/', '.')}`;
  await registerMember(hub.db, { id: consumer, name: `Marchés publics (${label})`, jwks: consumerKeys.publicJwks, actor: 'test' });
  const dir = conventionDir(consumer);
  await signConvention(dir.yamlPath, { signer: PROVIDER, privateJwk: providerKeys.privateJwk });
  if (options.consumerSigns) await signConvention(dir.yamlPath, { signer: consumer, privateJwk: consumerKeys.privateJwk });
  return { dir, consumer, id };
}

/** Activates one test's own convention, signed by both parties, through the API. */
async function activatedConvention(label: string): Promise<{ dir: ConventionDir; consumer: string; id: string }> {
  const own = await ownConvention(label, { consumerSigns: true });
  expect((await asAdmin('POST', '/admin/v1/conventions/activate', contents(own.dir))).status).toBe(201);
  return own;
}

const routes: Array<{ method: string; path: string; role: 'admin' | 'auditor'; body?: unknown }> = [
  { method: 'GET', path: '/admin/v1/members', role: 'auditor' },
  { method: 'POST', path: '/admin/v1/members', role: 'admin', body: { id: 'MA/GOV/SEC/x', name: 'x' } },
  { method: 'POST', path: '/admin/v1/members/keys', role: 'admin', body: { id: PROVIDER, jwks: { keys: [] } } },
  { method: 'POST', path: '/admin/v1/members/keys/revoke', role: 'admin', body: { id: PROVIDER, kid: 'k' } },
  { method: 'POST', path: '/admin/v1/members/status', role: 'admin', body: { id: PROVIDER, status: 'disabled' } },
  { method: 'GET', path: '/admin/v1/conventions', role: 'auditor' },
  { method: 'POST', path: '/admin/v1/conventions/verify', role: 'auditor', body: { yaml: 'a: 1', openapi: 'x', jws: '{}' } },
  { method: 'POST', path: '/admin/v1/conventions/activate', role: 'admin', body: { yaml: 'a: 1', openapi: 'x', jws: '{}' } },
  { method: 'POST', path: '/admin/v1/conventions/revoke', role: 'admin', body: { id: 'x', reason: 'r' } },
  { method: 'GET', path: '/admin/v1/bindings', role: 'auditor' },
  { method: 'PUT', path: '/admin/v1/bindings', role: 'admin', body: { serviceId: 'MA/GOV/X/y/z', baseUrl: 'http://x' } },
  { method: 'GET', path: '/admin/v1/log/verify', role: 'auditor' },
  { method: 'POST', path: '/admin/v1/log/purge', role: 'admin', body: { before: '2020-01-01' } },
  { method: 'GET', path: '/admin/v1/audit', role: 'auditor' },
];

describe('admin API security, on every route', () => {
  it.each(routes)('$method $path: 401 without a valid operator token', async ({ method, path, body }) => {
    for (const auth of [undefined, 'Bearer', 'Basic YWRtaW46YWRtaW4=', 'Bearer tbd_op_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer not-a-token', `Bearer ${tokens.revoked}`]) {
      const res = await call<ProblemBody>(method, path, { body, ...(auth === undefined ? {} : { authorization: auth }) });
      expect(res.status, `${auth ?? 'no header'}`).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.body.type).toBe('urn:tabadol:problem:unauthenticated');
    }
  });

  it.each(routes.filter((r) => r.role === 'admin'))('$method $path: 403 for an auditor', async ({ method, path, body }) => {
    const res = await asAuditor<ProblemBody>(method, path, body);
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('urn:tabadol:problem:forbidden');
    expect(res.body.detail).toMatch(/needs the admin role/);
  });

  it.each(routes.filter((r) => r.role === 'auditor'))('$method $path: open to an auditor', async ({ method, path, body }) => {
    expect((await asAuditor(method, path, body)).status).toBe(200);
  });
});

describe('members', () => {
  it('registers subsystems with their public keys and lists them', async () => {
    const { member, provider: PROVIDER, consumer: CONSUMER } = idsFor('register');
    const DGI = 'MA/GOV/DGI-register';
    const provider = await asAdmin<MemberBody>('POST', '/admin/v1/members', { id: PROVIDER, name: 'Qualification BTP', jwks: providerKeys.publicJwks });
    expect(provider.status).toBe(201);
    expect(provider.body).toMatchObject({ id: PROVIDER, kind: 'subsystem', status: 'active', keys: [{ kid: 'btp-2025', alg: 'EdDSA', status: 'active' }] });
    expect((await asAdmin('POST', '/admin/v1/members', { id: CONSUMER, name: 'Marchés publics', jwks: consumerKeys.publicJwks })).status).toBe(201);
    expect((await asAdmin('POST', '/admin/v1/members', { id: DGI, name: 'Direction générale des impôts' })).status).toBe(201);

    const list = await asAuditor<{ members: MemberBody[] }>('GET', '/admin/v1/members');
    expect(list.status).toBe(200);
    const ids = list.body.members.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([PROVIDER, CONSUMER, DGI, member]));
    expect(list.body.members.find((m) => m.id === CONSUMER)?.keys[0]?.jwk).not.toHaveProperty('d');
  });

  it('refuses an invalid id, naming it', async () => {
    const res = await asAdmin<ProblemBody>('POST', '/admin/v1/members', { id: 'MA/GOV', name: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:tabadol:problem:request-invalid');
    expect(res.body.errors).toEqual([{ location: 'body.id', message: expect.stringContaining('"MA/GOV" is not a member id') }]);
  });

  it('refuses private key material in a JWK set', async () => {
    const res = await asAdmin<ProblemBody>('POST', '/admin/v1/members', { id: 'MA/GOV/DGI/impots', name: 'Impôts', jwks: { keys: [providerKeys.privateJwk] } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ location: 'body.jwks.keys.0', message: expect.stringContaining('private key material') }]);
  });

  it('refuses a duplicate member with 409', async () => {
    const { consumer: CONSUMER } = idsFor('duplicate');
    expect((await asAdmin('POST', '/admin/v1/members', { id: CONSUMER, name: 'first', jwks: consumerKeys.publicJwks })).status).toBe(201);
    const res = await asAdmin<ProblemBody>('POST', '/admin/v1/members', { id: CONSUMER, name: 'again', jwks: consumerKeys.publicJwks });
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('urn:tabadol:problem:conflict');
    expect(res.body.detail).toContain('already registered');
  });

  it('refuses a body that does not fit the schema', async () => {
    const { consumer: CONSUMER } = idsFor('schema');
    const res = await asAdmin<ProblemBody>('POST', '/admin/v1/members', { id: CONSUMER });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.location).toBe('body.name');
  });

  it('adds a key, refuses a reused kid, revokes a key, refuses an unknown kid', async () => {
    const { consumer: CONSUMER } = idsFor('keys');
    expect((await asAdmin('POST', '/admin/v1/members', { id: CONSUMER, name: 'Marchés publics', jwks: consumerKeys.publicJwks })).status).toBe(201);
    const next = await generateMemberKeyPair('ES256', 'mp-2026');
    const added = await asAdmin<MemberBody>('POST', '/admin/v1/members/keys', { id: CONSUMER, jwks: next.publicJwks });
    expect(added.status).toBe(200);
    expect(added.body.keys.map((k) => k.kid)).toEqual(['mp-2025', 'mp-2026']);
    expect((await asAdmin<ProblemBody>('POST', '/admin/v1/members/keys', { id: CONSUMER, jwks: next.publicJwks })).status).toBe(409);
    expect((await asAdmin<ProblemBody>('POST', '/admin/v1/members/keys', { id: 'MA/GOV/NOPE/x', jwks: next.publicJwks })).status).toBe(404);

    const revoked = await asAdmin<MemberBody>('POST', '/admin/v1/members/keys/revoke', { id: CONSUMER, kid: 'mp-2026', reason: 'test' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.keys.find((k) => k.kid === 'mp-2026')).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });

    const unknown = await asAdmin<ProblemBody>('POST', '/admin/v1/members/keys/revoke', { id: CONSUMER, kid: 'never-was' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('urn:tabadol:problem:not-found');
    expect(unknown.body.errors).toEqual([{ location: 'body.kid', message: `${CONSUMER} has no active key never-was` }]);
  });

  it('disables and enables a member', async () => {
    const DGI = 'MA/GOV/DGI-status';
    expect((await asAdmin('POST', '/admin/v1/members', { id: DGI, name: 'Direction générale des impôts' })).status).toBe(201);
    const disabled = await asAdmin<MemberBody>('POST', '/admin/v1/members/status', { id: DGI, status: 'disabled', reason: 'test' });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect((await asAdmin<MemberBody>('POST', '/admin/v1/members/status', { id: DGI, status: 'active' })).body.status).toBe('active');
    expect((await asAdmin('POST', '/admin/v1/members/status', { id: 'MA/GOV/NOPE', status: 'active' })).status).toBe(404);
    expect((await asAdmin('POST', '/admin/v1/members/status', { id: DGI, status: 'paused' })).status).toBe(400);
  });
});

describe('conventions', () => {
  it('refuses to activate without the consumer signature, naming it, and verifies it as not ok', async () => {
    const { dir, consumer: CONSUMER } = await ownConvention('unsigned', { consumerSigns: false });
    const verified = await asAuditor<VerificationBody>('POST', '/admin/v1/conventions/verify', contents(dir));
    expect(verified.status).toBe(200);
    expect(verified.body.ok).toBe(false);
    expect(verified.body.problems).toEqual([`missing the consumer's signature (${CONSUMER})`]);

    const res = await asAdmin<ProblemBody>('POST', '/admin/v1/conventions/activate', contents(dir));
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('urn:tabadol:problem:unprocessable');
    expect(res.body.errors).toEqual([{ location: 'body.jws', message: `missing the consumer's signature (${CONSUMER})` }]);
  });

  it('refuses a YAML that is not a convention, one error per problem', async () => {
    const { dir } = await ownConvention('not-a-convention', { consumerSigns: false });
    const res = await asAdmin<ProblemBody>('POST', '/admin/v1/conventions/activate', { ...contents(dir), yaml: 'id: x\nversion: 0\n' });
    expect(res.status).toBe(422);
    expect(res.body.errors?.length).toBeGreaterThan(1);
    expect(res.body.errors).toContainEqual({ location: 'body.yaml', message: 'version: Too small: expected number to be >=1' });
  });

  it('verifies and activates a convention signed by both parties; the hub countersigns and enforces it', async () => {
    const { dir, consumer: CONSUMER, id: CONVENTION_ID } = await ownConvention('activate', { consumerSigns: true });
    const verified = await asAuditor<VerificationBody>('POST', '/admin/v1/conventions/verify', contents(dir));
    expect(verified.body).toMatchObject({ ok: true, problems: [], convention: { id: CONVENTION_ID, version: 1, provider: PROVIDER, consumer: CONSUMER } });
    expect(verified.body.signatures.map((s) => [s.role, s.ok])).toEqual([
      ['provider', true],
      ['consumer', true],
    ]);

    const res = await asAdmin<ActivationBody>('POST', '/admin/v1/conventions/activate', contents(dir));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: CONVENTION_ID, version: 1, superseded: null });
    const jws = JSON.parse(res.body.jws) as { signatures: unknown[] };
    expect(jws.signatures).toHaveLength(3);
    expect(res.body.verification.signatures.map((s) => s.role)).toEqual(['provider', 'consumer', 'hub']);

    await hub.services.conventions.reload();
    expect(hub.services.conventions.find(CONSUMER, PROVIDER, SERVICE)?.id).toBe(CONVENTION_ID);

    const list = await asAuditor<{ conventions: StoredConventionBody[] }>('GET', `/admin/v1/conventions?status=active&consumer=${encodeURIComponent(CONSUMER)}`);
    expect(list.status).toBe(200);
    expect(list.body.conventions).toEqual([expect.objectContaining({ id: CONVENTION_ID, version: 1, status: 'active', activatedBy: `operator:${adminId}` })]);
    expect((await asAuditor<{ conventions: unknown[] }>('GET', '/admin/v1/conventions?provider=MA%2FGOV%2FNONE%2Fx')).body.conventions).toEqual([]);
    expect((await asAuditor('GET', '/admin/v1/conventions?status=pending')).status).toBe(400);
  });

  it('refuses activating the same version again with 409', async () => {
    const { dir } = await activatedConvention('again');
    const res = await asAdmin<ProblemBody>('POST', '/admin/v1/conventions/activate', contents(dir));
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('urn:tabadol:problem:conflict');
  });

  it('revokes it; a second revocation is refused', async () => {
    const { consumer: CONSUMER, id: CONVENTION_ID } = await activatedConvention('revoke');
    await hub.services.conventions.reload();
    expect(hub.services.conventions.find(CONSUMER, PROVIDER, SERVICE)?.id).toBe(CONVENTION_ID);
    const res = await asAdmin<StoredConventionBody>('POST', '/admin/v1/conventions/revoke', { id: CONVENTION_ID, reason: 'end of the pilot' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'revoked', revokedBy: `operator:${adminId}`, revokedReason: 'end of the pilot' });
    expect((await asAdmin<ProblemBody>('POST', '/admin/v1/conventions/revoke', { id: CONVENTION_ID, reason: 'again' })).status).toBe(404);
    expect((await asAdmin<ProblemBody>('POST', '/admin/v1/conventions/revoke', { id: CONVENTION_ID, version: 1, reason: 'again' })).status).toBe(409);
    await hub.services.conventions.reload();
    expect(hub.services.conventions.find(CONSUMER, PROVIDER, SERVICE)).toBeUndefined();
  });
});

describe('bindings', () => {
  it('binds a service and lists it', async () => {
    const res = await asAdmin<BindingBody>('PUT', '/admin/v1/bindings', { serviceId: `${PROVIDER}/${SERVICE}`, baseUrl: 'https://btp.example.ma/api', timeoutMs: 5000 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ serviceId: `${PROVIDER}/${SERVICE}`, kind: 'http', baseUrl: 'https://btp.example.ma/api', timeoutMs: 5000 });
    const list = await asAuditor<{ bindings: BindingBody[] }>('GET', '/admin/v1/bindings');
    expect(list.body.bindings).toContainEqual(res.body);
    expect(list.body.bindings).toContainEqual(expect.objectContaining({ kind: 'adapter', adapter: 'hub:transparency' }));
  });

  it.each([
    [{ serviceId: PROVIDER, baseUrl: 'https://x' }, 'body.serviceId'],
    [{ serviceId: `${PROVIDER}/${SERVICE}`, baseUrl: 'ftp://x' }, 'body.baseUrl'],
    [{ serviceId: `${PROVIDER}/${SERVICE}`, baseUrl: 'https://x', adapter: 'a' }, 'body.baseUrl'],
    [{ serviceId: `${PROVIDER}/${SERVICE}`, adapter: 'a b' }, 'body.adapter'],
  ])('refuses %j at %s', async (body, location) => {
    const res = await asAdmin<ProblemBody>('PUT', '/admin/v1/bindings', body);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.location).toBe(location);
  });
});

describe('message log', () => {
  it('verifies an intact log', async () => {
    const res = await asAuditor<LogVerificationBody>('GET', '/admin/v1/log/verify');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, problems: [] });
    expect((await asAuditor('GET', '/admin/v1/log/verify?from=12')).status).toBe(200);
    expect((await asAuditor<ProblemBody>('GET', '/admin/v1/log/verify?from=abc')).body.errors?.[0]?.location).toBe('query.from');
  });

  it('purges before a date; refuses a date that is not ISO 8601', async () => {
    const res = await asAdmin<{ deleted: number }>('POST', '/admin/v1/log/purge', { before: '2020-01-01' });
    expect(res.status).toBe(200);
    expect(res.body.deleted).toBe(0);
    const bad = await asAdmin<ProblemBody>('POST', '/admin/v1/log/purge', { before: 'last year' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.location).toBe('body.before');
  });
});

describe('audit trail', () => {
  it('lists the admin actions newest first, with the operator as actor', async () => {
    // This test's own admin actions, one of each kind it looks for.
    const { provider: PROVIDER, consumer: CONSUMER } = idsFor('audit');
    const DGI = 'MA/GOV/DGI-audit';
    expect((await asAdmin('POST', '/admin/v1/members', { id: PROVIDER, name: 'Qualification BTP', jwks: providerKeys.publicJwks })).status).toBe(201);
    expect((await asAdmin('POST', '/admin/v1/members', { id: CONSUMER, name: 'Marchés publics', jwks: consumerKeys.publicJwks })).status).toBe(201);
    expect((await asAdmin('POST', '/admin/v1/members/keys', { id: CONSUMER, jwks: (await generateMemberKeyPair('ES256', 'mp-2026')).publicJwks })).status).toBe(200);
    expect((await asAdmin('POST', '/admin/v1/members/keys/revoke', { id: CONSUMER, kid: 'mp-2026', reason: 'test' })).status).toBe(200);
    expect((await asAdmin('POST', '/admin/v1/members', { id: DGI, name: 'Direction générale des impôts' })).status).toBe(201);
    expect((await asAdmin('POST', '/admin/v1/members/status', { id: DGI, status: 'disabled', reason: 'test' })).status).toBe(200);
    const { id: CONVENTION_ID } = await activatedConvention('audit');
    expect((await asAdmin('POST', '/admin/v1/conventions/revoke', { id: CONVENTION_ID, reason: 'test' })).status).toBe(200);
    expect((await asAdmin('PUT', '/admin/v1/bindings', { serviceId: `${PROVIDER}/${SERVICE}`, baseUrl: 'https://btp.example.ma/api' })).status).toBe(200);
    expect((await asAdmin('POST', '/admin/v1/log/purge', { before: '2020-01-01' })).status).toBe(200);

    const res = await asAuditor<{ entries: AuditEntryBody[] }>('GET', '/admin/v1/audit?limit=1000');
    expect(res.status).toBe(200);
    const ids = res.body.entries.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const byOperator = res.body.entries.filter((e) => e.actor === `operator:${adminId}`).map((e) => `${e.action} ${e.target}`);
    expect(byOperator).toEqual(
      expect.arrayContaining([
        `member.register ${PROVIDER}`,
        `member.keys.add ${CONSUMER}`,
        `member.keys.revoke ${CONSUMER}`,
        `member.disable ${DGI}`,
        `convention.activate ${CONVENTION_ID}@1`,
        `convention.revoke ${CONVENTION_ID}@1`,
        `service.bind ${PROVIDER}/${SERVICE}`,
        'log.purge message_log',
      ]),
    );
    expect((await asAuditor<{ entries: unknown[] }>('GET', '/admin/v1/audit?limit=2')).body.entries).toHaveLength(2);
    expect((await asAuditor('GET', '/admin/v1/audit?limit=0')).status).toBe(400);
  });
});

describe('operator tokens', () => {
  it('never appear in the logs', async () => {
    // Every token was presented to the hub (the revoked one refused), so each had its chance to be logged.
    expect((await asAdmin('GET', '/admin/v1/members')).status).toBe(200);
    expect((await asAuditor('GET', '/admin/v1/audit?limit=1')).status).toBe(200);
    expect((await call('GET', '/admin/v1/members', { token: tokens.revoked })).status).toBe(401);
    expect(logs.length).toBeGreaterThan(0);
    const all = logs.join('\n');
    for (const token of Object.values(tokens)) {
      expect(all).not.toContain(token);
      // The secret part alone (tbd_op_<16 hex id>_<secret>): not even a token cut differently may show.
      expect(all).not.toContain(token.slice('tbd_op_'.length + 17));
    }
  });
});
