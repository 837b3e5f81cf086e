// Runs once before the suite: checks that the real PostgreSQL and Redis are reachable (failing loudly, never skipping)
// and initialises one PGlite data directory that test files copy instead of each paying for initdb.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import type { TestProject } from 'vitest/node';
import { PGlite } from '@electric-sql/pglite';
import { pgliteExtensions } from '../src/storage/pglite.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';

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
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  for (const [name, url, port] of [
    ['PostgreSQL (DATABASE_URL)', testDatabaseUrl, 5432],
    ['Redis (REDIS_URL)', testRedisUrl, 6379],
  ] as const) {
    try {
      await reachable(url, port);
    } catch (err) {
      throw new Error(`${name} is not reachable at ${url}: ${(err as Error).message}. The suite runs every storage and queue test against the real servers too; start them (see .ci/run) and run again.`);
    }
  }
  const template = mkdtempSync(join(tmpdir(), 'tabadol-pglite-template-'));
  const pglite = await PGlite.create(join(template, 'pg'), { extensions: pgliteExtensions });
  await pglite.close();
  project.provide('pgliteTemplate', template);
  return () => rmSync(template, { recursive: true, force: true });
}
