// Convention verification and activation as admins run them: on files (CLI) or on their contents (admin API), which are
// laid out in a temporary contracts/ tree so that both go through exactly the same service functions.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConventionDocumentError, ConventionHostileError, conventionPaths, parseConventionYaml } from '../conventions/document.ts';
import { verifyConvention, type ConventionVerification, type KeyResolver } from '../conventions/signing.ts';
import { activateConvention, ConventionRefusedError, type ActivationResult } from '../conventions/store.ts';
import { memberKeyResolver, withHubKeys } from '../identity/key-resolvers.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';
import { toFolderName } from '../identity/ids.ts';
import type { Db, Queryable } from '../storage/db.ts';

/** The three files of a convention, as their contents: the YAML, its service's OpenAPI document, and the General JWS. */
export interface ConventionFiles {
  yaml: string;
  openapi: string;
  jws: string;
}

type HubKeys = Pick<HubKeyring, 'hubId' | 'verifyKey'>;

/** Members' keys from the database; the hub's own from its keyring when there is one (else from member_keys too). */
export function conventionKeyResolver(db: Queryable, keyring: HubKeys | undefined): KeyResolver {
  return keyring ? withHubKeys(memberKeyResolver(db), keyring) : memberKeyResolver(db);
}

export async function verifyConventionFile(db: Queryable, yamlPath: string, options: { hubId: string; keyring?: HubKeys }): Promise<ConventionVerification> {
  return verifyConvention(yamlPath, conventionKeyResolver(db, options.keyring), { hubId: options.hubId, requireHub: false });
}

/** Activates a convention file; returns the result and the countersigned .jws as written beside the YAML. */
export async function activateConventionFile(db: Db, yamlPath: string, options: { keyring: HubKeyring; actor: string }): Promise<ActivationResult & { jws: string }> {
  const result = await activateConvention(db, yamlPath, { keyring: options.keyring, resolveKey: memberKeyResolver(db), actor: options.actor });
  return { ...result, jws: readFileSync(result.jwsPath, 'utf8') };
}

interface LaidOut {
  yamlPath: string;
  /** Rewrites the temporary directory out of a message, leaving the contracts/… path that the caller recognises. */
  relative(text: string): string;
}

/**
 * Writes the files as contracts/<provider, '/' as '.'>/<service>/openapi.yaml and conventions/<consumer>.{yaml,jws}
 * (derived from the YAML itself) in a fresh temporary directory, runs fn, and removes the directory whatever happens.
 * Throws ConventionDocumentError when the YAML is not a valid convention (its place cannot be derived then).
 */
export async function withConventionFiles<T>(files: ConventionFiles, fn: (laidOut: LaidOut) => Promise<T>): Promise<T> {
  const { convention } = parseConventionYaml(files.yaml, 'yaml');
  // The schema admits '.' and '..' as a service code; as a folder name they would step outside the layout.
  if (/^\.+$/.test(convention.service)) throw new ConventionDocumentError('yaml', [`service: ${JSON.stringify(convention.service)} cannot name a folder`]);
  const root = mkdtempSync(join(tmpdir(), 'tabadol-convention-'));
  try {
    const serviceDir = join(root, 'contracts', toFolderName(convention.provider), convention.service);
    mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
    const yamlPath = join(serviceDir, 'conventions', `${toFolderName(convention.consumer)}.yaml`);
    // Written as given: the OpenAPI bytes are what the parties signed the digest of.
    writeFileSync(join(serviceDir, 'openapi.yaml'), files.openapi);
    writeFileSync(yamlPath, files.yaml);
    writeFileSync(conventionPaths(yamlPath).jwsPath, files.jws);
    const prefix = `${root}/`;
    return await fn({ yamlPath, relative: (text) => text.replaceAll(prefix, '') });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function verifyConventionContents(db: Queryable, files: ConventionFiles, options: { hubId: string; keyring?: HubKeys }): Promise<ConventionVerification> {
  try {
    return await withConventionFiles(files, async ({ yamlPath, relative }) => {
      const verification = await verifyConventionFile(db, yamlPath, options);
      return { ...verification, problems: verification.problems.map(relative) };
    });
  } catch (err) {
    // A hostile document (alias bomb, text that cannot be stored) is refused as a request; a YAML that cannot be read
    // otherwise is a verification that fails, with its reasons.
    if (err instanceof ConventionHostileError) throw new ConventionRefusedError('invalid', err.problems);
    if (err instanceof ConventionDocumentError) return { ok: false, signatures: [], problems: err.problems };
    throw err;
  }
}

export async function activateConventionContents(db: Db, files: ConventionFiles, options: { keyring: HubKeyring; actor: string }): Promise<ActivationResult & { jws: string }> {
  try {
    return await withConventionFiles(files, async ({ yamlPath, relative }) => {
      try {
        const result = await activateConventionFile(db, yamlPath, options);
        return { ...result, jwsPath: relative(result.jwsPath) };
      } catch (err) {
        if (err instanceof ConventionRefusedError) throw new ConventionRefusedError(err.reason, err.problems.map(relative));
        throw err;
      }
    });
  } catch (err) {
    if (err instanceof ConventionDocumentError) throw new ConventionRefusedError('invalid', err.problems);
    throw err;
  }
}
