// docs/onboarding.md, run as written: its `sh` blocks in order in one shell, its `sh background` blocks as processes
// left running (the hub, the provider's service), on a fresh data directory and free ports. The page and this test
// cannot drift: change the page and this runs the change.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hubEnv } from './helpers/process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The page's shell blocks, in order; `background` marks a long-running process. */
export function shellBlocks(markdown: string): Array<{ background: boolean; code: string }> {
  return [...markdown.matchAll(/^```sh( background)?\n([\s\S]*?)^```$/gm)].map((m) => ({ background: m[1] !== undefined, code: m[2] ?? '' }));
}

/** One bash script: foreground blocks as they are; each background command started with its output in a file. */
function script(blocks: Array<{ background: boolean; code: string }>): string {
  let n = 0;
  const parts = blocks.map((block) => {
    if (!block.background) return block.code;
    return block.code
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => `( ${line} ) > "$ONBOARDING/background-${++n}.log" 2>&1 &`)
      .join('\n');
  });
  return ['set -euo pipefail', ...parts].join('\n');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('docs/onboarding.md', () => {
  const onboarding = mkdtempSync(join(tmpdir(), 'tabadol-onboarding-'));
  let group: number | undefined;
  afterAll(async () => {
    // The shell's process group: the hub and the provider started in the background.
    if (group) {
      try {
        process.kill(-group, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
    rmSync(onboarding, { recursive: true, force: true });
  });

  it('takes a new ministry from its keys to a verified first call and an intact log, with the commands on the page', async () => {
    const blocks = shellBlocks(readFileSync(join(root, 'docs/onboarding.md'), 'utf8'));
    expect(blocks.filter((b) => b.background)).toHaveLength(2);
    const env = hubEnv({ ONBOARDING: onboarding, PORT: String(await freePort()), PROVIDER_PORT: String(await freePort()) });
    delete env.DEMO; // the page sets it
    const child = spawn('bash', ['-c', script(blocks)], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    group = child.pid;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, `${stdout}\n${stderr}`).toBe(0);

    expect(stdout).toMatch(/operator \S+ \(Opérateur du hub, admin\) added/);
    expect(stdout).toContain('registered MA/GOV/MHPV/marches-habitat (subsystem)');
    expect(stdout).toMatch(/activated MA\.GOV\.METLE\.qualification-btp\.classification--MA\.GOV\.MHPV\.marches-habitat version 1/);
    expect(stdout).toMatch(/^200 \/x\/v1\/MA\/GOV\/METLE\/qualification-btp\/classification\/companies\/\d{15}\/classification$/m);
    expect(stdout).toMatch(/^verified: signed by MA\/GOV\/HUB\/core for request .*message-log entry \d+$/m);
    const answerLine = stdout.split('\n').find((line) => line.startsWith('{"ice"')) ?? '{}';
    const answer = JSON.parse(answerLine) as { qualifications?: Array<Record<string, unknown>> };
    // Minimised to the convention's fields: no decisionDate, no validUntil.
    expect(Object.keys(answer).sort()).toEqual(['ice', 'qualifications', 'raisonSociale', 'statut']);
    expect(Object.keys(answer.qualifications?.[0] ?? {}).sort()).toEqual(['classe', 'qualification', 'secteur']);
    expect(stdout).toMatch(/intact/i);
  }, 900_000);
});
