// How far the message log's signed checkpoints trail its rows: what an operator watches to know that the tail is
// signed (a tail rewritten with recomputed hashes is caught only up to the last checkpoint).
import type { Queryable } from '../storage/db.ts';

export interface LogLag {
  /** Rows after the last checkpoint (or the purge anchor). */
  unsignedRows: number;
  /** Age of the oldest of them, 0 when none. */
  oldestUnsignedSeconds: number;
  /** When the newest checkpoint was signed (Unix seconds), null when there is none yet. */
  lastCheckpointAt: number | null;
}

// Index lookups only (max of two primary keys, one row by seq): cheap enough for every scrape.
const lagSql = `WITH cp AS (SELECT GREATEST((SELECT max(seq) FROM log_checkpoints), (SELECT seq FROM log_anchor WHERE id = 1), 0) AS seq)
  SELECT GREATEST(COALESCE((SELECT max(seq) FROM message_log), 0) - (SELECT seq FROM cp), 0)::text AS unsigned_rows,
         COALESCE(EXTRACT(EPOCH FROM now() - (SELECT at FROM message_log WHERE seq = (SELECT seq FROM cp) + 1)), 0)::float8 AS oldest_unsigned_seconds,
         EXTRACT(EPOCH FROM (SELECT at FROM log_checkpoints ORDER BY seq DESC LIMIT 1))::float8 AS last_checkpoint_at`;

export async function logLag(db: Queryable): Promise<LogLag> {
  const { rows } = await db.query<{ unsigned_rows: string; oldest_unsigned_seconds: number | string; last_checkpoint_at: number | string | null }>(lagSql);
  const row = rows[0];
  const unsignedRows = Number(row?.unsigned_rows ?? 0);
  return {
    unsignedRows,
    oldestUnsignedSeconds: unsignedRows === 0 ? 0 : Math.max(0, Number(row?.oldest_unsigned_seconds ?? 0)),
    lastCheckpointAt: row?.last_checkpoint_at == null ? null : Number(row.last_checkpoint_at),
  };
}
