// What a newcomer does: `npm start` on an empty DATA_DIR, then `npm run demo:call` against it: a verified exchange.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hubEnv, jsonLines, startServe, type RunningHub } from './helpers/process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function demoCall(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/demo-call.ts')], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the demo world', () => {
  const parent = mkdtempSync(join(tmpdir(), 'tabadol-demo-'));
  const dataDir = join(parent, 'data');
  let hub: RunningHub | undefined;
  afterAll(async () => {
    await hub?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it('is loaded by serve on an empty DATA_DIR, and demo:call makes a verified, minimised exchange', async () => {
    hub = await startServe({ DATA_DIR: dataDir, DEMO: 'auto' }, 180_000); // the seed's seven systems start with the demo
    expect(hub.stderr()).toMatch(/demo world .* try: npm run demo:call/);
    // The members' private keys are the operator's secrets: owner-only.
    expect(statSync(join(dataDir, 'demo', 'MA.GOV.MEF.marches-publics', 'private.jwk')).mode & 0o077).toBe(0);
    expect(statSync(join(dataDir, 'hub-keys.json')).mode & 0o077).toBe(0);
    // The banner's count and the log's agree: entities, and the contributions that carry them.
    expect(hub.stderr()).toMatch(/demo records +2100 generated persons, companies and vehicles/);
    expect(hub.stderr()).toMatch(/\(2377 contributions: 277 are the same entity as another e-service holds it\)/);
    // HUB_URL wins over PORT (a wrong PORT here).
    const result = await demoCall(hubEnv({ PORT: '1', HUB_URL: hub.url, DATA_DIR: dataDir }));
    expect(result.stderr, result.stdout).toBe('');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/← 200, message-log entry \d+; hub signature verified/);
    const answer = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'), result.stdout.indexOf('  (minimised')));
    // The convention allows these fields only: the provider's answer had many more.
    expect(Object.keys(answer).sort()).toEqual(['ice', 'qualifications', 'raisonSociale', 'statut']);
    // Each qualification stays distinguishable: no two identical entries once minimised.
    const qualifications = (answer as { qualifications: unknown[] }).qualifications.map((q) => JSON.stringify(q));
    expect(new Set(qualifications).size).toBe(qualifications.length);
    expect(qualifications.every((q) => q.includes('"qualification":{"code"'))).toBe(true);
    // The plain summary a director reads.
    const summary = result.stdout.slice(result.stdout.indexOf('In short'));
    expect(summary).toMatch(/Who asked what +Trésorerie Générale du Royaume: portail des marchés publics \(MA\/GOV\/MEF\/marches-publics\) asked/);
    expect(summary).toMatch(/For what +public-procurement-eligibility: /);
    expect(summary).toMatch(/Withheld +decisionDate: /);
    expect(summary).toMatch(/law 09-08/);
    expect(summary).toMatch(/Citizen's view .*\n.*GET \/x\/v1\/MA\/GOV\/HUB\/transparency\/accesses\/subjects\/ice\/\d{15}\/accesses: [1-9]\d* access/);
    expect(result.stdout).toContain('"client": "MA/GOV/MEF/marches-publics"');
    expect(result.stdout).toContain('"purpose": "public-procurement-eligibility"');
    // The territory referential, through the same pipeline: a 2014 commune code resolves to today's unit and says so.
    expect(result.stdout).toContain('"via": "crosswalk-2014"');
    expect(result.stdout).toContain('"code": "01.051.11.01"');
    // The single referential of companies: a contribution through the pipeline, then a read by ICE.
    expect(result.stdout).toMatch(/"decision":"(created|linked-identifier|updated|unchanged)"/);
    expect(result.stdout).toContain('"goldenId"');
  }, 420_000); // The demo loads 2,100 records in the background on the same embedded database: slow under a busy CI.

  it('finishes a demo world whose seeding stopped half-way, at the next start', async () => {
    await hub?.stop();
    // What an interrupted seeding leaves: keys, members and some conventions, but no world.json.
    rmSync(join(dataDir, 'demo', 'world.json'));
    hub = await startServe({ DATA_DIR: dataDir, DEMO: 'auto', LOG_LEVEL: 'info' }, 180_000);
    expect(hub.stderr()).toMatch(/demo world .* try: npm run demo:call/);
    expect(hub.stdout()).toContain('finishing it now');
    expect(statSync(join(dataDir, 'demo', 'world.json')).isFile()).toBe(true);
    // The demo's banners went to stderr with the hub's: stdout is the JSON log alone.
    expect(jsonLines(hub.stdout()).length).toBeGreaterThan(0);
  }, 420_000);

  it('tells what to do when no hub ran on that DATA_DIR', async () => {
    const result = await demoCall(hubEnv({ PORT: '1', DATA_DIR: join(parent, 'nothing-here') }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/start the hub first with `npm start`/);
  });
});
