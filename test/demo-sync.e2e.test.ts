// Issue 16 item 5: `npm run demo:sync` against a fresh `npm start` (serve on an empty DATA_DIR, embedded PGlite, the
// demo world on) tells three changes travelling through the hub, each with the push's message-log entry, and exits 0;
// with no hub it says so and exits 1 rather than waiting.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hubEnv, startServe, type RunningHub } from './helpers/process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs the script to its end (bounded) and gives its exit code and output. */
function demoSync(settings: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/demo-sync.ts'], { cwd: root, env: hubEnv(settings), timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('npm run demo:sync', () => {
  const parent = mkdtempSync(join(tmpdir(), 'tabadol-demo-sync-'));
  let hub: RunningHub | undefined;
  afterAll(async () => {
    await hub?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it('exits 1 with a plain message when no hub runs', async () => {
    const run = await demoSync({ DATA_DIR: join(parent, 'nothing'), HUB_URL: 'http://127.0.0.1:9' }, 60_000);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toMatch(/demo:sync: .*start (it|the hub)/);
  }, 90_000);

  it('shows each change arriving, with the golden version and the push in the message log', async () => {
    const dataDir = join(parent, 'data');
    // The full demo's first start is slow on a loaded machine (every system, 2,100 records loading in the background).
    hub = await startServe({ DATA_DIR: dataDir, DEMO: 'auto' }, 180_000);
    const run = await demoSync({ DATA_DIR: dataDir, HUB_URL: hub.url, DEMO_SYNC_TIMEOUT_S: '90' }, 420_000);
    expect(run.code, `${run.stdout}${run.stderr}\nhub: ${hub.stderr().slice(-4000)}`).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/Golden +person \S+, version \d+/);
    expect(out).toMatch(/permis-rdv ARRIVED: .*message-log entry \d+/);
    expect(out).toMatch(/infractions ARRIVED: .*message-log entry \d+/);
    expect(out).toMatch(/Golden +company \S+, version \d+/);
    expect(out).toMatch(/dpm-occupations ARRIVED: [\s\S]*?push logged as message-log entry \d+/);
    expect(out).toMatch(/Golden +commune \S+, version \d+/);
    expect(out).toMatch(/MARROUTE +ARRIVED: \d+ road event\(s\) under 01\.051\.11\.01[^\n]*\n +delivered by the push logged as message-log entry \d+/);
    expect(out).toMatch(/Citizen .*\d+ event\(s\) \(message-log entry \d+\)/);
    expect(out).not.toMatch(/DID NOT ARRIVE/);
  }, 660_000);
});
