// Which real servers this run has (decided once by test/global-setup.ts), and a record of what ran without them.
import { appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, inject } from 'vitest';

export type RealServer = 'postgres' | 'redis';
/** Programs some tests drive that a fresh machine may lack (Debian packages that .ci/run installs). */
export type TestTool = 'chromium' | 'python3-jwcrypto';

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

/**
 * Whether the calling test file may run for want of nothing: true when the tool is there, and always under
 * TABADOL_TEST_SERVERS=required (CI), where the file then fails with its own message naming the package. On a
 * machine without it, the file is recorded and named at the end of the run, never skipped silently.
 */
export function hasTool(tool: TestTool, present: boolean): boolean {
  if (present || servers.required) return true;
  const file = expect.getState().testPath ?? 'unknown file';
  appendFileSync(join(servers.reportDir, `tool-${tool}`), `${relative(process.cwd(), file)}\n`);
  return false;
}
