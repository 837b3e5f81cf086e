// A backup's manifest (docs/decisions.md §23): what the backup holds (each table's part with its SHA-256, the
// sequences, the migration level, the hub's version), sealed under the backup's passphrase; and its checks.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestSealing } from './backup-crypto.ts';
import { verifyManifestSeal } from './backup-crypto.ts';
import type { Migration } from './migrate.ts';

export const manifestFile = 'manifest.json';
export const sealFile = 'manifest.seal';
export const defaultKeysFile = 'hub-keys.enc';

export interface BackupColumn {
  name: string;
  /** format_type() of the column: the cast each value's text goes through on restore. */
  type: string;
}

export interface BackupTable {
  name: string;
  columns: BackupColumn[];
  rows: number;
  /** Relative to the backup directory: gzip'd NDJSON, one JSON array of column texts (or null) a line. */
  file: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: 'tabadol-backup';
  formatVersion: 1;
  hubVersion: string;
  hubId: string;
  createdAt: string;
  /** The driver it was read from; a backup restores into either. */
  driver: 'pg' | 'pglite';
  /** The highest migration applied to the database backed up, and every migration's checksum up to it. */
  schemaVersion: number;
  migrations: Array<{ version: number; name: string; checksum: string }>;
  tables: BackupTable[];
  sequences: Array<{ name: string; value: string; isCalled: boolean }>;
  sealing: ManifestSealing;
}

/** A backup that cannot be restored as it is (corrupted, changed, newer than this code): nothing has been written. */
export class BackupRefusedError extends Error {
  override name = 'BackupRefusedError';
}

export async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function readOrRefuse(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new BackupRefusedError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): ${what}`);
  }
}

const safePart = /^tables\/[0-9]{4}-[a-z_][a-z0-9_]{0,62}\.ndjson\.gz$/;

/**
 * Reads and checks a backup before anything is written: the passphrase, the manifest's seal, the migration level
 * against this code's migrations, and every part's size and SHA-256 (read through once).
 */
export async function readVerifiedManifest(dir: string, passphrase: string, migrations: Migration[]): Promise<BackupManifest> {
  const bytes = readOrRefuse(join(dir, manifestFile), 'not a tabadol backup directory, or an incomplete one (the manifest is written last)');
  const seal = readOrRefuse(join(dir, sealFile), 'the manifest has no seal').toString('utf8').trim();
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as BackupManifest;
  } catch {
    throw new BackupRefusedError(`${join(dir, manifestFile)}: is not JSON`);
  }
  if (manifest?.format !== 'tabadol-backup' || typeof manifest.sealing !== 'object' || manifest.sealing === null) throw new BackupRefusedError(`${join(dir, manifestFile)}: not a tabadol backup manifest`);
  if (manifest.formatVersion !== 1) throw new BackupRefusedError(`the backup's format version ${String(manifest.formatVersion)} is newer than this tabadol reads (1): restore it with tabadol ${manifest.hubVersion} or later`);
  verifyManifestSeal(passphrase, manifest.sealing, bytes, seal);

  const known = migrations.at(-1)?.version ?? 0;
  if (manifest.schemaVersion > known) {
    throw new BackupRefusedError(`the backup's database is at migration ${manifest.schemaVersion}, newer than this tabadol's ${known} (it was made by tabadol ${manifest.hubVersion}): restore it with that version or later`);
  }
  for (const recorded of manifest.migrations) {
    const ours = migrations.find((m) => m.version === recorded.version);
    if (!ours || ours.checksum !== recorded.checksum) {
      throw new BackupRefusedError(`the backup's migration ${recorded.version}_${recorded.name} is not this tabadol's (a different checksum): restore it with tabadol ${manifest.hubVersion}`);
    }
  }
  for (const table of manifest.tables) {
    if (!safePart.test(table.file)) throw new BackupRefusedError(`the manifest names a part outside the backup: ${JSON.stringify(table.file)}`);
    let actual: { sha256: string; bytes: number };
    try {
      actual = await sha256OfFile(join(dir, table.file));
    } catch (err) {
      throw new BackupRefusedError(`${table.file} (table ${table.name}) is missing or unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'}): the backup is incomplete`);
    }
    if (actual.bytes !== table.bytes || actual.sha256 !== table.sha256) {
      throw new BackupRefusedError(`${table.file} (table ${table.name}) is corrupted or was changed: its SHA-256 is not the manifest's`);
    }
  }
  return manifest;
}
