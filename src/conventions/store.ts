// Activated conventions in the database: activation (verify parties, hub countersigns, store), supersession, revocation, re-verified loading.
import { existsSync, readFileSync } from 'node:fs';
import type { GeneralJWS } from 'jose';
import type { HubKeyring } from '../identity/hub-keys.ts';
import { withHubKeys, type HubKeys } from '../identity/key-resolvers.ts';
import { audit } from '../admin/audit.ts';
import { bumpRegistryVersion } from '../storage/registry-version.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { ConventionDocumentError, openapiDigest, readConventionDocument, signedPayload, type ConventionData } from './document.ts';
import { conventionSchema, type Convention } from './model.ts';
import { addSignature, parseGeneralJws, verifyJwsFor, writeJws, type ConventionVerification, type KeyResolver, type ResolvedKey, type SignatureCheck } from './signing.ts';

export type ConventionStatus = 'active' | 'superseded' | 'revoked';

/** A refused activation or revocation: 'invalid' (the files), 'conflict' (versions, ids), 'not-found'; problems are precise. */
export class ConventionRefusedError extends Error {
  override name = 'ConventionRefusedError';
  constructor(
    readonly reason: 'invalid' | 'conflict' | 'not-found',
    readonly problems: string[],
  ) {
    super(problems.join('; '));
  }
}

/** A stored convention without its heavy columns (document, openapi, jws). */
export interface StoredConvention {
  id: string;
  version: number;
  provider: string;
  service: string;
  consumer: string;
  status: ConventionStatus;
  openapiDigest: string;
  activatedAt: Date;
  activatedBy: string;
  supersededAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
  revokedReason: string | null;
}

/** An active convention whose three signatures verified: what the hub enforces. */
export interface ActiveConvention {
  id: string;
  version: number;
  provider: string;
  service: string;
  consumer: string;
  /** Validated, defaults applied. */
  convention: Convention;
  /** As signed (no defaults). */
  data: ConventionData;
  /** The OpenAPI document, exactly the bytes (UTF-8) whose digest the parties signed. */
  openapi: string;
  openapiDigest: string;
  jws: GeneralJWS;
  activatedAt: Date;
}

export interface RefusedConvention {
  id: string;
  version: number;
  provider: string;
  service: string;
  consumer: string;
  problems: string[];
}

