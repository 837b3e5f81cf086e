// The hub's own keys: ES256 signing keys (current plus retired ones still listed for verification) and the secret
// that keys the subject HMACs. Kept in DATA_DIR/hub-keys.json (mode 0600) or HUB_KEY_FILE; never logged.
import { createPrivateKey, createPublicKey, randomBytes, sign as cryptoSign, type JsonWebKey as NodeJsonWebKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface HubKeyEntry {
  kid: string;
  /** Private JWK (ES256, P-256). */
  jwk: JWK;
  created: string;
  /** Set when a newer key took over; the key stays listed in the JWKS so that old answers still verify. */
  retired?: string;
}

export interface HubKeyFile {
  keys: HubKeyEntry[];
  /** base64url, 32 bytes: the key of the subject HMACs (per-citizen tracking). Never rotated by rotate-key. */
  subjectKey: string;
}

export interface PublicJwk extends JWK {
  kid: string;
  'tabadol.retired'?: string;
}

export class HubKeyError extends Error {
  override name = 'HubKeyError';
}

export function hubKeyPath(options: { dataDir: string; hubKeyFile?: string }): string {
  return options.hubKeyFile ?? join(options.dataDir, 'hub-keys.json');
}

async function newKeyEntry(): Promise<HubKeyEntry> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = `hub-${(await calculateJwkThumbprint(jwk)).slice(0, 16)}`;
  return { kid, jwk: { ...jwk, kid, alg: 'ES256', use: 'sig' }, created: new Date().toISOString() };
}

/** Writes a hub key file as the first start does (0600 from the first byte, renamed into place): a restore's keys too. */
export function writeKeyFile(path: string, file: HubKeyFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  // Written with 0600 from the first byte, then renamed over: never a moment where the key is readable by others.
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function readKeyFile(path: string): HubKeyFile {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new HubKeyError(`${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new HubKeyError(`${path} is not a hub key file (invalid JSON)`);
  }
  const file = parsed as Partial<HubKeyFile>;
  if (!Array.isArray(file.keys) || file.keys.length === 0 || typeof file.subjectKey !== 'string') {
    throw new HubKeyError(`${path} is not a hub key file (expected keys[] and subjectKey)`);
  }
  return file as HubKeyFile;
}

/** Loads the hub's keys, creating them on first start (unless an explicit HUB_KEY_FILE is missing: that is an error). */
export async function loadOrCreateHubKeys(options: { dataDir: string; hubKeyFile?: string }): Promise<HubKeyFile> {
  const path = hubKeyPath(options);
  if (!existsSync(path)) {
    if (options.hubKeyFile) throw new HubKeyError(`HUB_KEY_FILE: ${options.hubKeyFile} does not exist`);
    const file: HubKeyFile = { keys: [await newKeyEntry()], subjectKey: randomBytes(32).toString('base64url') };
    writeKeyFile(path, file);
    return file;
  }
  return readKeyFile(path);
}

/** Adds a new current key; the previous one is marked retired but kept for verification. Returns the new kid. */
export async function rotateHubKey(options: { dataDir: string; hubKeyFile?: string }): Promise<{ kid: string; retired: string[] }> {
  const path = hubKeyPath(options);
  const file = await loadOrCreateHubKeys(options);
  const now = new Date().toISOString();
  const retired: string[] = [];
  for (const key of file.keys) {
    if (!key.retired) {
      key.retired = now;
      retired.push(key.kid);
    }
  }
  const entry = await newKeyEntry();
  file.keys.push(entry);
  writeKeyFile(path, file);
  return { kid: entry.kid, retired };
}

/** The hub's signing identity as the running process uses it. */
export class HubKeyring {
  readonly current: { kid: string; key: KeyObject };
  readonly subjectKey: Buffer;
  private readonly publicKeys: PublicJwk[];
  private readonly verifyKeys: Map<string, KeyObject>;

  constructor(
    readonly hubId: string,
    file: HubKeyFile,
  ) {
    const current = file.keys.filter((k) => !k.retired).at(-1);
    if (!current) throw new HubKeyError('the hub key file has no current key');
    this.current = { kid: current.kid, key: createPrivateKey({ key: current.jwk as NodeJsonWebKey, format: 'jwk' }) };
    this.subjectKey = Buffer.from(file.subjectKey, 'base64url');
    this.verifyKeys = new Map();
    this.publicKeys = file.keys.map((entry) => {
      const publicKey = createPublicKey({ key: entry.jwk as NodeJsonWebKey, format: 'jwk' });
      this.verifyKeys.set(entry.kid, publicKey);
      const { d: _d, ...pub } = entry.jwk;
      return { ...pub, kid: entry.kid, ...(entry.retired ? { 'tabadol.retired': entry.retired } : {}) };
    });
  }

  /** The public JWK set served at /.well-known/jwks.json (retired keys marked). */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.publicKeys };
  }

  verifyKey(kid: string): KeyObject | undefined {
    return this.verifyKeys.get(kid);
  }

  /** Signs a JSON payload as a compact JWS with the current key. */
  async signCompact(payload: Record<string, unknown>, typ: string): Promise<string> {
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', kid: this.current.kid, typ })
      .sign(this.current.key);
  }

  private readonly encodedHeaders = new Map<string, string>();

  /**
   * The same compact JWS (ES256, header {alg, kid, typ}), signed synchronously with node:crypto: the per-exchange path
   * signs once or twice (the answer, and the forward to a provider on an ES256 binding), and this skips WebCrypto's promise round trips.
   */
  signCompactSync(payload: Record<string, unknown>, typ: string): string {
    let header = this.encodedHeaders.get(typ);
    if (!header) {
      header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: this.current.kid, typ })).toString('base64url');
      this.encodedHeaders.set(typ, header);
    }
    const signingInput = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const signature = cryptoSign('sha256', Buffer.from(signingInput), { key: this.current.key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** The current private key as a JWK, for General JSON signatures (convention countersignatures). */
  currentPrivateKey(): KeyObject {
    return this.current.key;
  }
}
