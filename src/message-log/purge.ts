// Retention purge of the message log: deletes old rows up to a checkpoint and anchors what remains to it.
import type { Db } from '../storage/db.ts';
import { lockChain } from './chain.ts';
import { loadRowAt } from './verify.ts';

export class LogPurgeError extends Error {
  override name = 'LogPurgeError';
}

export interface PurgeResult {
  /** Rows of message_log deleted (their subjects and the checkpoints before the anchor go with them). */
  deleted: number;
  /** Where the remaining chain starts: the new anchor, or the one already in place when nothing was purged. */
  anchor?: { seq: string; hash: string };
}

/*
 * Why it works this way: the chain can only be verified from a point that the hub signed. So the purge never cuts
 * at an arbitrary row: it cuts at a checkpoint C, the latest one such that C and every row before it are older than
 * `before` (rows are deleted by seq, and seq order is not strictly time order under concurrency, so this never
 * deletes a row younger than `before`). In one transaction, holding the chain lock (appends wait, so the anchor and
 * the head of the chain never disagree):
 *   - rows and subjects with seq <= C are deleted, and checkpoints with seq < C (they sign rows that are gone);
 *   - log_anchor records (seq C, hash of C, checkpoint C), kept so that verifyLog checks C's signature and starts
 *     the chain there: the first remaining row's prev_hash must equal the signed hash;
 *   - rows older than `before` but after C stay until a later purge: retention errs on keeping.
 * It refuses (throws LogPurgeError, deleting nothing) when the boundary does not verify (the row at C does not hash
 * to what C signs, or C+1 does not link to it): purging would destroy the evidence. It does not check C's signature
 * (it has no keys) nor the rows it deletes: run `tabadol log verify` before purging.
 */
export async function purgeLog(db: Db, options: { before: Date }): Promise<PurgeResult> {
  if (Number.isNaN(options.before.getTime())) throw new RangeError('purgeLog: before must be a valid date');
  return db.transaction(async (tx) => {
    await lockChain(tx);
    const checkpoint = (await tx.query<{ seq: string; hash: string }>(
      `SELECT c.seq, c.hash
         FROM log_checkpoints c JOIN message_log l ON l.seq = c.seq
        WHERE l.at < $1
          AND c.seq < COALESCE((SELECT min(seq) FROM message_log WHERE at >= $1), 9223372036854775807)
        ORDER BY c.seq DESC LIMIT 1`,
      [options.before],
    )).rows[0];
    if (!checkpoint) {
      const current = (await tx.query<{ seq: string; hash: string }>('SELECT seq, hash FROM log_anchor WHERE id = 1')).rows[0];
      return current ? { deleted: 0, anchor: { seq: current.seq, hash: current.hash } } : { deleted: 0 };
    }
    const boundary = await loadRowAt(tx, checkpoint.seq);
    if (!boundary || boundary.recomputed !== boundary.hash || boundary.hash !== checkpoint.hash) {
      throw new LogPurgeError(`refusing to purge: the row at checkpoint ${checkpoint.seq} does not match what the checkpoint signs; run tabadol log verify`);
    }
    const next = (await tx.query<{ prev_hash: string }>('SELECT prev_hash FROM message_log WHERE seq > $1 ORDER BY seq LIMIT 1', [checkpoint.seq])).rows[0];
    if (next && next.prev_hash !== checkpoint.hash) {
      throw new LogPurgeError(`refusing to purge: the row after checkpoint ${checkpoint.seq} does not link to it; run tabadol log verify`);
    }
    await tx.query('DELETE FROM message_subjects WHERE seq <= $1', [checkpoint.seq]);
    const deleted = await tx.query('DELETE FROM message_log WHERE seq <= $1', [checkpoint.seq]);
    await tx.query('DELETE FROM log_checkpoints WHERE seq < $1', [checkpoint.seq]);
    await tx.query(
      `INSERT INTO log_anchor (id, seq, hash, checkpoint_seq, purged_before, purged_at) VALUES (1, $1, $2, $1, $3, now())
       ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, checkpoint_seq = EXCLUDED.checkpoint_seq,
         purged_before = EXCLUDED.purged_before, purged_at = EXCLUDED.purged_at`,
      [checkpoint.seq, checkpoint.hash, options.before],
    );
    return { deleted: deleted.rowCount, anchor: { seq: checkpoint.seq, hash: checkpoint.hash } };
  });
}
