// The admin command line as an operator runs it (`node bin/tabadol.js ...`): keys, members, operators, conventions,
// hub keys, bindings and the log, on one embedded DATA_DIR; and the refusal when a running hub holds that database.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDataDir } from './helpers/db.ts';
import { runToExit, startServe } from './helpers/process.ts';

const PROVIDER = 'MA/GOV/METLE/qualification-btp';
const CONSUMER = 'MA/GOV/MEF/marches-publics';
const CONVENTION_ID = 'MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics';
const fixture = fileURLToPath(new URL('../contracts/MA.GOV.METLE.qualification-btp/classification/', import.meta.url));

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

let dataDir: string;
let work: string;
beforeAll(() => {
  dataDir = freshDataDir();
  work = mkdtempSync(join(tmpdir(), 'tabadol-cli-admin-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanup.push(() => rmSync(work, { recursive: true, force: true }));
});

// Each command is a fresh process that opens the embedded database: a few seconds each, more under a parallel suite.
const slow = { timeout: 180_000 };

const tabadol = (...args: string[]) => runToExit(args, { DATA_DIR: dataDir });
const stderrLines = (text: string) => text.trim().split('\n');

interface JwkFile {
  keys: Array<Record<string, unknown>>;
}

describe('tabadol keys generate', slow, () => {
  it('writes private.jwk (0600) and public.jwks (no private part), and refuses to overwrite', async () => {
    const out = join(work, 'provider-keys');
    const run = await tabadol('keys', 'generate', '--out', out, '--alg', 'EdDSA', '--kid', 'btp-2025');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('generated EdDSA key btp-2025');
    expect(statSync(join(out, 'private.jwk')).mode & 0o777).toBe(0o600);
    const publicJwks = JSON.parse(readFileSync(join(out, 'public.jwks'), 'utf8')) as JwkFile;
    expect(publicJwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: 'btp-2025', alg: 'EdDSA', use: 'sig' }]);
    expect(publicJwks.keys[0]).not.toHaveProperty('d');
    expect(JSON.parse(readFileSync(join(out, 'private.jwk'), 'utf8'))).toMatchObject({ kid: 'btp-2025', d: expect.any(String) });

    const again = await tabadol('keys', 'generate', '--out', out);
    expect(again.code).toBe(1);
    expect(stderrLines(again.stderr)).toEqual([expect.stringMatching(/^tabadol: .*private\.jwk already exists: refusing to overwrite/)]);

    const consumer = await tabadol('keys', 'generate', '--out', join(work, 'consumer-keys'), '--kid', 'mp-2025');
    expect(consumer.code).toBe(0);
    expect(consumer.stdout).toContain('generated ES256 key mp-2025');
    expect((await tabadol('keys', 'generate', '--out', join(work, 'x'), '--alg', 'RS256')).code).toBe(2);
  });
});

describe('tabadol member', slow, () => {
  it('adds subsystems, adds and revokes a key, and lists them as JSON', async () => {
    const provider = await tabadol('member', 'add', PROVIDER, '--name', 'Qualification BTP', '--jwks', join(work, 'provider-keys', 'public.jwks'));
    expect(provider.code, provider.stderr).toBe(0);
    expect(provider.stdout).toContain(`registered ${PROVIDER} (subsystem) with key(s) btp-2025`);
    expect((await tabadol('member', 'add', CONSUMER, '--name', 'Marchés publics', '--jwks', join(work, 'consumer-keys', 'public.jwks'))).code).toBe(0);

    expect((await tabadol('keys', 'generate', '--out', join(work, 'consumer-next'), '--kid', 'mp-2026')).code).toBe(0);
    const added = await tabadol('member', 'keys', 'add', CONSUMER, '--jwks', join(work, 'consumer-next', 'public.jwks'));
    expect(added.code, added.stderr).toBe(0);
    const revoked = await tabadol('member', 'keys', 'revoke', CONSUMER, '--kid', 'mp-2026', '--reason', 'test');
    expect(revoked.code, revoked.stderr).toBe(0);

    const list = await tabadol('member', 'list', '--json');
    expect(list.code).toBe(0);
    const members = JSON.parse(list.stdout) as Array<{ id: string; kind: string; keys: Array<{ kid: string; status: string }> }>;
    expect(members.find((m) => m.id === PROVIDER)).toMatchObject({ kind: 'subsystem', keys: [{ kid: 'btp-2025', status: 'active' }] });
    expect(members.find((m) => m.id === CONSUMER)?.keys.map((k) => [k.kid, k.status])).toEqual([
      ['mp-2025', 'active'],
      ['mp-2026', 'revoked'],
    ]);
  });

  it('refuses an invalid id with one line naming it', async () => {
    const run = await tabadol('member', 'add', 'MA/GOV', '--name', 'x');
    expect(run.code).toBe(1);
    expect(stderrLines(run.stderr)).toEqual([expect.stringMatching(/^tabadol: id: "MA\/GOV" is not a member id/)]);
  });

  it('refuses private key material, naming the file and the key', async () => {
    const file = join(work, 'leaky.jwks');
    writeFileSync(file, JSON.stringify({ keys: [JSON.parse(readFileSync(join(work, 'consumer-next', 'private.jwk'), 'utf8'))] }));
    const run = await tabadol('member', 'keys', 'add', CONSUMER, '--jwks', file);
    expect(run.code).toBe(1);
    expect(stderrLines(run.stderr)).toEqual([`tabadol: --jwks ${file}: keys.0: contains private key material: register the PUBLIC key only (keep private.jwk to yourself)`]);
  });
});