// Every key looked up once per load: re-verifying N conventions then costs one query per distinct (signer, kid).
function memoised(resolveKey: KeyResolver): KeyResolver {
  const cache = new Map<string, Promise<ResolvedKey>>();
  return (signer, kid) => {
    const key = `${signer}\n${kid}`;
    let found = cache.get(key);
    if (!found) {
      found = resolveKey(signer, kid);
      cache.set(key, found);
    }
    return found;
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// The OpenAPI bytes are stored as text, so they must round-trip exactly (valid UTF-8, BOM kept, no NUL that text refuses).
function openapiAsText(bytes: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ConventionRefusedError('invalid', ['the OpenAPI document is not valid UTF-8']);
  }
  if (text.includes('\u0000')) throw new ConventionRefusedError('invalid', ['the OpenAPI document contains a NUL character']);
  return text;
}

export interface ActivateOptions {
  keyring: HubKeyring;
  /** Finds the provider's and consumer's public keys (e.g. memberKeyResolver(db)); the hub's own come from the keyring. */
  resolveKey: KeyResolver;
  actor: string;
}

export interface ActivationResult {
  id: string;
  version: number;
  convention: Convention;
  /** The version that this one superseded, if any. */
  superseded: number | null;
  jwsPath: string;
  verification: ConventionVerification;
}

interface VersionRow {
  id: string;
  version: number;
  provider: string;
  service: string;
  consumer: string;
  status: ConventionStatus;
}

/**
 * Activates a convention: the provider's and consumer's signatures must verify over the current YAML and OpenAPI bytes;
 * the hub then countersigns (written to the .jws on disk) and stores it active, superseding a lower active version.
 */
export async function activateConvention(db: Db, yamlPath: string, options: ActivateOptions): Promise<ActivationResult> {
  const { keyring } = options;
  let doc;
  try {
    doc = readConventionDocument(yamlPath);
  } catch (err) {
    if (err instanceof ConventionDocumentError) throw new ConventionRefusedError('invalid', err.problems);
    throw err;
  }
  const { convention } = doc;
  if (!existsSync(doc.paths.jwsPath)) throw new ConventionRefusedError('invalid', [`not signed: ${doc.paths.jwsPath} does not exist (the provider and the consumer sign first)`]);
  let signed: GeneralJWS;
  try {
    signed = parseGeneralJws(readFileSync(doc.paths.jwsPath, 'utf8'), doc.paths.jwsPath);
  } catch (err) {
    if (err instanceof ConventionDocumentError) throw new ConventionRefusedError('invalid', err.problems);
    throw err;
  }
  const openapi = openapiAsText(doc.openapi);
  const resolveKey = withHubKeys(options.resolveKey, keyring);

  // An earlier hub countersignature (a previous attempt, an older hub key) is replaced, never trusted.
  const parties: GeneralJWS = { payload: signed.payload, signatures: signed.signatures.filter((s) => roleOf(s) !== 'hub') };
  const before = await verifyJwsFor(doc, parties, resolveKey, { hubId: keyring.hubId, requireHub: false });
  if (!before.ok) throw new ConventionRefusedError('invalid', before.problems);

  // Checked before countersigning, so that a refused version leaves the .jws untouched; checked again under the lock.
  await checkVersion(db, convention);

  const countersigned = await addSignature(parties, doc.payload, {
    signer: keyring.hubId,
    role: 'hub',
    kid: keyring.current.kid,
    alg: 'ES256',
    key: keyring.currentPrivateKey(),
  });
  const verification = await verifyJwsFor(doc, countersigned, resolveKey, { hubId: keyring.hubId, requireHub: true });
  if (!verification.ok) throw new Error(`the hub's countersignature does not verify: ${verification.problems.join('; ')}`);
  // Written before the transaction (as the operator's copy); if the transaction fails, the next attempt replaces it.
  writeJws(doc.paths.jwsPath, countersigned);

  const superseded = await db.transaction(async (tx) => {
    // One activation or revocation at a time: the registry_version row is the lock, and it is bumped below anyway.
    await tx.query('SELECT version FROM registry_version WHERE id = 1 FOR UPDATE');
    const active = await checkVersion(tx, convention);
    if (active) {
      await tx.query(`UPDATE conventions SET status = 'superseded', superseded_at = now() WHERE id = $1 AND version = $2`, [active.id, active.version]);
    }
    await tx.query(
      `INSERT INTO conventions (id, version, provider, service, consumer, document, openapi, openapi_digest, jws, status, activated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10)`,
      [convention.id, convention.version, convention.provider, convention.service, convention.consumer, doc.data, openapi, doc.openapiDigest, JSON.stringify(countersigned), options.actor],
    );
    await audit(tx, options.actor, 'convention.activate', `${convention.id}@${convention.version}`, {
      provider: convention.provider,
      service: convention.service,
      consumer: convention.consumer,
      openapiDigest: doc.openapiDigest,
      superseded: active?.version ?? null,
      signers: verification.signatures.map((s) => ({ signer: s.signer, role: s.role, kid: s.kid })),
    });
    await bumpRegistryVersion(tx);
    return active?.version ?? null;
  });
  return { id: convention.id, version: convention.version, convention, superseded, jwsPath: doc.paths.jwsPath, verification };
}

function roleOf(signature: GeneralJWS['signatures'][number]): unknown {
  try {
    const header = JSON.parse(Buffer.from(signature.protected ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return header['tabadol.role'];
  } catch {
    return undefined;
  }
}

/** Refuses a version that is not above every stored version of the id, or an id/triple clash; returns the active row it would supersede. */
async function checkVersion(db: Queryable, convention: Convention): Promise<VersionRow | undefined> {
  const { rows } = await db.query<VersionRow>(
    `SELECT id, version, provider, service, consumer, status FROM conventions
      WHERE id = $1 OR (provider = $2 AND service = $3 AND consumer = $4 AND status = 'active')
      ORDER BY version DESC`,
    [convention.id, convention.provider, convention.service, convention.consumer],
  );
  const sameId = rows.filter((r) => r.id === convention.id);
  const elsewhere = sameId.find((r) => r.provider !== convention.provider || r.service !== convention.service || r.consumer !== convention.consumer);
  if (elsewhere) {
    throw new ConventionRefusedError('conflict', [
      `convention id ${convention.id} already governs ${elsewhere.consumer} → ${elsewhere.provider}/${elsewhere.service}; an id names one consumer and one service for good: choose another id`,
    ]);
  }
  const otherActive = rows.find((r) => r.id !== convention.id && r.status === 'active');
  if (otherActive) {
    throw new ConventionRefusedError('conflict', [
      `convention ${otherActive.id} version ${otherActive.version} is already active for ${convention.consumer} → ${convention.provider}/${convention.service}: keep its id (with a higher version) or revoke it first`,
    ]);
  }
  const active = sameId.find((r) => r.status === 'active');
  const highest = sameId[0];
  if (active && convention.version <= active.version) {
    throw new ConventionRefusedError('conflict', [
      `version ${convention.version} of convention ${convention.id} is not above the active version ${active.version}: raise version to supersede it`,
    ]);
  }
  if (highest && convention.version <= highest.version) {
    throw new ConventionRefusedError('conflict', [
      `version ${convention.version} of convention ${convention.id} is not above version ${highest.version} (${highest.status}): versions are never reused, raise version`,
    ]);
  }
  return active;
}

interface ConventionRow {
  id: string;
  version: number;
  provider: string;
  service: string;
  consumer: string;
  status: ConventionStatus;
  openapi_digest: string;
  activated_at: Date;
  activated_by: string;
  superseded_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoked_reason: string | null;
}

const summaryColumns = 'id, version, provider, service, consumer, status, openapi_digest, activated_at, activated_by, superseded_at, revoked_at, revoked_by, revoked_reason';

function toStored(row: ConventionRow): StoredConvention {
  return {
    id: row.id,
    version: row.version,
    provider: row.provider,
    service: row.service,
    consumer: row.consumer,
    status: row.status,
    openapiDigest: row.openapi_digest,
    activatedAt: row.activated_at,
    activatedBy: row.activated_by,
    supersededAt: row.superseded_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokedReason: row.revoked_reason,
  };
}

/**
 * Revokes a convention: its active version when no version is given, else that version (active or superseded).
 * The hub stops enforcing it in every process at the next registry poll. An earlier version does not come back.
 */
export async function revokeConvention(db: Db, input: { id: string; version?: number; reason: string; actor: string }): Promise<StoredConvention> {
  if (!input.reason.trim()) throw new ConventionRefusedError('invalid', ['reason: a revocation needs a reason']);
  return db.transaction(async (tx) => {
    await tx.query('SELECT version FROM registry_version WHERE id = 1 FOR UPDATE');
    const { rows } = await tx.query<ConventionRow>(
      input.version === undefined
        ? `SELECT ${summaryColumns} FROM conventions WHERE id = $1 AND status = 'active'`
        : `SELECT ${summaryColumns} FROM conventions WHERE id = $1 AND version = $2`,
      input.version === undefined ? [input.id] : [input.id, input.version],
    );
    const row = rows[0];
    if (!row) {
      throw new ConventionRefusedError('not-found', [input.version === undefined ? `convention ${input.id} has no active version` : `convention ${input.id} has no version ${input.version}`]);
    }
    if (row.status === 'revoked') throw new ConventionRefusedError('conflict', [`convention ${input.id} version ${row.version} is already revoked (${row.revoked_reason ?? ''})`]);
    const updated = await tx.query<ConventionRow>(
      `UPDATE conventions SET status = 'revoked', revoked_at = now(), revoked_by = $3, revoked_reason = $4 WHERE id = $1 AND version = $2 RETURNING ${summaryColumns}`,
      [row.id, row.version, input.actor, input.reason.trim()],
    );
    await audit(tx, input.actor, 'convention.revoke', `${row.id}@${row.version}`, { reason: input.reason.trim(), previousStatus: row.status });
    await bumpRegistryVersion(tx);
    return toStored(updated.rows[0] as ConventionRow);
  });
}

export interface ConventionFilters {
  id?: string;
  provider?: string;
  service?: string;
  consumer?: string;
  status?: ConventionStatus;
}

export async function listConventions(db: Queryable, filters: ConventionFilters = {}): Promise<StoredConvention[]> {
  const where: string[] = [];
  const params: string[] = [];
  for (const [column, value] of Object.entries(filters) as Array<[keyof ConventionFilters, string | undefined]>) {
    if (value === undefined) continue;
    params.push(value);
    // Column names come from the typed filter keys, never from input.
    where.push(`${column} = $${params.length}`);
  }
  const { rows } = await db.query<ConventionRow>(
    `SELECT ${summaryColumns} FROM conventions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY provider, service, consumer, id, version`,
    params,
  );
  return rows.map(toStored);
}

interface FullRow extends ConventionRow {
  document: ConventionData;
  openapi: string;
  jws: string;
}

/**
 * Every active convention, re-verified from what is stored (document, OpenAPI bytes, JWS) with the keys as they are now:
 * the ones whose three signatures verify are enforceable; the others are refused, with reasons.
 */
export async function loadActiveConventions(
  db: Queryable,
  options: { resolveKey: KeyResolver; keyring: HubKeys },
): Promise<{ enforceable: ActiveConvention[]; refused: RefusedConvention[] }> {
  const resolveKey = memoised(withHubKeys(options.resolveKey, options.keyring));
  const { rows } = await db.query<FullRow>(`SELECT ${summaryColumns}, document, openapi, jws FROM conventions WHERE status = 'active' ORDER BY id`);
  const enforceable: ActiveConvention[] = [];
  const refused: RefusedConvention[] = [];
  for (const row of rows) {
    const ident = { id: row.id, version: row.version, provider: row.provider, service: row.service, consumer: row.consumer };
    const checked = await reverify(row, resolveKey, options.keyring.hubId);
    if (checked.problems.length > 0 || !checked.convention || !checked.jws) {
      refused.push({ ...ident, problems: checked.problems });
      continue;
    }
    enforceable.push({
      ...ident,
      convention: checked.convention,
      data: row.document,
      openapi: row.openapi,
      openapiDigest: row.openapi_digest,
      jws: checked.jws,
      activatedAt: row.activated_at,
    });
  }
  return { enforceable, refused };
}

async function reverify(row: FullRow, resolveKey: KeyResolver, hubId: string): Promise<{ problems: string[]; convention?: Convention; jws?: GeneralJWS; signatures?: SignatureCheck[] }> {
  const problems: string[] = [];
  const digest = openapiDigest(Buffer.from(row.openapi, 'utf8'));
  if (digest !== row.openapi_digest) problems.push(`the stored OpenAPI bytes digest to ${digest}, not ${row.openapi_digest}`);
  const parsed = conventionSchema.safeParse(row.document);
  if (!parsed.success) {
    problems.push(`the stored document is not a valid convention: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return { problems };
  }
  const convention = parsed.data;
  for (const column of ['id', 'version', 'provider', 'service', 'consumer'] as const) {
    if (convention[column] !== row[column]) problems.push(`the stored row says ${column} ${String(row[column])} but its document says ${String(convention[column])}`);
  }
  let jws: GeneralJWS;
  try {
    jws = parseGeneralJws(row.jws, 'stored jws');
  } catch (err) {
    if (err instanceof ConventionDocumentError) return { problems: [...problems, ...err.problems] };
    throw err;
  }
  // The payload is recomputed from the stored document and the digest of the stored bytes: a change to either shows.
  const verification = await verifyJwsFor({ convention, data: row.document, openapiDigest: digest, payload: signedPayload(row.document, digest) }, jws, resolveKey, {
    hubId,
    requireHub: true,
    activatedAt: row.activated_at,
  });
  problems.push(...verification.problems);
  return { problems, convention, jws, signatures: verification.signatures };
}

/** One stored version with its document and each signature re-verified as the hub does it when loading (console). */
export interface ConventionDetail extends StoredConvention {
  document: ConventionData;
  signatures: SignatureCheck[];
  problems: string[];
}

/** A stored version re-verified with the keys as they are now (the same checks as loadActiveConventions); undefined: none. */
export async function conventionDetail(db: Queryable, id: string, version: number, options: { resolveKey: KeyResolver; keyring: HubKeys }): Promise<ConventionDetail | undefined> {
  const { rows } = await db.query<FullRow>(`SELECT ${summaryColumns}, document, openapi, jws FROM conventions WHERE id = $1 AND version = $2`, [id, version]);
  const row = rows[0];
  if (!row) return undefined;
  const checked = await reverify(row, withHubKeys(options.resolveKey, options.keyring), options.keyring.hubId);
  return { ...toStored(row), document: row.document, signatures: checked.signatures ?? [], problems: checked.problems };
}
