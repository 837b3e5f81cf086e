// `tabadol backup` and `tabadol restore` (docs/operations.md, "Continuity of service"; docs/decisions.md §23): the
// database copied in one snapshot into a sealed, checksummed directory, the hub's keys encrypted apart under a
// passphrase; and the copy loaded into an empty database or data directory in one transaction.
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { hubKeyPath, HubKeyring, readKeyFile, writeKeyFile, type HubKeyFile } from '../../identity/hub-keys.ts';
import { safeUrl } from '../../observability/logger.ts';
import { writeBackup } from '../../storage/backup.ts';
import { BackupSecretError, decryptKeys, encryptKeys } from '../../storage/backup-crypto.ts';
import { BackupRefusedError, defaultKeysFile, readVerifiedManifest } from '../../storage/backup-manifest.ts';
import type { Db } from '../../storage/db.ts';
import { DataDirInUseError } from '../../storage/dir-lock.ts';
import { connectLocalDb } from '../../storage/local-db.ts';
import { loadMigrations } from '../../storage/migrate.ts';
import { openPgDb } from '../../storage/pg.ts';
import { openPgliteDb } from '../../storage/pglite.ts';
import { restoreBackup, RestoreTargetNotEmptyError } from '../../storage/restore.ts';
import { action, CliRefusalError, printLines, withConfigOption, type CliDeps } from '../run.ts';

type ConfigOpts = { config?: string; passphraseFile?: string };

