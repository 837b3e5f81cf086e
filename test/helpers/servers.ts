// Which real servers this run has (decided once by test/global-setup.ts), and a record of what ran without them.
import { appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, inject } from 'vitest';

export type RealServer = 'postgres' | 'redis';

export const servers = inject('testServers');

/**
 * Whether the calling test file may use this real server. When it may not (a fresh machine without it), the file is
 * recorded so that the run ends by naming what it did not run, instead of skipping it silently.
 */
export function hasServer(server: RealServer): boolean {
  if (servers[server]) return true;
  const file = expect.getState().testPath ?? 'unknown file';
  appendFileSync(join(servers.reportDir, server), `${relative(process.cwd(), file)}\n`);
  return false;
}
