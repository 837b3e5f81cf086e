// Members and subsystems with their public keys: registration, key rotation and revocation, disabling; every change audited.
import { createPublicKey, type JsonWebKey as NodeJsonWebKey, type KeyObject } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import type { Db, Queryable } from '../storage/db.ts';
import { audit } from '../admin/audit.ts';
import { bumpRegistryVersion } from '../storage/registry-version.ts';
import { InvalidIdError, memberKind } from './ids.ts';

export interface MemberKey {
  kid: string;
  alg: 'ES256' | 'EdDSA';
  jwk: JWK;
  status: 'active' | 'revoked';
  createdAt: Date;
  revokedAt: Date | null;
}

export interface Member {
  id: string;
  kind: 'member' | 'subsystem';
  name: string;
  status: 'active' | 'disabled';
  createdAt: Date;
  keys: MemberKey[];
}

/** A refusal of a member operation, with the field at fault: the admin API turns it into a 4xx problem. */
export class MemberError extends Error {
  override name = 'MemberError';
  constructor(
    readonly reason: 'invalid' | 'not-found' | 'conflict',
    message: string,
    readonly location: string = 'body',
  ) {
    super(message);
  }
}

const privateParams = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** Checks a public JWK that a member registers: ES256 (P-256) or EdDSA (Ed25519), a kid, and nothing private. */
export async function checkPublicJwk(jwk: unknown, index: number): Promise<{ kid: string; alg: 'ES256' | 'EdDSA'; jwk: JWK }> {
  const where = `jwks.keys.${index}`;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new MemberError('invalid', 'must be a JWK object', where);
  const key = jwk as Record<string, unknown>;
  if (privateParams.some((p) => p in key)) {
    throw new MemberError('invalid', 'contains private key material: register the PUBLIC key only (keep private.jwk to yourself)', where);
  }
  if (typeof key.kid !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(key.kid)) throw new MemberError('invalid', 'needs a kid matching [A-Za-z0-9._-]{1,128}', `${where}.kid`);
  let alg: 'ES256' | 'EdDSA';
  if (key.kty === 'EC' && key.crv === 'P-256') alg = 'ES256';
  else if (key.kty === 'OKP' && key.crv === 'Ed25519') alg = 'EdDSA';
  else throw new MemberError('invalid', 'must be an EC P-256 (ES256) or OKP Ed25519 (EdDSA) key', `${where}.kty`);
  if (key.alg !== undefined && key.alg !== alg) throw new MemberError('invalid', `alg ${String(key.alg)} does not fit this key type (expected ${alg})`, `${where}.alg`);
  try {
    await importJWK({ ...(key as JWK), alg }, alg);
  } catch (err) {
    throw new MemberError('invalid', `is not a valid ${alg} public key (${(err as Error).message})`, where);
  }
  const clean: JWK = { kty: key.kty as string, crv: key.crv as string, x: key.x as string, ...(key.y ? { y: key.y as string } : {}), kid: key.kid, alg, use: 'sig' };
  return { kid: key.kid, alg, jwk: clean };
}

async function checkJwks(jwks: unknown): Promise<Array<{ kid: string; alg: 'ES256' | 'EdDSA'; jwk: JWK }>> {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new MemberError('invalid', 'must be a JWK set: {"keys": [...]}', 'jwks');
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  const checked = await Promise.all(keys.map((k, i) => checkPublicJwk(k, i)));
  const kids = new Set<string>();
  for (const [i, k] of checked.entries()) {
    if (kids.has(k.kid)) throw new MemberError('invalid', `kid ${k.kid} appears twice`, `jwks.keys.${i}.kid`);
    kids.add(k.kid);
  }
  return checked;
}

function checkedId(id: string): 'member' | 'subsystem' {
  try {
    return memberKind(id);
  } catch (err) {
    if (err instanceof InvalidIdError) throw new MemberError('invalid', err.message, 'id');
    throw err;
  }
}

