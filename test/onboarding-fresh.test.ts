// What a newcomer meets on a fresh clone (issue 13): `npm test` without PostgreSQL or Redis, the offline /docs, the one spec.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
