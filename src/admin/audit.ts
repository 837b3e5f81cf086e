// Reading the admin audit trail (written by the service functions, in the transaction of each change).
import type { Queryable } from '../storage/db.ts';

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