export async function registerMember(db: Db, input: { id: string; name: string; jwks?: unknown; actor: string }): Promise<Member> {
  const kind = checkedId(input.id);
  if (!input.name.trim()) throw new MemberError('invalid', 'must not be empty', 'name');
  const keys = input.jwks === undefined ? [] : await checkJwks(input.jwks);
  if (kind === 'subsystem' && keys.length === 0) throw new MemberError('invalid', 'a subsystem calls or serves, so it needs at least one public key', 'jwks');
  await db.transaction(async (tx) => {
    const existing = await tx.query('SELECT 1 FROM members WHERE id = $1', [input.id]);
    if (existing.rowCount > 0) throw new MemberError('conflict', `${input.id} is already registered`, 'id');
    if (kind === 'subsystem') {
      // A subsystem belongs to a member: register the member implicitly, named after the subsystem's owner part.
      const memberId = input.id.split('/').slice(0, 3).join('/');
      await tx.query(`INSERT INTO members (id, kind, name) VALUES ($1, 'member', $2) ON CONFLICT (id) DO NOTHING`, [memberId, memberId]);
    }
    await tx.query('INSERT INTO members (id, kind, name) VALUES ($1, $2, $3)', [input.id, kind, input.name.trim()]);
    for (const key of keys) {
      await tx.query('INSERT INTO member_keys (member_id, kid, alg, jwk) VALUES ($1, $2, $3, $4)', [input.id, key.kid, key.alg, key.jwk]);
    }
    await audit(tx, input.actor, 'member.register', input.id, { name: input.name, kids: keys.map((k) => k.kid) });
    await bumpRegistryVersion(tx);
  });
  return (await getMember(db, input.id)) as Member;
}

export async function addMemberKeys(db: Db, input: { id: string; jwks: unknown; actor: string }): Promise<Member> {
  const keys = await checkJwks(input.jwks);
  if (keys.length === 0) throw new MemberError('invalid', 'no keys to add', 'jwks.keys');
  await db.transaction(async (tx) => {
    await requireMember(tx, input.id);
    for (const key of keys) {
      const clash = await tx.query('SELECT 1 FROM member_keys WHERE member_id = $1 AND kid = $2', [input.id, key.kid]);
      if (clash.rowCount > 0) throw new MemberError('conflict', `${input.id} already has a key ${key.kid} (kids are never reused, even revoked ones)`, 'jwks');
      await tx.query('INSERT INTO member_keys (member_id, kid, alg, jwk) VALUES ($1, $2, $3, $4)', [input.id, key.kid, key.alg, key.jwk]);
    }
    await audit(tx, input.actor, 'member.keys.add', input.id, { kids: keys.map((k) => k.kid) });
    await bumpRegistryVersion(tx);
  });
  return (await getMember(db, input.id)) as Member;
}

export async function revokeMemberKey(db: Db, input: { id: string; kid: string; actor: string; reason?: string; compromised?: boolean }): Promise<Member> {
  await db.transaction(async (tx) => {
    await requireMember(tx, input.id);
    const { rowCount } = await tx.query(`UPDATE member_keys SET status = 'revoked', revoked_at = now(), compromised = $3 WHERE member_id = $1 AND kid = $2 AND status = 'active'`, [
      input.id,
      input.kid,
      input.compromised ?? false,
    ]);
    if (rowCount === 0) throw new MemberError('not-found', `${input.id} has no active key ${input.kid}`, 'kid');
    await audit(tx, input.actor, 'member.keys.revoke', input.id, { kid: input.kid, reason: input.reason ?? null, compromised: input.compromised ?? false });
    await bumpRegistryVersion(tx);
  });
  return (await getMember(db, input.id)) as Member;
}

export async function setMemberStatus(db: Db, input: { id: string; status: 'active' | 'disabled'; actor: string; reason?: string }): Promise<Member> {
  await db.transaction(async (tx) => {
    await requireMember(tx, input.id);
    // Disabling a member disables its subsystems with it (they are its systems).
    await tx.query(`UPDATE members SET status = $2, updated_at = now() WHERE id = $1 OR id LIKE $3`, [input.id, input.status, `${input.id}/%`]);
    await audit(tx, input.actor, input.status === 'disabled' ? 'member.disable' : 'member.enable', input.id, { reason: input.reason ?? null });
    await bumpRegistryVersion(tx);
  });
  return (await getMember(db, input.id)) as Member;
}

async function requireMember(tx: Queryable, id: string): Promise<void> {
  const { rowCount } = await tx.query('SELECT 1 FROM members WHERE id = $1', [id]);
  if (rowCount === 0) throw new MemberError('not-found', `no member or subsystem ${id}`, 'id');
}