describe('tabadol convention', slow, () => {
  let yamlPath = '';
  beforeAll(() => {
    const serviceDir = join(work, 'contracts', 'MA.GOV.METLE.qualification-btp', 'classification');
    mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
    cpSync(join(fixture, 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
    yamlPath = join(serviceDir, 'conventions', 'MA.GOV.MEF.marches-publics.yaml');
    cpSync(join(fixture, 'conventions', 'MA.GOV.MEF.marches-publics.yaml'), yamlPath);
  });

  it('is signed by both parties, verifies, activates and lists', async () => {
    const byProvider = await tabadol('convention', 'sign', yamlPath, '--as', PROVIDER, '--key', join(work, 'provider-keys', 'private.jwk'));
    expect(byProvider.code, byProvider.stderr).toBe(0);
    expect(byProvider.stdout).toContain(`signed as provider ${PROVIDER} with key btp-2025 (EdDSA)`);
    const byConsumer = await tabadol('convention', 'sign', yamlPath, '--as', CONSUMER, '--key', join(work, 'consumer-keys', 'private.jwk'));
    expect(byConsumer.code, byConsumer.stderr).toBe(0);

    const verified = await tabadol('convention', 'verify', yamlPath);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`ok +provider ${PROVIDER} kid btp-2025`));
    expect(verified.stdout).toMatch(new RegExp(`ok +consumer ${CONSUMER} kid mp-2025`));

    const activated = await tabadol('convention', 'activate', yamlPath);
    expect(activated.code, activated.stderr).toBe(0);
    expect(activated.stdout).toContain(`activated ${CONVENTION_ID} version 1`);
    const jws = JSON.parse(readFileSync(yamlPath.replace(/\.yaml$/, '.jws'), 'utf8')) as { signatures: unknown[] };
    expect(jws.signatures).toHaveLength(3);

    const list = await tabadol('convention', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: CONVENTION_ID, version: 1, status: 'active', activatedBy: expect.stringMatching(/^cli:/) })]);
  });

  it('refuses to verify a YAML changed after signing, naming the change', async () => {
    writeFileSync(yamlPath, readFileSync(yamlPath, 'utf8').replace('count: 600', 'count: 6000'));
    const run = await tabadol('convention', 'verify', yamlPath);
    expect(run.code).toBe(1);
    expect(stderrLines(run.stderr)).toEqual([`tabadol: ${yamlPath} does not verify:`, '- the YAML differs from what was signed: changed field(s) quota']);
    const json = await tabadol('convention', 'verify', yamlPath, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: ['the YAML differs from what was signed: changed field(s) quota'] });
  });
});

