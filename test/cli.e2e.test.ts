// The hub as an operator runs it: `tabadol serve` and `tabadol worker` in their own processes.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDataDir } from './helpers/db.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';
import { jsonLines, runTabadol, runToExit, startServe } from './helpers/process.ts';
import { hasServer } from './helpers/servers.ts';
import { waitFor } from './helpers/wait.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe('tabadol serve with embedded defaults', () => {
  it('creates DATA_DIR, migrates, listens, prints its URLs, answers /readyz, and stops cleanly on SIGTERM', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'tabadol-e2e-'));
    cleanup.push(() => rmSync(parent, { recursive: true, force: true }));
    const dataDir = join(parent, 'not-yet-there');
    const hub = await startServe({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    expect(existsSync(join(dataDir, 'pg'))).toBe(true);
    expect(hub.stderr()).toContain(`API reference  ${hub.url}/docs`);
    expect(hub.stderr()).toContain(`${hub.url}/healthz`);
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', queue: 'ok' } });
    const stopped = await hub.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    // Stopped cleanly: the orderly close finished and said so, rather than the shutdown deadline
    // (SHUTDOWN_TIMEOUT_SECONDS, which exits 1 with a message on stderr) or the test's SIGKILL ending the process.
    expect((jsonLines(hub.stdout()) as Array<{ msg?: string }>).map((line) => line.msg).at(-1)).toBe('stopped');
    expect(hub.stderr()).not.toContain('shutdown took longer than');
    expect(existsSync(join(dataDir, 'pg.lock'))).toBe(false);
  });

  it('writes only JSON log lines on stdout; the banner goes to stderr', async () => {
    const dataDir = freshDataDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const hub = await startServe({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
    expect((await hub.stop('SIGTERM')).code).toBe(0);
    const logged = jsonLines(hub.stdout()) as Array<{ msg?: string }>;
    expect(logged.map((line) => line.msg)).toEqual(expect.arrayContaining(['tabadol started', 'stopped']));
    expect(hub.stderr()).toMatch(/^tabadol \S+ is listening on http:\/\/localhost:\d+\n {2}API reference /);
  });

  it('refuses a second process on the same DATA_DIR, and a later start reuses the data', async () => {
    const dataDir = freshDataDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await startServe({ DATA_DIR: dataDir });
    const second = await runToExit(['serve'], { DATA_DIR: dataDir, PORT: '0' });
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(new RegExp(`^tabadol: the embedded database at .* is in use by process ${first.child.pid}`));
    const worker = await runToExit(['worker'], { DATA_DIR: dataDir });
    expect(worker.code).toBe(1);
    expect((await first.stop('SIGINT')).code).toBe(0);

    const again = await startServe({ DATA_DIR: dataDir });
    expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
    expect((await again.stop()).code).toBe(0);
  });
});

describe('tabadol refuses to start with one clear line', () => {
  it.each([
    [{ PORT: 'http' }, /^tabadol: PORT: .*"http"\)$/],
    [{ LOG_LEVEL: 'chatty' }, /^tabadol: LOG_LEVEL: /],
    [{ HUB_ID: 'MA/GOV' }, /^tabadol: HUB_ID: must be INSTANCE\/CLASS\/CODE\/SUBSYSTEM/],
  ])('on a bad setting %j', async (settings, message) => {
    const result = await runToExit(['serve'], { DATA_DIR: join(tmpdir(), 'never-created'), ...settings });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });

  it('when DATABASE_URL cannot be reached, without showing its password', async () => {
    const result = await runToExit(['serve'], { DATA_DIR: join(tmpdir(), 'never-created'), DATABASE_URL: 'postgres://hub:s3cret@127.0.0.1:1/hub' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^tabadol: DATABASE_URL: cannot reach PostgreSQL at postgres:\/\/hub:\*\*\*@127\.0\.0\.1:1\/hub/);
    expect(result.stderr + result.stdout).not.toContain('s3cret');
  });

  it('when the port is taken, before creating anything on disk', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    cleanup.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = String((taken.address() as AddressInfo).port);
    const parent = mkdtempSync(join(tmpdir(), 'tabadol-port-'));
    cleanup.push(() => rmSync(parent, { recursive: true, force: true }));
    const dataDir = join(parent, 'data');
    const result = await runToExit(['serve'], { DATA_DIR: dataDir, PORT: port });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`tabadol: PORT: ${port} is already in use on 0.0.0.0`);
    // No DATA_DIR, no database, no hub key: the next start on a free port begins from nothing, as this one should have.
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe.runIf(hasServer('postgres') && hasServer('redis'))('tabadol on PostgreSQL and Redis', () => {
  it('runs several serve and worker processes on one database and stops each on SIGTERM', async () => {
    const database = `tabadol_e2e_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: testDatabaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    cleanup.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    });
    const url = new URL(testDatabaseUrl);
    url.pathname = `/${database}`;
    const settings = { DATABASE_URL: url.toString(), REDIS_URL: testRedisUrl, DATA_DIR: join(tmpdir(), 'unused-with-postgres') };

    // Started together: migrations serialise on an advisory lock rather than collide.
    const [a, b] = await Promise.all([startServe(settings), startServe(settings)]);
    const worker = runTabadol(['worker'], settings);
    await waitFor(() => worker.stderr().includes('tabadol worker for'), 'the worker banner', { timeoutMs: 30_000 });
    expect(worker.stderr()).toContain('is running (PostgreSQL');
    for (const hub of [a, b]) {
      const ready = await fetch(`${hub.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(hub.stderr()).toContain('storage        PostgreSQL');
      expect(hub.stderr()).toContain('queue: Redis');
    }
    const migrated = new pg.Client({ connectionString: url.toString() });
    await migrated.connect();
    const { rows } = await migrated.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    await migrated.end();
    expect(rows[0]?.n).toBeGreaterThan(0);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect((await a.stop()).code).toBe(0);
    expect((await b.stop()).code).toBe(0);
  });
});
