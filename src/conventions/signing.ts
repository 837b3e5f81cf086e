// Convention signatures: a General JSON JWS (RFC 7515 §7.2.1) beside the YAML, one signature per party, each verified on its own.
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { base64url, flattenedVerify, GeneralSign, importJWK, type CryptoKey, type GeneralJWS, type JWK, type KeyInput } from 'jose';
import { canonicalize } from './canonical-json.ts';
import { ConventionDocumentError, readConventionDocument, type ConventionData, type ConventionDocument } from './document.ts';
import type { Convention } from './model.ts';

export const signatureAlgorithms = ['ES256', 'EdDSA'] as const;
export type SignatureAlgorithm = (typeof signatureAlgorithms)[number];
export const signerRoles = ['provider', 'consumer', 'hub'] as const;
export type SignerRole = (typeof signerRoles)[number];

/** The hub id when none is given: the default of HUB_ID in config.ts. */
export const defaultHubId = 'MA/GOV/HUB/core';

/**
 * Each signature's protected header. No `crit`: the tabadol.* parameters are protected (so covered by the signature)
 * and every tabadol verifier requires them anyway; listing them in `crit` would only make generic JOSE libraries
 * refuse to check the signature at all unless told about them.
 */
export interface ConventionProtectedHeader {
  alg: SignatureAlgorithm;
  kid: string;
  'tabadol.signer': string;
  'tabadol.role': SignerRole;
}

/** A signer's key as the resolver finds it: a public key, a marker that the kid exists but is revoked, or undefined (unknown). */
/**
 * A revoked key comes with its key material and revocation time when it was rotated out rather than compromised: a
 * signature it made before the convention was activated stays valid (rotation must not cut off conventions).
 */
export type RevokedKey = { revoked: true; reason?: string; revokedAt?: Date; compromised?: boolean; key?: CryptoKey | KeyObject };
export type ResolvedKey = CryptoKey | KeyObject | JWK | RevokedKey | undefined;
export type KeyResolver = (signer: string, kid: string) => Promise<ResolvedKey>;

export interface SignatureCheck {
  /** From the protected header; null when the header lacks it (reason says so). */
  signer: string | null;
  role: string | null;
  kid: string | null;
  alg: string | null;
  ok: boolean;
  reason?: string;
}

export interface ConventionVerification {
  /** True only when the YAML is valid, the payload is exactly the current YAML + OpenAPI digest, and every required party's signature verifies. */
  ok: boolean;
  /** The validated convention (defaults applied); absent when the YAML itself is invalid. */
  convention?: Convention;
  /** The data model as signed (no defaults). */
  data?: ConventionData;
  /** The digest of the OpenAPI file as it is now. */
  openapiDigest?: string;
  signatures: SignatureCheck[];
  problems: string[];
}

export interface VerifyOptions {
  /** The hub's subsystem id (HUB_ID): the only signer allowed the 'hub' role. */
  hubId?: string;
  /** Require the hub's countersignature too (true for what the hub enforces; false before activation). */
  requireHub?: boolean;
  /** The convention's activation time: a key rotated out (not compromised) after it still vouches for its signature. */
  activatedAt?: Date;
}

/** A refusal to sign, with the precise reason. */
export class ConventionSigningError extends Error {
  override name = 'ConventionSigningError';
}

const roleOrder: Record<SignerRole, number> = { provider: 0, consumer: 1, hub: 2 };