describe('tabadol hub', slow, () => {
  it('rotates the signing key; the JWKS lists both, the old one marked retired', async () => {
    const before = JSON.parse((await tabadol('hub', 'jwks')).stdout) as JwkFile;
    expect(before.keys).toHaveLength(1);
    const oldKid = before.keys[0]?.kid;
    const rotated = await tabadol('hub', 'rotate-key');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`retired: ${String(oldKid)}`);
    expect(rotated.stdout).toMatch(/next restart/);
    const newKid = /new signing key: (\S+)/.exec(rotated.stdout)?.[1];
    const after = await tabadol('hub', 'jwks');
    expect(after.code).toBe(0);
    const jwks = JSON.parse(after.stdout) as JwkFile;
    expect(jwks.keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    expect(jwks.keys[0]?.['tabadol.retired']).toEqual(expect.any(String));
    expect(jwks.keys[1]).not.toHaveProperty('tabadol.retired');
    expect(jwks.keys.some((k) => 'd' in k)).toBe(false);
  });
});

describe('tabadol service and log', slow, () => {
  it('binds a service and lists it', async () => {
    const bound = await tabadol('service', 'bind', `${PROVIDER}/classification`, '--url', 'https://btp.example.ma/api', '--timeout-ms', '5000');
    expect(bound.code, bound.stderr).toBe(0);
    const list = await tabadol('service', 'list', '--json');
    expect(JSON.parse(list.stdout)).toContainEqual({ serviceId: `${PROVIDER}/classification`, kind: 'http', baseUrl: 'https://btp.example.ma/api', timeoutMs: 5000 });
    expect((await tabadol('service', 'bind', `${PROVIDER}/classification`)).code).toBe(2);
    const bad = await tabadol('service', 'bind', PROVIDER, '--adapter', 'x');
    expect(bad.code).toBe(1);
    expect(stderrLines(bad.stderr)).toEqual([expect.stringMatching(/^tabadol: SERVICE_ID: .* is not a service id/)]);
  });

  it('verifies an empty log as intact', async () => {
    const run = await tabadol('log', 'verify');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('0 row(s) and 0 checkpoint(s) checked');
    expect(run.stdout).toContain('the log is intact');
    const json = await tabadol('log', 'verify', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, rowsChecked: 0, checkpointsChecked: 0, problems: [] });
    expect((await tabadol('log', 'verify', '--from', 'x')).code).toBe(2);
  });
});

describe('tabadol operator, and a hub running on the same DATA_DIR', slow, () => {
  it('prints a token that authenticates to the admin API; the CLI still works while the hub runs', async () => {
    const added = await tabadol('operator', 'add', '--name', 'Amina', '--role', 'auditor');
    expect(added.code, added.stderr).toBe(0);
    const token = /^(tbd_op_\S+)$/m.exec(added.stdout)?.[1];
    expect(token).toBeDefined();
    expect(added.stdout).toMatch(/Store this token now/);
    expect(added.stdout.split(token ?? '-').length - 1).toBe(1);

    const hub = await startServe({ DATA_DIR: dataDir });
    cleanup.push(async () => {
      if (hub.child.exitCode === null) await hub.stop();
    });
    const members = await fetch(`${hub.url}/admin/v1/members`, { headers: { authorization: `Bearer ${token ?? ''}` } });
    expect(members.status).toBe(200);
    expect(((await members.json()) as { members: Array<{ id: string }> }).members.map((m) => m.id)).toContain(CONSUMER);
    expect((await fetch(`${hub.url}/admin/v1/members`, { headers: { authorization: 'Bearer tbd_op_nope' } })).status).toBe(401);

    // While the hub runs, the command goes through the hub's local channel (test/cli-socket.e2e.test.ts).
    const listed = await tabadol('member', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(CONSUMER);
    expect((await hub.stop()).code).toBe(0);
    expect(hub.stdout() + hub.stderr()).not.toContain(token);
  });

  it('refuses, pointing to the admin API, when a live process holds the database and no hub answers on its channel', async () => {
    // A live process (this test's) holds the lock, and there is no DATA_DIR/admin.sock: an older hub, or a socket path
    // too long for the system.
    writeFileSync(join(dataDir, 'pg.lock'), String(process.pid));
    cleanup.push(() => rmSync(join(dataDir, 'pg.lock'), { force: true }));
    const refused = await tabadol('member', 'list');
    expect(refused.code).toBe(1);
    expect(stderrLines(refused.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^tabadol: the embedded database in .* is in use by the running hub \\(process ${process.pid}\\), which does not answer on .*admin\\.sock: stop it first, or use the admin API while it runs \\(GET /admin/v1/members\\)$`)),
    ]);
    rmSync(join(dataDir, 'pg.lock'));
  });
});
