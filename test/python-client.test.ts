// The Python client of docs/protocol.md (docs/examples/tabadol_client.py, Debian's python3-jwcrypto) against a real
// hub: it signs a call the hub accepts and verifies the hub's answer, refusals included, and it rejects an answer that
// is not the hub's. The page shows exactly the file. Never skipped: without Python and jwcrypto it fails, saying how to
// install them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { mefPurpose, miPurpose, provider, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { hasTool } from './helpers/servers.ts';

const example = fileURLToPath(new URL('../docs/examples/tabadol_client.py', import.meta.url));
const protocolDoc = fileURLToPath(new URL('../docs/protocol.md', import.meta.url));

const pythonCandidates = [process.env.TABADOL_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => Boolean(c));

/** A Python 3 that imports jwcrypto: $TABADOL_PYTHON, else Debian's /usr/bin/python3, else python3 on the PATH. */
const pythonFound = pythonCandidates.find((python) => spawnSync(python, ['-c', 'import jwcrypto'], { stdio: 'ignore' }).status === 0);

function pythonWithJwcrypto(): string {
  if (pythonFound) return pythonFound;
  throw new Error(`no Python 3 with jwcrypto (tried ${pythonCandidates.join(', ')}): install it with \`apt-get install -y python3-jwcrypto\` (Debian/Ubuntu; .ci/run does), or set TABADOL_PYTHON to a python3 that has jwcrypto`);
}

function run(python: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [example, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Left out, and named at the end of the run, on a machine without it; run (and failing if it is missing) in CI.
describe.runIf(hasTool('python3-jwcrypto', pythonFound !== undefined))('the Python client of docs/protocol.md', () => {
  let world: ExchangeWorld;
  let python: string;
  let keyFile: string;
  let dir: string;

  beforeAll(async () => {
    python = pythonWithJwcrypto();
    world = await startExchangeWorld({ storage: 'pglite', redis: false });
    dir = mkdtempSync(join(tmpdir(), 'tabadol-python-'));
    keyFile = join(dir, 'mef.private.jwk.json');
    writeFileSync(keyFile, JSON.stringify(world.mef.keys[0]?.privateJwk), { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const target = `/x/v1/${provider}/classification/companies/${demoIces.qualified}/classification`;

  it('signs a call the hub accepts and verifies the answer', async () => {
    const { code, stdout, stderr } = await run(python, [world.urls[0] ?? '', world.hubId, world.mef.id, keyFile, 'GET', target, mefPurpose]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { status: number; verified: boolean; logId: string; jti: string; body: { ice: string } };
    expect(out).toMatchObject({ status: 200, verified: true, body: { ice: demoIces.qualified } });
    // The hub logged the call as the Python client made it.
    expect(await world.logRow(out.logId)).toMatchObject({ request_id: out.jti, client: world.mef.id, purpose: mefPurpose, status: 200 });
  });

  it('signs with an Ed25519 key too', async () => {
    const miKey = join(dir, 'mi.private.jwk.json');
    writeFileSync(miKey, JSON.stringify(world.mi.keys[0]?.privateJwk), { mode: 0o600 });
    const { code, stdout, stderr } = await run(python, [world.urls[0] ?? '', world.hubId, world.mi.id, miKey, 'GET', target, miPurpose]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 200, verified: true });
  });

  it('verifies a refusal the same way', async () => {
    const { code, stdout } = await run(python, [world.urls[0] ?? '', world.hubId, world.mef.id, keyFile, 'GET', target, 'curiosity']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 403, verified: true, body: { type: 'urn:tabadol:problem:purpose-not-allowed' } });
  });

  it('rejects an answer that is not signed for what it expects', async () => {
    // The hub signs as MA/GOV/HUB/core: a client expecting another hub id refuses the answer.
    const { code, stderr } = await run(python, [world.urls[0] ?? '', 'MA/GOV/HUB/other', world.mef.id, keyFile, 'GET', target, mefPurpose]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/does not verify: .*iss is MA\/GOV\/HUB\/core, not MA\/GOV\/HUB\/other/);
  });

  it('is shown exactly in docs/protocol.md', () => {
    const doc = readFileSync(protocolDoc, 'utf8');
    const block = /```python\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'docs/protocol.md has a ```python block').toBeDefined();
    expect(block).toBe(readFileSync(example, 'utf8'));
  });
});