interface MemberRow {
  id: string;
  kind: 'member' | 'subsystem';
  name: string;
  status: 'active' | 'disabled';
  created_at: Date;
}
interface KeyRow {
  member_id: string;
  kid: string;
  alg: 'ES256' | 'EdDSA';
  jwk: JWK;
  status: 'active' | 'revoked';
  created_at: Date;
  revoked_at: Date | null;
}

export async function listMembers(db: Queryable): Promise<Member[]> {
  const members = await db.query<MemberRow>('SELECT id, kind, name, status, created_at FROM members ORDER BY id');
  return withKeys(members.rows, await db.query<KeyRow>('SELECT member_id, kid, alg, jwk, status, created_at, revoked_at FROM member_keys ORDER BY member_id, created_at, kid'));
}

/**
 * One keyset page of the registry in id order after `after` (the console's list): `limit` members and their keys, two
 * statements each bounded by the page, whatever the registry's size.
 */
export async function listMembersPage(db: Queryable, page: { after: string | undefined; limit: number }): Promise<Member[]> {
  // Two texts rather than `$1 IS NULL OR id > $1`, which the planner cannot turn into a range scan of the primary key.
  const members =
    page.after === undefined
      ? await db.query<MemberRow>('SELECT id, kind, name, status, created_at FROM members ORDER BY id LIMIT $1', [page.limit])
      : await db.query<MemberRow>('SELECT id, kind, name, status, created_at FROM members WHERE id > $1 ORDER BY id LIMIT $2', [page.after, page.limit]);
  const ids = members.rows.map((m) => m.id);
  return withKeys(members.rows, await db.query<KeyRow>('SELECT member_id, kid, alg, jwk, status, created_at, revoked_at FROM member_keys WHERE member_id = ANY($1::text[]) ORDER BY member_id, created_at, kid', [ids]));
}

/** How many members and subsystems the registry holds (one index-only count, for the list's heading). */
export async function countMembers(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM members');
  return Number(rows[0]?.n ?? 0);
}

function withKeys(members: readonly MemberRow[], keys: { rows: KeyRow[] }): Member[] {
  const byMember = new Map<string, MemberKey[]>();
  for (const k of keys.rows) {
    const list = byMember.get(k.member_id) ?? [];
    list.push({ kid: k.kid, alg: k.alg, jwk: k.jwk, status: k.status, createdAt: k.created_at, revokedAt: k.revoked_at });
    byMember.set(k.member_id, list);
  }
  return members.map((m) => ({ id: m.id, kind: m.kind, name: m.name, status: m.status, createdAt: m.created_at, keys: byMember.get(m.id) ?? [] }));
}

export async function getMember(db: Queryable, id: string): Promise<Member | undefined> {
  const members = await db.query<MemberRow>('SELECT id, kind, name, status, created_at FROM members WHERE id = $1', [id]);
  if (members.rows.length === 0) return undefined;
  return withKeys(members.rows, await db.query<KeyRow>('SELECT member_id, kid, alg, jwk, status, created_at, revoked_at FROM member_keys WHERE member_id = $1 ORDER BY created_at, kid', [id]))[0];
}

/** What the hot path needs about a client: active or not, and its keys ready to verify with. */
export interface ClientEntry {
  id: string;
  name: string;
  active: boolean;
  keys: Map<string, { alg: 'ES256' | 'EdDSA'; key: KeyObject; active: boolean }>;
}

/** Loads every subsystem with its keys imported once, for the exchange pipeline's in-memory directory. */
export async function loadClientDirectory(db: Queryable): Promise<Map<string, ClientEntry>> {
  const members = await listMembers(db);
  const statusOf = new Map(members.map((m) => [m.id, m.status]));
  const directory = new Map<string, ClientEntry>();
  for (const m of members) {
    const keys: ClientEntry['keys'] = new Map();
    for (const k of m.keys) {
      // A node:crypto KeyObject: the hot path verifies synchronously with it (docs/decisions.md §2).
      const key = createPublicKey({ key: k.jwk as NodeJsonWebKey, format: 'jwk' });
      keys.set(k.kid, { alg: k.alg, key, active: k.status === 'active' });
    }
    const ownerId = m.id.split('/').slice(0, 3).join('/');
    // A subsystem of a disabled member is not active either.
    const active = m.status === 'active' && statusOf.get(ownerId) !== 'disabled';
    directory.set(m.id, { id: m.id, name: m.name, active, keys });
  }
  return directory;
}
