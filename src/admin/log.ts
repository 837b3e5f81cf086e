// Admin operations on the message log: the retention purge, recorded in the audit trail.
import { audit } from '../admin/audit.ts';
import { purgeLog, type PurgeResult } from '../message-log/index.ts';
import type { Db } from '../storage/db.ts';
import { isStorableInstant } from '../storage/storable.ts';
import { AdminInputError } from './errors.ts';

const isoDate = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Parses the `before` of a purge: an ISO 8601 date or date-time, nothing that Date.parse would merely guess at. */
export function parsePurgeDate(value: string): Date {
  const date = new Date(value);
  if (!isoDate.test(value) || Number.isNaN(date.getTime())) throw new AdminInputError('before', `${JSON.stringify(value)} is not an ISO 8601 date (e.g. 2025-01-01 or 2025-01-01T00:00:00Z)`);
  if (!isStorableInstant(date)) throw new AdminInputError('before', `${JSON.stringify(value)} must lie within the years 0001 to 9999`);
  return date;
}

/**
 * Purges the log before a date and audits it. The audit row is written after purgeLog's own transaction (which holds
 * the chain lock): a purge that deleted nothing is audited too, since asking for it is itself worth a trace.
 */
export async function purgeLogAudited(db: Db, input: { before: Date; actor: string }): Promise<PurgeResult> {
  const result = await purgeLog(db, { before: input.before });
  await audit(db, input.actor, 'log.purge', 'message_log', { before: input.before.toISOString(), deleted: result.deleted, anchor: result.anchor ?? null });
  return result;
}
