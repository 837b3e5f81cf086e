// Issue 19 item 7: `tabadol backup` and `tabadol restore` on both drivers. A hub with exchanges logged, golden records
// and a subscription is backed up by the CLI while it runs (on PGlite through its local channel), restored by the CLI
// into a fresh data directory or schema, and a hub started on the copy finds the log's chain verifying, the same
// golden records and subscription, and answers a signed exchange with the restored key. A changed part, a changed
// manifest, a wrong passphrase, a newer schema and a non-empty target are refused with nothing written.
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companiesModule } from '../referentials/companies/module.ts';
import { referentialModules } from '../referentials/index.ts';
import { makeIce } from '../referentials/identifiers/index.ts';
import { loadConfig } from '../src/config.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { addOperator } from '../src/identity/operators.ts';
import { createSubscription } from '../src/sync/subscriptions.ts';
import { verifyLog } from '../src/message-log/index.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import { decryptKeys, manifestSealer } from '../src/storage/backup-crypto.ts';
import { readVerifiedManifest, type BackupManifest } from '../src/storage/backup-manifest.ts';
import type { Db } from '../src/storage/db.ts';
import { loadMigrations } from '../src/storage/migrate.ts';
import { btpService, mefPurpose, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { dropSchema, uniqueSchema } from './helpers/db.ts';
import { testDatabaseUrl } from './helpers/env.ts';
import { captureLogger } from './helpers/hub.ts';
import { runToExit } from './helpers/process.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';

const companies = companiesModule as unknown as ReferentialModule;
const passphrase = 'a long enough backup passphrase';
const setups = [{ storage: 'pglite' as const }, ...(hasServer('postgres') ? [{ storage: 'pg' as const }] : [])];

const urlOnSchema = (schema: string): string => {
  const url = new URL(testDatabaseUrl);
  url.searchParams.set('options', `-c search_path=${schema},public`);
  return url.toString();
};

/** Every row of a table as text, in a stable order: what "the same" means after a restore. */
async function tableText(db: Db, table: string, order: string): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(`SELECT t::text AS t FROM ${table} t ORDER BY ${order}`);
  return rows.map((r) => r.t);
}

const classification = (ice: string): string => `/x/v1/${btpService}/companies/${ice}/classification`;

