// Runs once before the suite. Decides which real servers the run uses, and initialises one PGlite data directory that
// test files copy instead of each paying for initdb.
//
// The real servers (PostgreSQL, Redis), per TABADOL_TEST_SERVERS:
// - unset: a server named by DATABASE_URL / REDIS_URL must answer (the run fails otherwise); an unnamed one is used when
//   it answers on its default port, and left out when nothing answers there (a fresh machine): the run then ends with one
//   line naming the test files that did not run on it and how to run them;
// - `required` (CI, .ci/run): both must answer, whether named or not;
// - `none`: neither is used, even if it answers (to see the fresh-machine run on a machine that has them).
// Whatever the mode, nothing is skipped silently: a left-out server is named at the end of the run.
import { existsSync, readdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import type { TestProject } from 'vitest/node';
import { PGlite } from '@electric-sql/pglite';
import { pgliteExtensions } from '../src/storage/pglite.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';
import type { RealServer } from './helpers/servers.ts';

function reachable(url: string, defaultPort: number): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.setTimeout(3000);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('timed out'));
    });
    socket.once('error', reject);
    socket.connect(Number(port || defaultPort), hostname);
  });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    testServers: { postgres: boolean; redis: boolean; required: boolean; reportDir: string };
  }
}

type Mode = 'auto' | 'required' | 'none';

function testServersMode(value: string | undefined): Mode {
  if (value === undefined || value === '') return 'auto';
  if (value === 'required' || value === 'none') return value;
  throw new Error(`TABADOL_TEST_SERVERS: must be "required" or "none" (or unset), not ${JSON.stringify(value)}`);
}

const realServers = [
  { server: 'postgres', name: 'PostgreSQL', variable: 'DATABASE_URL', url: testDatabaseUrl, port: 5432 },
  { server: 'redis', name: 'Redis', variable: 'REDIS_URL', url: testRedisUrl, port: 6379 },
] as const satisfies readonly { server: RealServer; [key: string]: unknown }[];

async function present(mode: Mode, entry: (typeof realServers)[number]): Promise<boolean> {
  if (mode === 'none') return false;
  const named = Boolean(process.env[entry.variable]);
  try {
    await reachable(entry.url, entry.port);
    return true;
  } catch (err) {
    if (mode === 'auto' && !named) return false;
    const why = mode === 'required' ? 'TABADOL_TEST_SERVERS=required' : `${entry.variable} is set`;
    throw new Error(`${entry.name} (${entry.variable}) is not reachable at ${entry.url}: ${(err as Error).message}. ${why}, so every storage and queue test runs on it too; start it (see .ci/run) and run again.`);
  }
}

/** The run's closing line when a real server was left out: which files did not run on it, why, and how to run them. */
function leftOutLine(reportDir: string, found: Record<RealServer, boolean>, mode: Mode): string | undefined {
  const parts: string[] = [];
  for (const entry of realServers) {
    if (found[entry.server]) continue;
    const file = join(reportDir, entry.server);
    const files = existsSync(file) ? [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))].sort() : [];
    const why = mode === 'none' ? 'TABADOL_TEST_SERVERS=none' : `nothing answers at ${entry.url}`;
    parts.push(`on ${entry.name} (${why}): ${files.join(', ') || 'no file'}`);
  }
  if (parts.length === 0) return undefined;
  return `tabadol: embedded drivers only; not run ${parts.join('; ')}. To run them: start PostgreSQL and Redis (or set DATABASE_URL and REDIS_URL), then \`TABADOL_TEST_SERVERS=required npm test\`.`;
}

/** The line naming the files left out for want of a program (Chromium, Python's jwcrypto), and how to get them. */
function leftOutToolsLine(reportDir: string): string | undefined {
  const parts: string[] = [];
  for (const name of readdirSync(reportDir).filter((n) => n.startsWith('tool-')).sort()) {
    const files = [...new Set(readFileSync(join(reportDir, name), 'utf8').split('\n').filter(Boolean))].sort();
    parts.push(`for want of ${name.slice('tool-'.length)}: ${files.join(', ')}`);
  }
  if (parts.length === 0) return undefined;
  return `tabadol: not run ${parts.join('; ')}. To run them: \`apt-get install -y chromium python3-jwcrypto\` (Debian; .ci/run does), then npm test.`;
}

export default async function setup(project: TestProject): Promise<() => void> {
  const mode = testServersMode(process.env.TABADOL_TEST_SERVERS);
  const found = { postgres: false, redis: false };
  for (const entry of realServers) found[entry.server] = await present(mode, entry);
  const reportDir = mkdtempSync(join(tmpdir(), 'tabadol-test-servers-'));
  project.provide('testServers', { ...found, required: mode === 'required', reportDir });

  const template = mkdtempSync(join(tmpdir(), 'tabadol-pglite-template-'));
  const pglite = await PGlite.create(join(template, 'pg'), { extensions: pgliteExtensions });
  await pglite.close();
  project.provide('pgliteTemplate', template);
  return () => {
    const line = leftOutLine(reportDir, found, mode);
    if (line) process.stdout.write(`\n${line}\n`);
    const tools = leftOutToolsLine(reportDir);
    if (tools) process.stdout.write(`${line ? '' : '\n'}${tools}\n`);
    rmSync(reportDir, { recursive: true, force: true });
    rmSync(template, { recursive: true, force: true });
  };
}
