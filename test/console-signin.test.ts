// Console sign-in details without a browser: `tabadol operator passwd` (a scrypt hash from standard input, audited)
// as a person runs it, and the demo admin that the embedded default creates once and names in the start banner.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { consoleDemoPlugin } from '../src/console/demo-operator.ts';
import { addOperator, authenticateOperatorPassword } from '../src/identity/operators.ts';
import { hashPassword, verifyPassword } from '../src/identity/passwords.ts';
import { startHub } from '../src/runtime.ts';
import { openDatabase } from '../src/storage/index.ts';
import { freshDataDir } from './helpers/db.ts';
import { captureLogger } from './helpers/hub.ts';
import { hubEnv } from './helpers/process.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tabadolWithInput(args: string[], input: string, dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'tabadol.js'), ...args], { env: hubEnv({ DATA_DIR: dataDir }), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('operator passwords', () => {
  it('hashes with scrypt and verifies only the same password', async () => {
    const hash = await hashPassword('un mot de passe assez long');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword('un mot de passe assez long', hash)).toBe(true);
    expect(await verifyPassword('un mot de passe assez lonG', hash)).toBe(false);
    expect(await verifyPassword('un mot de passe assez long', undefined)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1048576$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43))).toBe(false);
  });

  it('`tabadol operator passwd` sets a password read from standard input, audited as the CLI user', async () => {
    const dataDir = freshDataDir();
    dirs.push(dataDir);
    const config = loadConfig({ DATA_DIR: dataDir, DEMO: 'off' });
    let db = await openDatabase({ dataDir: config.DATA_DIR });
    const { operator } = await addOperator(db, { name: 'Nadia', role: 'steward', actor: 'test' });
    await db.close();
    const short = await tabadolWithInput(['operator', 'passwd', operator.id], 'court\n', dataDir);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toContain('password: must be 12 to 256 characters');
    const set = await tabadolWithInput(['operator', 'passwd', operator.id], 'cèdre-atlas-2026 !\n', dataDir);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`operator ${operator.id}: console password set`);
    db = await openDatabase({ dataDir: config.DATA_DIR });
    try {
      expect(await authenticateOperatorPassword(db, operator.id, 'cèdre-atlas-2026 !')).toMatchObject({ id: operator.id, role: 'steward' });
      expect(await authenticateOperatorPassword(db, operator.id, 'cèdre-atlas-2026 !\n')).toBeUndefined();
      const { rows } = await db.query<{ actor: string }>("SELECT actor FROM admin_audit WHERE action = 'operator.passwd' AND target = $1", [operator.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.actor).toMatch(/^cli:/);
    } finally {
      await db.close();
    }
  }, 240_000);
});

describe('the demo admin of the embedded default', () => {
  it('is created once, its password in a 0600 file named by the banner, and signs in', async () => {
    const dataDir = freshDataDir();
    dirs.push(dataDir);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: 'on' });
    const start = () => startHub(config, { plugins: [consoleDemoPlugin], logger: captureLogger('warn').logger, http: true, workers: false });
    let hub = await start();
    const file = join(dataDir, 'demo', 'console-admin');
    try {
      expect(hub.banners.join('\n')).toContain(file);
      expect(hub.banners.join('\n')).toContain('/console');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const [, id = '', password = ''] = /^operator: (\S+)\npassword: (\S+)\n$/.exec(readFileSync(file, 'utf8')) ?? [];
      expect(hub.banners.join('\n')).not.toContain(password);
      expect(await authenticateOperatorPassword(hub.db, id, password)).toMatchObject({ id, role: 'admin' });
    } finally {
      await hub.close();
    }
    const before = readFileSync(file, 'utf8');
    hub = await start();
    try {
      // A second start keeps the same operator and password.
      expect(readFileSync(file, 'utf8')).toBe(before);
      const { rows } = await hub.db.query<{ n: number }>("SELECT count(*)::int AS n FROM operators WHERE name = 'Administrateur de démonstration'");
      expect(rows[0]?.n).toBe(1);
    } finally {
      await hub.close();
    }
  }, 90_000);
});