/** Reads a General JSON JWS, checking its shape only (signatures are checked by verifySignatures). */
export function parseGeneralJws(text: string, source = '.jws'): GeneralJWS {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConventionDocumentError(source, ['the .jws file is not JSON (expected a General JSON JWS: {"payload": …, "signatures": […]})']);
  }
  const jws = value as { payload?: unknown; signatures?: unknown };
  if (typeof jws !== 'object' || jws === null || typeof jws.payload !== 'string' || !Array.isArray(jws.signatures)) {
    throw new ConventionDocumentError(source, ['the .jws file is not a General JSON JWS (expected {"payload": "<base64url>", "signatures": [{"protected", "signature"}]})']);
  }
  jws.signatures.forEach((s: unknown, i) => {
    const sig = s as { protected?: unknown; signature?: unknown };
    if (typeof sig !== 'object' || sig === null || typeof sig.protected !== 'string' || typeof sig.signature !== 'string') {
      throw new ConventionDocumentError(source, [`the .jws file's signatures.${i} needs "protected" and "signature" strings`]);
    }
  });
  return jws as GeneralJWS;
}

function decodeHeader(protectedHeader: string | undefined): Record<string, unknown> | undefined {
  if (protectedHeader === undefined) return undefined;
  try {
    const header: unknown = JSON.parse(new TextDecoder().decode(base64url.decode(protectedHeader)));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function isRevoked(key: ResolvedKey): key is RevokedKey {
  return typeof key === 'object' && key !== null && 'revoked' in key && key.revoked === true;
}

/** The party id that a role must be signed by. */
function partyOf(role: SignerRole, parties: { provider: string; consumer: string; hubId: string }): string {
  return role === 'hub' ? parties.hubId : parties[role];
}

/**
 * Verifies each signature of a General JWS on its own (its key found by signer and kid), and that the required roles
 * all signed. The payload is not compared here: see payloadProblems.
 */
export async function verifySignatures(
  jws: GeneralJWS,
  parties: { provider: string; consumer: string; hubId: string },
  resolveKey: KeyResolver,
  required: readonly SignerRole[],
  activatedAt?: Date,
): Promise<{ signatures: SignatureCheck[]; problems: string[] }> {
  const signatures: SignatureCheck[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [i, sig] of jws.signatures.entries()) {
    const header = decodeHeader(sig.protected);
    const check: SignatureCheck = { signer: str(header?.['tabadol.signer']), role: str(header?.['tabadol.role']), kid: str(header?.kid), alg: str(header?.alg), ok: false };
    check.reason = await signatureProblem(jws.payload, sig, header, check, parties, resolveKey, activatedAt);
    if (check.reason === undefined) {
      const key = `${check.role} ${check.signer}`;
      if (seen.has(key)) check.reason = `a second signature by ${check.signer} as ${check.role} (one per party)`;
      seen.add(key);
    }
    check.ok = check.reason === undefined;
    if (check.ok) delete check.reason;
    else problems.push(`signature ${i} (${check.signer ?? 'no signer'} as ${check.role ?? 'no role'}, kid ${check.kid ?? 'none'}): ${check.reason}`);
    signatures.push(check);
  }
  for (const role of required) {
    const party = partyOf(role, parties);
    const present = signatures.some((s) => s.role === role && s.signer === party);
    // A present but failing signature is already reported above, with its reason.
    if (!present) problems.push(`missing the ${role}'s signature (${party})`);
  }
  return { signatures, problems };
}

async function signatureProblem(
  payload: string,
  sig: GeneralJWS['signatures'][number],
  header: Record<string, unknown> | undefined,
  check: SignatureCheck,
  parties: { provider: string; consumer: string; hubId: string },
  resolveKey: KeyResolver,
  activatedAt?: Date,
): Promise<string | undefined> {
  if (!header) return 'the protected header is not base64url-encoded JSON';
  if (!signatureAlgorithms.includes(check.alg as SignatureAlgorithm)) return `alg ${JSON.stringify(header.alg ?? null)} is refused: only ES256 and EdDSA`;
  if (!check.kid) return 'the protected header has no kid';
  if (!check.signer) return 'the protected header has no tabadol.signer';
  if (!signerRoles.includes(check.role as SignerRole)) return `tabadol.role ${JSON.stringify(header['tabadol.role'] ?? null)} is not provider, consumer or hub`;
  const role = check.role as SignerRole;
  const expected = partyOf(role, parties);
  if (check.signer !== expected) {
    const parts = (['provider', 'consumer', 'hub'] as const).filter((r) => partyOf(r, parties) === check.signer);
    if (parts.length === 0) {
      return `${check.signer} is not a party to this convention (provider ${parties.provider}, consumer ${parties.consumer}, hub ${parties.hubId})`;
    }
    return `${check.signer} signs as ${role}, but the ${role} is ${expected} (${check.signer} is the ${parts.join(' and ')})`;
  }
  const resolved = await resolveKey(check.signer, check.kid);
  if (resolved === undefined) return `key ${check.kid} of ${check.signer} is unknown`;
  let key: Exclude<ResolvedKey, RevokedKey | undefined>;
  if (isRevoked(resolved)) {
    const rotatedOutLater = resolved.key !== undefined && !resolved.compromised && activatedAt !== undefined && resolved.revokedAt !== undefined && resolved.revokedAt > activatedAt;
    if (!rotatedOutLater || !resolved.key) return `key ${check.kid} of ${check.signer} is ${resolved.compromised ? 'revoked as compromised' : 'revoked'}${resolved.reason ? ` (${resolved.reason})` : ''}`;
    key = resolved.key;
  } else {
    key = resolved;
  }
  try {
    await flattenedVerify({ payload, protected: sig.protected, signature: sig.signature, ...(sig.header ? { header: sig.header } : {}) }, key as KeyInput, {
      algorithms: [...signatureAlgorithms],
    });
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return `the signature does not verify with key ${check.kid} of ${check.signer}`;
    return `the signature cannot be checked with key ${check.kid} of ${check.signer}: ${(err as Error).message}`;
  }
}

/**
 * Why a JWS payload is not the expected one (empty when it is): the OpenAPI bytes changed (digests differ), or the
 * convention's fields changed (named), so that the operator knows what to re-sign.
 */
export function payloadProblems(jwsPayload: string, expected: { data: ConventionData; openapiDigest: string; payload: Uint8Array }, what = 'the YAML'): string[] {
  let bytes: Uint8Array;
  let signed: unknown;
  try {
    bytes = base64url.decode(jwsPayload);
    signed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return ['the JWS payload is not base64url-encoded JSON'];
  }
  if (Buffer.from(bytes).equals(Buffer.from(expected.payload))) return [];
  if (typeof signed !== 'object' || signed === null || Array.isArray(signed)) return ['the JWS payload is not a JSON object'];
  const { openapiDigest: signedDigest, ...signedData } = signed as Record<string, unknown>;
  const problems: string[] = [];
  if (signedDigest !== expected.openapiDigest) {
    problems.push(`the OpenAPI document changed since it was signed: the signatures cover openapiDigest ${JSON.stringify(signedDigest ?? null)}, its bytes now digest to ${expected.openapiDigest}`);
  }
  const fields = [...new Set([...Object.keys(signedData), ...Object.keys(expected.data)])].sort().filter((k) => {
    try {
      return (k in signedData) !== (k in expected.data) || canonicalize(signedData[k] ?? null) !== canonicalize(expected.data[k] ?? null);
    } catch {
      return true;
    }
  });
  if (fields.length > 0) problems.push(`${what} differs from what was signed: changed field(s) ${fields.join(', ')}`);
  // Same content but other bytes: not canonical JSON, which a conforming signer never produces.
  if (problems.length === 0) problems.push('the JWS payload is not the RFC 8785 canonical form of the convention plus openapiDigest');
  return problems;
}

/** Verifies a convention against its .jws: YAML valid and in place, payload = current YAML + OpenAPI digest, signatures. */
export async function verifyConvention(yamlPath: string, resolveKey: KeyResolver, options: VerifyOptions = {}): Promise<ConventionVerification> {
  let doc: ConventionDocument;
  try {
    doc = readConventionDocument(yamlPath);
  } catch (err) {
    if (err instanceof ConventionDocumentError) return { ok: false, signatures: [], problems: err.problems };
    throw err;
  }
  const base = { convention: doc.convention, data: doc.data, openapiDigest: doc.openapiDigest };
  if (!existsSync(doc.paths.jwsPath)) return { ok: false, ...base, signatures: [], problems: [`not signed: ${doc.paths.jwsPath} does not exist`] };
  let jws: GeneralJWS;
  try {
    jws = parseGeneralJws(readFileSync(doc.paths.jwsPath, 'utf8'), doc.paths.jwsPath);
  } catch (err) {
    if (err instanceof ConventionDocumentError) return { ok: false, ...base, signatures: [], problems: err.problems };
    throw err;
  }
  return verifyJwsFor(doc, jws, resolveKey, options);
}

/** The checks of verifyConvention on a document and a JWS already in hand (the store uses it before countersigning). */
export async function verifyJwsFor(
  doc: Pick<ConventionDocument, 'convention' | 'data' | 'openapiDigest' | 'payload'>,
  jws: GeneralJWS,
  resolveKey: KeyResolver,
  options: VerifyOptions = {},
): Promise<ConventionVerification> {
  const problems = payloadProblems(jws.payload, doc);
  const parties = { provider: doc.convention.provider, consumer: doc.convention.consumer, hubId: options.hubId ?? defaultHubId };
  const required: SignerRole[] = options.requireHub ? ['provider', 'consumer', 'hub'] : ['provider', 'consumer'];
  const checked = await verifySignatures(jws, parties, resolveKey, required, options.activatedAt);
  problems.push(...checked.problems);
  return { ok: problems.length === 0, convention: doc.convention, data: doc.data, openapiDigest: doc.openapiDigest, signatures: checked.signatures, problems };
}

/** The algorithm a private (or public) JWK signs with: ES256 for EC P-256, EdDSA for OKP Ed25519; anything else refused. */
export function jwkAlgorithm(jwk: JWK): SignatureAlgorithm {
  let alg: SignatureAlgorithm;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') alg = 'ES256';
  else if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') alg = 'EdDSA';
  else throw new ConventionSigningError(`the key must be EC P-256 (ES256) or OKP Ed25519 (EdDSA), not ${jwk.kty ?? '?'} ${jwk.crv ?? ''}`.trim());
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new ConventionSigningError(`the key says alg ${jwk.alg}, which does not fit a ${jwk.kty} ${jwk.crv} key (expected ${alg})`);
  return alg;
}

/**
 * Adds one signature to a JWS (or starts one), replacing an earlier signature by the same signer in the same role;
 * signatures are kept in the order provider, consumer, hub so that the file reads the same whoever signs last.
 */
export async function addSignature(
  jws: GeneralJWS | undefined,
  payload: Uint8Array,
  signer: { signer: string; role: SignerRole; kid: string; alg: SignatureAlgorithm; key: CryptoKey | KeyObject },
): Promise<GeneralJWS> {
  // Signatures over different payloads cannot share one General JWS: the caller must restart (see signConvention).
  if (jws && jws.payload !== base64url.encode(payload)) throw new ConventionSigningError('the existing JWS covers another payload: restart it before adding a signature');
  const header: ConventionProtectedHeader = { alg: signer.alg, kid: signer.kid, 'tabadol.signer': signer.signer, 'tabadol.role': signer.role };
  const signed = await new GeneralSign(payload).addSignature(signer.key).setProtectedHeader({ ...header }).sign();
  const added = signed.signatures[0];
  if (!added) throw new Error('jose produced no signature');
  const kept = (jws?.signatures ?? []).filter((s) => {
    const h = decodeHeader(s.protected);
    return !(h?.['tabadol.signer'] === signer.signer && h['tabadol.role'] === signer.role);
  });
  const rank = (s: GeneralJWS['signatures'][number]): number => roleOrder[decodeHeader(s.protected)?.['tabadol.role'] as SignerRole] ?? 3;
  const signatures = [...kept, added].sort((a, b) => rank(a) - rank(b));
  return { payload: signed.payload, signatures };
}

/** Writes a .jws file atomically (a reader never sees half a file). */
export function writeJws(path: string, jws: GeneralJWS): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ payload: jws.payload, signatures: jws.signatures }, null, 2)}\n`);
  renameSync(tmp, path);
}

export interface SignOptions {
  /** The signer's subsystem id: the convention's provider or consumer (or the hub id with role 'hub'). */
  signer: string;
  /** The signer's private key; its kid must be the one registered for the signer. */
  privateJwk: JWK;
  /** Needed only when the signer is both provider and consumer, or to sign as the hub. */
  role?: SignerRole;
  /** Discard the existing signatures when the YAML or OpenAPI changed since they were given. */
  restart?: boolean;
  hubId?: string;
}

export interface SignResult {
  jwsPath: string;
  role: SignerRole;
  kid: string;
  alg: SignatureAlgorithm;
  /** Who has signed now, in file order. */
  signers: Array<{ signer: string | null; role: string | null; kid: string | null }>;
  /** True when the old signatures were discarded (restart). */
  restarted: boolean;
}

/** Signs a convention YAML as one party: adds (or replaces) that party's signature in the .jws beside it. */
export async function signConvention(yamlPath: string, options: SignOptions): Promise<SignResult> {
  const doc = readConventionDocument(yamlPath);
  const { convention } = doc;
  const hubId = options.hubId ?? defaultHubId;
  const parties = { provider: convention.provider, consumer: convention.consumer, hubId };
  const role = options.role ?? (['provider', 'consumer'] as const).find((r) => parties[r] === options.signer);
  if (!role) throw new ConventionSigningError(`${options.signer} is neither the provider (${convention.provider}) nor the consumer (${convention.consumer}) of convention ${convention.id}`);
  if (partyOf(role, parties) !== options.signer) throw new ConventionSigningError(`${options.signer} cannot sign as ${role}: the ${role} of convention ${convention.id} is ${partyOf(role, parties)}`);
  if (typeof options.privateJwk.d !== 'string') throw new ConventionSigningError('the JWK has no private part (d): signing needs the private key');
  const kid = options.privateJwk.kid;
  if (!kid) throw new ConventionSigningError('the private JWK has no kid: it must carry the kid registered for the signer');
  const alg = jwkAlgorithm(options.privateJwk);
  const key = await importJWK({ ...options.privateJwk, alg }, alg);
  if (key instanceof Uint8Array) throw new ConventionSigningError('a symmetric key cannot sign a convention');

  let existing: GeneralJWS | undefined;
  let restarted = false;
  if (existsSync(doc.paths.jwsPath)) {
    existing = parseGeneralJws(readFileSync(doc.paths.jwsPath, 'utf8'), doc.paths.jwsPath);
    const changed = payloadProblems(existing.payload, doc);
    if (changed.length > 0) {
      if (!options.restart) {
        const others = existing.signatures
          .map((s) => decodeHeader(s.protected))
          .map((h) => `${str(h?.['tabadol.signer']) ?? '?'} (${str(h?.['tabadol.role']) ?? '?'})`)
          .join(', ');
        throw new ConventionSigningError(
          `${doc.paths.jwsPath} holds signatures by ${others || 'no one'} over other content: ${changed.join('; ')}. ` +
            'Signing now would leave signatures over different bytes: sign with restart to discard them (every party then signs again).',
        );
      }
      existing = undefined;
      restarted = true;
    }
  }
  const jws = await addSignature(existing, doc.payload, { signer: options.signer, role, kid, alg, key });
  writeJws(doc.paths.jwsPath, jws);
  const signers = jws.signatures.map((s) => {
    const h = decodeHeader(s.protected);
    return { signer: str(h?.['tabadol.signer']), role: str(h?.['tabadol.role']), kid: str(h?.kid) };
  });
  return { jwsPath: doc.paths.jwsPath, role, kid, alg, signers, restarted };
}