describe.each(setups)('backup and restore on $storage', ({ storage }) => {
  let world!: ExchangeWorld;
  let root = '';
  let restoredHub: Hub | undefined;
  const schemas: string[] = [];
  let before!: Awaited<ReturnType<typeof snapshot>>;
  let backupDir = '';
  let passFile = '';
  const settingsOf = (world: ExchangeWorld): Record<string, string> => (storage === 'pg' ? { DATABASE_URL: urlOnSchema(world.schema ?? ''), DATA_DIR: join(root, 'cli'), HUB_KEY_FILE: world.hubKeyFile } : { DATA_DIR: world.dataDirs[0] ?? '', HUB_KEY_FILE: world.hubKeyFile });
  const snapshot = async (db: Db) => ({
    goldens: await tableText(db, 'ref_golden', 'id'),
    links: await tableText(db, 'ref_links', 'source_system, source_id'),
    subscriptions: await tableText(db, 'sync_subscriptions', 'id'),
    log: await tableText(db, 'message_log', 'seq'),
    members: await tableText(db, 'members', 'id'),
  });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tabadol-backup-'));
    passFile = join(root, 'passphrase');
    writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
    world = await startExchangeWorld({ storage, redis: false, referentials: referentialModules });
    // Exchanges in the log, golden records, a subscription under its convention, an operator.
    for (let i = 0; i < 3; i++) {
      const request = await world.sign(world.mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
      expect((await world.send(request)).status).toBe(200);
    }
    for (let i = 0; i < 5; i++) {
      await contribute(world.db, companies, { sourceSystem: 'ompic', sourceId: `bk-${i}`, attributes: { ice: makeIce(String(310_000_000 + i)), nameFr: `Société ${i}`, legalForm: 'sarl', status: 'active', commune: '01.051.11.01', if: String(31_000_000 + i) } });
    }
    const member = await world.registerConsumer('MA/GOV/DGI/registre-fiscal');
    await allowSubscription(world, member, { referential: 'companies', purpose: 'fiscal-registry-sync' });
    // Created as the admin API does (a call over HTTP here could meet the server closing an idle keep-alive socket).
    const conventions = world.hubs[0]?.services.conventions;
    if (!conventions) throw new Error('no hub');
    await createSubscription(
      { db: world.db, findConvention: conventions.find.bind(conventions), referentials: referentialModules.map((m) => m.name) },
      { subscriber: member.id, referential: 'companies', purpose: 'fiscal-registry-sync', mode: 'pull', from: 'start', actor: 'test' },
    );
    await addOperator(world.db, { name: 'backup test', role: 'admin', actor: 'test' });
  }, 180_000);

  afterAll(async () => {
    await restoredHub?.close();
    await world?.close();
    for (const schema of schemas) await dropSchema(schema);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('backs up the running hub with the CLI: a sealed manifest, a part per table, the keys encrypted apart', async () => {
    backupDir = join(root, 'backup');
    const run = await runToExit(['backup', '--out', backupDir, '--passphrase-file', passFile], settingsOf(world), 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/backed up \d+ tables, \d+ rows .* at migration \d+/);
    before = await snapshot(world.db);
    expect(before.log.length).toBeGreaterThanOrEqual(3);
    expect(before.goldens.length).toBeGreaterThanOrEqual(5);
    expect(before.subscriptions).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8')) as BackupManifest;
    expect(manifest.driver).toBe(storage);
    expect(manifest.tables.find((t) => t.name === 'message_log')?.rows).toBe(before.log.length);
    // The keys file holds the hub's key file, under the passphrase only.
    const keysText = readFileSync(join(backupDir, 'hub-keys.enc'), 'utf8');
    const subjectKey = (await loadOrCreateHubKeys({ dataDir: '', hubKeyFile: world.hubKeyFile })).subjectKey;
    expect(keysText).not.toContain(subjectKey);
    expect(JSON.parse(decryptKeys(keysText, passphrase).plaintext)).toMatchObject({ subjectKey });
  }, 150_000);

  it('refuses a wrong passphrase, a changed part, a changed manifest and a newer schema, writing nothing', async () => {
    const migrations = loadMigrations();
    await expect(readVerifiedManifest(backupDir, 'not the right passphrase', migrations)).rejects.toThrow(/wrong passphrase/);
    expect(() => decryptKeys(readFileSync(join(backupDir, 'hub-keys.enc'), 'utf8'), 'not the right passphrase')).toThrow(/cannot be decrypted: wrong passphrase/);

    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8')) as BackupManifest;
    const changedPart = join(root, 'changed-part');
    cpSync(backupDir, changedPart, { recursive: true });
    const part = join(changedPart, manifest.tables.find((t) => t.name === 'message_log')?.file ?? '');
    const bytes = readFileSync(part);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    writeFileSync(part, bytes);
    await expect(readVerifiedManifest(changedPart, passphrase, migrations)).rejects.toThrow(/message_log\) is corrupted or was changed/);

    const changedManifest = join(root, 'changed-manifest');
    cpSync(backupDir, changedManifest, { recursive: true });
    const text = readFileSync(join(changedManifest, 'manifest.json'), 'utf8');
    writeFileSync(join(changedManifest, 'manifest.json'), text.replace(/"rows": (\d+)/, (_m, n: string) => `"rows": ${Number(n) + 1}`));
    await expect(readVerifiedManifest(changedManifest, passphrase, migrations)).rejects.toThrow(/manifest was changed/);

    // A backup made by a newer tabadol, sealed properly: refused for its level, not its seal.
    const newer = join(root, 'newer');
    cpSync(backupDir, newer, { recursive: true });
    const sealer = manifestSealer(passphrase);
    const newerBytes = Buffer.from(JSON.stringify({ ...manifest, schemaVersion: 999, sealing: sealer.sealing }));
    writeFileSync(join(newer, 'manifest.json'), newerBytes);
    writeFileSync(join(newer, 'manifest.seal'), sealer.seal(newerBytes));
    await expect(readVerifiedManifest(newer, passphrase, migrations)).rejects.toThrow(/at migration 999, newer than this tabadol's/);

    // Through the CLI: exit 1, the reason, and nothing created where the restore would have gone.
    const target = join(root, 'refused-target');
    const run = await runToExit(['restore', changedPart, '--passphrase-file', passFile], { DATA_DIR: target }, 120_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tabadol: .*is corrupted or was changed.*nothing was written/m);
    expect(existsSync(target)).toBe(false);
    writeFileSync(join(root, 'wrong'), 'not the right passphrase\n', { mode: 0o600 });
    const wrong = await runToExit(['restore', backupDir, '--passphrase-file', join(root, 'wrong')], { DATA_DIR: target }, 120_000);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^tabadol: wrong passphrase.*nothing was written/m);
    expect(existsSync(target)).toBe(false);
    // The hub key file alone (lost, the database intact): --keys-only puts it back and touches no database.
    const keysWrong = await runToExit(['restore', backupDir, '--keys-only', '--passphrase-file', join(root, 'wrong')], { DATA_DIR: target }, 120_000);
    expect(keysWrong.code, keysWrong.stderr).toBe(1);
    expect(keysWrong.stderr).toMatch(/^tabadol: the hub keys cannot be decrypted: wrong passphrase.*nothing was written/m);
    expect(existsSync(target)).toBe(false);
    // Another hub's keys (its id is inside the authenticated header) would sign as this one: refused.
    const otherHub = await runToExit(['restore', backupDir, '--keys-only', '--passphrase-file', passFile], { DATA_DIR: target, HUB_ID: 'MA/GOV/OTHER/hub' }, 120_000);
    expect(otherHub.code, otherHub.stderr).toBe(1);
    expect(otherHub.stderr).toMatch(/^tabadol: --keys .*: these are hub .*'s keys, and HUB_ID here is MA\/GOV\/OTHER\/hub; nothing was written/m);
    expect(existsSync(target)).toBe(false);
    const keysOnly = await runToExit(['restore', backupDir, '--keys-only', '--passphrase-file', passFile], { DATA_DIR: target }, 120_000);
    expect(keysOnly.code, keysOnly.stderr).toBe(0);
    expect(readFileSync(join(target, 'hub-keys.json'), 'utf8')).toBe(readFileSync(world.hubKeyFile, 'utf8'));
    expect(existsSync(join(target, 'pg'))).toBe(false);
    // A passphrase file others can read is refused before it is used.
    chmodSync(passFile, 0o644);
    const readable = await runToExit(['restore', backupDir, '--passphrase-file', passFile], { DATA_DIR: join(root, 'unused') }, 120_000);
    chmodSync(passFile, 0o600);
    expect(readable.stderr).toMatch(/others can read it: chmod 600 it/);
  }, 600_000);

  it('restores into a fresh data directory or schema: the log verifies, records and subscription are the same, the hub answers', async () => {
    const dataDir = join(root, 'restored');
    const schema = uniqueSchema();
    schemas.push(schema);
    const settings: Record<string, string> = storage === 'pg' ? { DATABASE_URL: urlOnSchema(schema), DATA_DIR: dataDir } : { DATA_DIR: dataDir };
    const run = await runToExit(['restore', backupDir, '--passphrase-file', passFile], settings, 180_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/restored \d+ tables/);
    expect(readFileSync(join(dataDir, 'hub-keys.json'), 'utf8')).toBe(readFileSync(world.hubKeyFile, 'utf8'));

    // A second restore into the same target is refused: it is no longer empty.
    const again = await runToExit(['restore', backupDir, '--passphrase-file', passFile], settings, 120_000);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds \d+ table\(s\).*--force/);

    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', HUB_ID: world.hubId, DATA_DIR: dataDir, DEMO: 'off', LOG_LEVEL: 'warn', ...(storage === 'pg' ? { DATABASE_URL: testDatabaseUrl } : {}) });
    restoredHub = await startHub(config, { logger: captureLogger('warn').logger, http: true, workers: false, plugins: [], adapters: {}, referentials: referentialModules, deliveryHandlers: {}, syncAdapters: [], ...(storage === 'pg' ? { schema } : {}) });
    const keyring = new HubKeyring(world.hubId, await loadOrCreateHubKeys({ dataDir }));
    const verified = await verifyLog(restoredHub.db, keyring);
    expect(verified.problems).toEqual([]);
    expect(verified.rowsChecked).toBe(before.log.length);
    expect(await snapshot(restoredHub.db)).toEqual(before);

    // The restored hub signs with the restored key, and its log's chain goes on from the restored head.
    const request = await world.sign(world.mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose });
    const answer = await fetch(`${restoredHub.url ?? ''}${request.target}`, { headers: request.headers });
    const body = Buffer.from(await answer.arrayBuffer());
    expect(answer.status, body.toString()).toBe(200);
    const headers = Object.fromEntries(answer.headers.entries());
    await world.verifyAnswer({ status: answer.status, headers, body, text: body.toString(), json: JSON.parse(body.toString()) as unknown }, request.signature);
    expect(await (await fetch(`${restoredHub.url ?? ''}/.well-known/jwks.json`)).json()).toEqual(await world.jwks());
    const after = await verifyLog(restoredHub.db, keyring);
    expect(after.problems).toEqual([]);
    expect(after.rowsChecked).toBe(before.log.length + 1);
  }, 240_000);
});