/** From a file only its owner reads, or TABADOL_BACKUP_PASSPHRASE: never an argument (arguments show in `ps`). */
function readPassphrase(config: Config, file: string | undefined): string {
  if (file !== undefined) {
    let text: string;
    try {
      if ((statSync(file).mode & 0o077) !== 0) throw new CliRefusalError([`--passphrase-file ${file}: others can read it: chmod 600 it`]);
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof CliRefusalError) throw err;
      throw new CliRefusalError([`--passphrase-file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    return text.replace(/\r?\n$/, '');
  }
  if (config.TABADOL_BACKUP_PASSPHRASE) return config.TABADOL_BACKUP_PASSPHRASE;
  throw new CliRefusalError(['a passphrase is needed: --passphrase-file FILE, or the TABADOL_BACKUP_PASSPHRASE variable (never on the command line)']);
}

/** The database as it is, not migrated: a backup records its level, a restore sets it. */
async function openUnmigrated(config: Config, purpose: 'backup' | 'restore'): Promise<Db> {
  if (config.DATABASE_URL) {
    try {
      return await openPgDb({ url: config.DATABASE_URL, poolSize: 2 });
    } catch (err) {
      throw new CliRefusalError([`DATABASE_URL: cannot reach PostgreSQL at ${safeUrl(config.DATABASE_URL)} (${(err as Error).message})`]);
    }
  }
  try {
    return await openPgliteDb({ dataDir: config.DATA_DIR });
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    if (purpose === 'restore') throw new CliRefusalError([`${err.message}: a restore replaces the hub's database; stop the hub first`]);
    // The running hub lends its database (decisions §16); its work waits while the snapshot is read.
    const running = await connectLocalDb(config.DATA_DIR);
    if (!running) throw new CliRefusalError([`${err.message}, and it does not answer on its local channel: stop it, then back up`]);
    return running;
  }
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function refuse(err: unknown): never {
  if (err instanceof BackupSecretError || err instanceof BackupRefusedError || err instanceof RestoreTargetNotEmptyError) throw new CliRefusalError([`${err.message}; nothing was written`]);
  throw err;
}

function parseHubKeys(plaintext: string): HubKeyFile {
  const file = JSON.parse(plaintext) as HubKeyFile;
  new HubKeyring('MA/GOV/HUB/check', file); // throws on a file without a current key
  return file;
}

/** The backed-up keys, decrypted and checked; refused when a different key file is in place (unless force). */
function readBackedUpKeys(file: string, passphrase: string, target: string, force: boolean, hubId: string): HubKeyFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliRefusalError([`--keys ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); --no-keys restores the database alone; nothing was written`]);
  }
  let keys: HubKeyFile;
  let keysHubId: string;
  try {
    const decrypted = decryptKeys(text, passphrase);
    keys = parseHubKeys(decrypted.plaintext);
    keysHubId = decrypted.hubId;
  } catch (err) {
    return refuse(err);
  }
  // The hub id is inside the authenticated header: another hub's keys would sign as this one.
  if (keysHubId !== hubId) throw new CliRefusalError([`--keys ${file}: these are hub ${keysHubId}'s keys, and HUB_ID here is ${hubId}; nothing was written`]);
  if (existsSync(target) && !force && JSON.stringify(readKeyFile(target)) !== JSON.stringify(keys)) {
    throw new CliRefusalError([`${target} holds other hub keys: move it away, or --force to replace it; nothing was written`]);
  }
  return keys;
}

function registerBackup(program: Command, deps: CliDeps): void {
  withConfigOption(program.command('backup'))
    .description("copy the database (one snapshot, checksummed, sealed) and the hub's keys (encrypted with a passphrase, apart)")
    .requiredOption('--out <dir>', 'a new or empty directory for the copy')
    .option('--keys-out <file>', `where the encrypted hub keys go (default DIR/${defaultKeysFile}; keep them apart from the copy)`)
    .option('--passphrase-file <file>', 'the passphrase, in a file only its owner reads (or TABADOL_BACKUP_PASSPHRASE)')
    .action(
      action(async (opts: ConfigOpts & { out: string; keysOut?: string }) => {
        const config = deps.readConfig(opts.config);
        const passphrase = readPassphrase(config, opts.passphraseFile);
        const keysPath = hubKeyPath({ dataDir: config.DATA_DIR, hubKeyFile: config.HUB_KEY_FILE });
        if (!existsSync(keysPath)) throw new CliRefusalError([`no hub keys at ${keysPath}: a backup holds them (set HUB_KEY_FILE to where this hub's keys are)`]);
        const keysOut = opts.keysOut ?? join(opts.out, defaultKeysFile);
        if (existsSync(keysOut)) throw new CliRefusalError([`--keys-out ${keysOut}: already exists; a backup never overwrites one`]);
        const keysText = encryptKeys(JSON.stringify(readKeyFile(keysPath)), passphrase, { hubId: config.HUB_ID });
        const started = performance.now();
        const db = await openUnmigrated(config, 'backup');
        let result;
        try {
          result = await writeBackup(db, { dir: opts.out, passphrase, hubId: config.HUB_ID }).catch(refuse);
        } finally {
          await db.close();
        }
        writeFileSync(keysOut, keysText, { mode: 0o600, flag: 'wx' });
        const rows = result.manifest.tables.reduce((sum, t) => sum + t.rows, 0);
        printLines([
          `backed up ${result.manifest.tables.length} tables, ${rows} rows (${megabytes(result.bytes)}) at migration ${result.manifest.schemaVersion} in ${seconds(started)} to ${opts.out}`,
          `hub keys encrypted to ${keysOut}: keep them apart from the copy, and the passphrase apart from both`,
        ]);
      }),
    );
}

function registerRestore(program: Command, deps: CliDeps): void {
  withConfigOption(program.command('restore').argument('<dir>', 'a directory written by tabadol backup'))
    .description("load a backup into an empty database or data directory, in one transaction, and put the hub's keys back")
    .option('--keys <file>', `the encrypted hub keys (default DIR/${defaultKeysFile})`)
    .option('--no-keys', 'restore the database only (the hub keys are already in place)')
    .option('--passphrase-file <file>', 'the passphrase, in a file only its owner reads (or TABADOL_BACKUP_PASSPHRASE)')
    .option('--keys-only', 'put the hub keys back and leave the database alone (the hub key file was lost)')
    .option('--force', 'replace the database (and a different hub key file) already there')
    .action(
      action(async (dir: string, opts: ConfigOpts & { keys: string | boolean; keysOnly?: boolean; force?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const passphrase = readPassphrase(config, opts.passphraseFile);
        const keysTarget = hubKeyPath({ dataDir: config.DATA_DIR, hubKeyFile: config.HUB_KEY_FILE });
        if (opts.keysOnly && opts.keys === false) throw new CliRefusalError(['--keys-only and --no-keys: nothing would be restored']);
        const keysFile = typeof opts.keys === 'string' ? opts.keys : join(dir, defaultKeysFile);
        if (opts.keysOnly) {
          const keys = readBackedUpKeys(keysFile, passphrase, keysTarget, opts.force === true, config.HUB_ID);
          writeKeyFile(keysTarget, keys);
          printLines([`hub keys written to ${keysTarget} (${keys.keys.length} signing key(s) and the subject-HMAC secret); restart the hub processes`]);
          return;
        }
        // Everything is checked before anything is written: the passphrase, the seal, every part, the keys.
        const migrations = loadMigrations();
        const manifest = await readVerifiedManifest(dir, passphrase, migrations).catch(refuse);
        if (manifest.hubId !== config.HUB_ID) throw new CliRefusalError([`the backup is of hub ${manifest.hubId}, and HUB_ID here is ${config.HUB_ID}: set HUB_ID=${manifest.hubId}; nothing was written`]);
        const keys = opts.keys === false ? undefined : readBackedUpKeys(keysFile, passphrase, keysTarget, opts.force === true, config.HUB_ID);
        const started = performance.now();
        const db = await openUnmigrated(config, 'restore');
        let result;
        try {
          result = await restoreBackup(db, { manifest, dir, migrations, force: opts.force }).catch(refuse);
        } finally {
          await db.close();
        }
        if (keys) writeKeyFile(keysTarget, keys);
        const target = config.DATABASE_URL ? `PostgreSQL ${safeUrl(config.DATABASE_URL)}` : `${config.DATA_DIR}/pg`;
        printLines([
          `restored ${result.tables} tables, ${result.rows} rows into ${target} in ${seconds(started)} (backup of ${manifest.createdAt}, migration ${manifest.schemaVersion}, now ${migrations.at(-1)?.version ?? 0})`,
          keys ? `hub keys written to ${keysTarget}` : 'hub keys left as they are (--no-keys)',
          'Check it: tabadol log verify; then start the hub.',
        ]);
      }),
    );
}

export function registerBackupCommands(program: Command, deps: CliDeps): void {
  registerBackup(program, deps);
  registerRestore(program, deps);
}
