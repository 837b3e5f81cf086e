// The admin audit trail: written by the service functions (members, operators, conventions, stewardship), each in the
// transaction of its change, and read by the admin API and CLI.
import type { Queryable } from '../storage/db.ts';

/** One audit row, in the caller's transaction: the change and its record commit together or not at all. */
export async function audit(tx: Queryable, actor: string, action: string, target: string, detail: Record<string, unknown> = {}): Promise<void> {
  await tx.query('INSERT INTO admin_audit (actor, action, target, detail) VALUES ($1, $2, $3, $4)', [actor, action, target, detail]);
}

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** The newest entries first; `limit` is bounded by the caller (API schema, CLI option). */
export async function listAudit(db: Queryable, limit: number): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditEntry>('SELECT id, at, actor, action, target, detail FROM admin_audit ORDER BY id DESC LIMIT $1', [limit]);
  return rows;
}
