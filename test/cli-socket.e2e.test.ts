// Operating the embedded hub without stopping it: the admin commands reach the running hub's database through its
// local channel (a Unix socket in DATA_DIR, mode 0600), and only the data directory's owner can use it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/storage/index.ts';
import { openLocalChannel } from '../src/storage/local-channel.ts';
import { connectLocalDb } from '../src/storage/local-db.ts';
import { createLogger } from '../src/observability/logger.ts';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { freshDataDir } from './helpers/db.ts';
import { runToExit, startServe, type RunningHub } from './helpers/process.ts';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe('admin commands while the embedded hub runs', { timeout: 240_000 }, () => {
  let dataDir: string;
  let work: string;
  let hub: RunningHub;
  const tabadol = (...args: string[]) => runToExit(args, { DATA_DIR: dataDir }, 60_000);

  beforeAll(async () => {
    dataDir = freshDataDir();
    work = mkdtempSync(join(tmpdir(), 'tabadol-cli-socket-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanup.push(() => rmSync(work, { recursive: true, force: true }));
    hub = await startServe({ DATA_DIR: dataDir });
    cleanup.push(() => hub.stop());
  }, 120_000);

  it('listens on DATA_DIR/admin.sock, a socket only its owner may open', () => {
    const socket = statSync(join(dataDir, 'admin.sock'));
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect(socket.uid).toBe(process.getuid?.());
  });

  it('refuses another user (when the tests run as root, which can switch to nobody)', (context) => {
    if (process.getuid?.() !== 0) context.skip();
    const probe = `require('node:net').connect(${JSON.stringify(join(dataDir, 'admin.sock'))}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
    const run = spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8' });
    expect(run.stdout.trim()).toMatch(/^(EACCES|ENOENT)$/);
  });

  it('runs operator add, keys, member add, member list and log verify without stopping the hub', async () => {
    const operator = await tabadol('operator', 'add', '--name', 'Première administratrice', '--role', 'admin');
    expect(operator.stderr).toBe('');
    expect(operator.code).toBe(0);
    const token = operator.stdout.split('\n')[1] ?? '';
    expect(token).toMatch(/^tbd_op_/);
    // The running hub accepts the token at once: it was written to its own database.
    const members = await fetch(`${hub.url}/admin/v1/members`, { headers: { authorization: `Bearer ${token}` } });
    expect(members.status).toBe(200);

    const keys = await tabadol('keys', 'generate', '--out', join(work, 'mj-keys'));
    expect(keys.code, keys.stderr).toBe(0);
    const added = await tabadol('member', 'add', 'MA/GOV/MJ/casier-judiciaire', '--name', 'Ministère de la Justice: casier judiciaire', '--jwks', join(work, 'mj-keys', 'public.jwks'));
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/^registered MA\/GOV\/MJ\/casier-judiciaire \(subsystem\) with key\(s\) /);
    const listed = await tabadol('member', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('MA/GOV/MJ/casier-judiciaire');
    // A refusal inside a transaction comes back as the same refusal, and leaves the hub serving.
    const again = await tabadol('member', 'add', 'MA/GOV/MJ/casier-judiciaire', '--name', 'x', '--jwks', join(work, 'mj-keys', 'public.jwks'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^tabadol: .*already/);
    // The hash chain's bytes cross the channel as bytes.
    const verified = await tabadol('log', 'verify');
    expect(verified.code, verified.stderr).toBe(0);
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
  });

  it('imports a file through the channel (transactions held by the hub for the CLI)', async () => {
    const file = join(work, 'companies.ndjson');
    writeFileSync(file, `${JSON.stringify({ sourceSystem: 'MA/GOV/MJ/casier-judiciaire', sourceId: 'c-1', attributes: { ice: demoIces.qualified, nameFr: 'Atlas Travaux SARL' } })}\n`);
    const run = await tabadol('import', file, '--referential', 'companies');
    expect(run.stderr).not.toMatch(/tabadol:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/applied +1 \(created 1,/);
  });

  it('is gone when the hub stops, and the commands open the database themselves again', async () => {
    expect((await hub.stop()).code).toBe(0);
    expect(() => statSync(join(dataDir, 'admin.sock'))).toThrow();
    const listed = await tabadol('member', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('MA/GOV/MJ/casier-judiciaire');
  });
});

describe('the local channel', () => {
  it('rolls back a transaction whose CLI went away, and the hub goes on', async () => {
    const dataDir = freshDataDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const db = await openDatabase({ dataDir });
    const channel = await openLocalChannel(db, dataDir, createLogger('silent'));
    cleanup.push(async () => {
      await channel?.close();
      await db.close();
    });
    await db.exec('CREATE TABLE channel_probe (n int)');

    const cli = await connectLocalDb(dataDir);
    if (!cli) throw new Error('no channel');
    let inside!: () => void;
    const reached = new Promise<void>((resolve) => (inside = resolve));
    const abandoned = cli.transaction(async (tx) => {
      await tx.query('INSERT INTO channel_probe VALUES (1)');
      inside();
      await new Promise(() => undefined); // the CLI dies here
    });
    abandoned.catch(() => undefined);
    await reached;
    await cli.close();
    // The hub's connection is free again and the insert did not survive.
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM channel_probe');
    expect(rows[0]?.n).toBe(0);

    const second = await connectLocalDb(dataDir);
    if (!second) throw new Error('no channel');
    const when = new Date('2026-03-01T10:00:00.000Z');
    const { rows: typed } = await second.query<{ at: Date; b: Uint8Array; big: string }>("SELECT $1::timestamptz AS at, '\\x0102ff'::bytea AS b, 9007199254740993::int8 AS big", [when]);
    expect(typed[0]?.at).toEqual(when);
    expect([...(typed[0]?.b ?? [])]).toEqual([1, 2, 255]);
    expect(typed[0]?.big).toBe('9007199254740993');
    await expect(second.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    await second.close();
  }, 60_000);

  it('answers nothing to a socket that is not there (the CLI then opens the database itself)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabadol-nochannel-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    expect(await connectLocalDb(dir)).toBeUndefined();
  });
});
