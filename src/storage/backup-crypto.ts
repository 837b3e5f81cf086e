// The passphrase side of a backup (docs/decisions.md §23): the hub's keys encrypted apart (scrypt, then AES-256-GCM),
// and the manifest sealed with an HMAC under the same passphrase, so that a backup changed anywhere is refused.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** scrypt's parameters, kept with what they protect so that a later version may raise them. */
export interface PassphraseKdf {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  /** base64url, 16 bytes. */
  salt: string;
}

/** A passphrase that is wrong, too short, or a sealed file that was changed: nothing has been written. */
export class BackupSecretError extends Error {
  override name = 'BackupSecretError';
}

/** 2^16 × 8 × 128 bytes = 64 MiB of memory per derivation: about a tenth of a second here, costly to guess at scale. */
const defaultCost = { N: 2 ** 16, r: 8, p: 1 } as const;
const maxScryptMemory = 256 * 1024 * 1024;
export const minPassphraseLength = 12;

export function newKdf(): PassphraseKdf {
  return { name: 'scrypt', ...defaultCost, salt: randomBytes(16).toString('base64url') };
}

export function checkPassphrase(passphrase: string): void {
  if ([...passphrase].length < minPassphraseLength) throw new BackupSecretError(`the passphrase must have at least ${minPassphraseLength} characters`);
}

function masterKey(passphrase: string, kdf: PassphraseKdf): Buffer {
  if (
    typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt' || typeof kdf.salt !== 'string' ||
    !Number.isInteger(kdf.N) || kdf.N < 2 ** 14 || kdf.N > 2 ** 20 || !Number.isInteger(kdf.r) || kdf.r < 1 || kdf.r > 32 || !Number.isInteger(kdf.p) || kdf.p < 1 || kdf.p > 4 ||
    128 * kdf.N * kdf.r > maxScryptMemory / 2
  ) {
    throw new BackupSecretError('the key derivation parameters are not ones this version accepts');
  }
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64url'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: maxScryptMemory });
}

/** One scrypt per file, then a sub-key per use: the passphrase check, the seal and the cipher never share a key. */
function subKey(master: Buffer, use: 'check' | 'seal' | 'keys'): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `tabadol-backup/${use}`, 32));
}

const hmac = (key: Buffer, bytes: Buffer | string): Buffer => createHmac('sha256', key).update(bytes).digest();

/** What a manifest carries to say "this passphrase" apart from "this file was changed". */
export interface ManifestSealing {
  kdf: PassphraseKdf;
  /** base64url HMAC of a fixed string: matches only under the backup's passphrase. */
  check: string;
}

export interface ManifestSealer {
  sealing: ManifestSealing;
  /** The seal of the manifest's exact bytes (base64url). */
  seal(bytes: Buffer): string;
}

export function manifestSealer(passphrase: string): ManifestSealer {
  checkPassphrase(passphrase);
  const kdf = newKdf();
  const master = masterKey(passphrase, kdf);
  return {
    sealing: { kdf, check: hmac(subKey(master, 'check'), 'tabadol-backup').toString('base64url') },
    seal: (bytes) => hmac(subKey(master, 'seal'), bytes).toString('base64url'),
  };
}

const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/** Refuses a wrong passphrase, then a manifest whose bytes are not the ones sealed. */
export function verifyManifestSeal(passphrase: string, sealing: ManifestSealing, manifestBytes: Buffer, seal: string): void {
  const master = masterKey(passphrase, sealing.kdf);
  if (!sameBytes(hmac(subKey(master, 'check'), 'tabadol-backup'), Buffer.from(sealing.check, 'base64url'))) {
    throw new BackupSecretError('wrong passphrase: it is not the one this backup was made with');
  }
  if (!sameBytes(hmac(subKey(master, 'seal'), manifestBytes), Buffer.from(seal, 'base64url'))) {
    throw new BackupSecretError('the manifest was changed after the backup was made (its seal does not match): this backup cannot be trusted');
  }
}

/** The encrypted keys file: the header is authenticated with the content (GCM's additional data). */
interface SealedKeysFile {
  format: 'tabadol-hub-keys';
  formatVersion: 1;
  hubId: string;
  createdAt: string;
  kdf: PassphraseKdf;
  cipher: 'aes-256-gcm';
  /** base64url */
  iv: string;
  tag: string;
  ciphertext: string;
}

const headerOf = (file: Omit<SealedKeysFile, 'iv' | 'tag' | 'ciphertext'>): Buffer =>
  Buffer.from(JSON.stringify([file.format, file.formatVersion, file.hubId, file.createdAt, file.kdf.name, file.kdf.N, file.kdf.r, file.kdf.p, file.kdf.salt, file.cipher]));

/** Encrypts `plaintext` (the hub key file's JSON) under the passphrase; returns the file's text. */
export function encryptKeys(plaintext: string, passphrase: string, context: { hubId: string }): string {
  checkPassphrase(passphrase);
  const header = { format: 'tabadol-hub-keys', formatVersion: 1, hubId: context.hubId, createdAt: new Date().toISOString(), kdf: newKdf(), cipher: 'aes-256-gcm' } as const;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', subKey(masterKey(passphrase, header.kdf), 'keys'), iv);
  cipher.setAAD(headerOf(header));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const file: SealedKeysFile = { ...header, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), ciphertext: ciphertext.toString('base64url') };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Decrypts a keys file; a wrong passphrase and a changed file are both refused (GCM cannot tell them apart). */
export function decryptKeys(text: string, passphrase: string): { plaintext: string; hubId: string; createdAt: string } {
  let file: SealedKeysFile;
  try {
    file = JSON.parse(text) as SealedKeysFile;
  } catch {
    throw new BackupSecretError('not an encrypted hub keys file (invalid JSON)');
  }
  if (file?.format !== 'tabadol-hub-keys' || file.formatVersion !== 1 || file.cipher !== 'aes-256-gcm' || typeof file.ciphertext !== 'string' || typeof file.kdf !== 'object') {
    throw new BackupSecretError('not an encrypted hub keys file of a version this tabadol reads');
  }
  // A 12-byte IV and a full 16-byte tag only: Node would take a tag as short as 4 bytes, a forgery's easy target.
  if (typeof file.iv !== 'string' || typeof file.tag !== 'string' || !/^[A-Za-z0-9_-]{16}$/.test(file.iv) || !/^[A-Za-z0-9_-]{22}$/.test(file.tag)) {
    throw new BackupSecretError('the hub keys cannot be decrypted: the keys file was changed');
  }
  const decipher = createDecipheriv('aes-256-gcm', subKey(masterKey(passphrase, file.kdf), 'keys'), Buffer.from(file.iv, 'base64url'), { authTagLength: 16 });
  decipher.setAAD(headerOf(file));
  decipher.setAuthTag(Buffer.from(file.tag, 'base64url'));
  try {
    const plaintext = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    return { plaintext, hubId: file.hubId, createdAt: file.createdAt };
  } catch {
    throw new BackupSecretError('the hub keys cannot be decrypted: wrong passphrase, or the keys file was changed');
  }
}
