// Operators of the admin API and the console: tokens shown once at creation, stored as a hash, compared in constant
// time; an optional password (scrypt, src/identity/passwords.ts) for the console; roles admin, steward and auditor.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db, Queryable } from '../storage/db.ts';
import { audit } from '../admin/audit.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

/** admin: everything; steward: referentials and review; auditor: reads, the log and transparency. */
export type OperatorRole = 'admin' | 'steward' | 'auditor';
export const operatorRoles: readonly OperatorRole[] = ['admin', 'steward', 'auditor'];

export interface Operator {
  id: string;
  name: string;
  role: OperatorRole;
}

const tokenPattern = /^tbd_op_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Creates an operator; the returned token is the only time it is ever visible. */
export async function addOperator(db: Db, input: { name: string; role: OperatorRole; actor: string }): Promise<{ operator: Operator; token: string }> {
  if (!input.name.trim()) throw new Error('operator name must not be empty');
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO operators (id, name, role, secret_hash) VALUES ($1, $2, $3, $4)', [id, input.name.trim(), input.role, hashSecret(secret).toString('hex')]);
    await audit(tx, input.actor, 'operator.add', id, { name: input.name, role: input.role });
  });
  return { operator: { id, name: input.name.trim(), role: input.role }, token: `tbd_op_${id}_${secret}` };
}

export async function revokeOperator(db: Db, input: { id: string; actor: string }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query('UPDATE operators SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [input.id]);
    if (rowCount > 0) await audit(tx, input.actor, 'operator.revoke', input.id);
    return rowCount > 0;
  });
}

export async function listOperators(db: Queryable): Promise<Array<Operator & { createdAt: Date; revokedAt: Date | null }>> {
  const { rows } = await db.query<{ id: string; name: string; role: OperatorRole; created_at: Date; revoked_at: Date | null }>(
    'SELECT id, name, role, created_at, revoked_at FROM operators ORDER BY created_at',
  );
  return rows.map((r) => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at }));
}

/** Resolves a bearer token to its operator, or undefined. The secret is compared as a hash, in constant time. */
export async function authenticateOperator(db: Queryable, token: string): Promise<Operator | undefined> {
  const match = tokenPattern.exec(token);
  if (!match?.[1] || !match[2]) return undefined;
  const { rows } = await db.query<{ id: string; name: string; role: OperatorRole; secret_hash: string }>(
    'SELECT id, name, role, secret_hash FROM operators WHERE id = $1 AND revoked_at IS NULL',
    [match[1]],
  );
  const row = rows[0];
  const presented = hashSecret(match[2]);
  // Compare even when the id is unknown, so that timing says nothing about which ids exist.
  const stored = row ? Buffer.from(row.secret_hash, 'hex') : Buffer.alloc(presented.length);
  const equal = timingSafeEqual(presented, stored);
  return row && equal ? { id: row.id, name: row.name, role: row.role } : undefined;
}

/** Sets (or replaces) an operator's console password, audited; false when there is no active operator with this id. */
export async function setOperatorPassword(db: Db, input: { id: string; password: string; actor: string }): Promise<boolean> {
  const hash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query('UPDATE operators SET password_hash = $2 WHERE id = $1 AND revoked_at IS NULL', [input.id, hash]);
    if (rowCount > 0) await audit(tx, input.actor, 'operator.passwd', input.id);
    return rowCount > 0;
  });
}

/**
 * Resolves an operator id and password to the operator, or undefined. An unknown id, a revoked operator or one
 * without a password still costs one scrypt, so that timing says nothing about which ids exist.
 */
export async function authenticateOperatorPassword(db: Queryable, id: string, password: string): Promise<Operator | undefined> {
  const row = /^[a-f0-9]{16}$/.test(id)
    ? (await db.query<{ id: string; name: string; role: OperatorRole; password_hash: string | null }>('SELECT id, name, role, password_hash FROM operators WHERE id = $1 AND revoked_at IS NULL', [id])).rows[0]
    : undefined;
  const ok = await verifyPassword(password, row?.password_hash ?? undefined);
  return row && ok ? { id: row.id, name: row.name, role: row.role } : undefined;
}

/** The operator behind a console session: still active, with its current role (a revoked operator's sessions end). */
export async function activeOperator(db: Queryable, id: string): Promise<Operator | undefined> {
  const { rows } = await db.query<{ id: string; name: string; role: OperatorRole }>('SELECT id, name, role FROM operators WHERE id = $1 AND revoked_at IS NULL', [id]);
  return rows[0];
}
