// The change feed: one change per golden-record change (with its outbox row, same transaction), numbered after commit.
import { writeOutbox } from '../queue/outbox.ts';
import type { Db, Queryable } from '../storage/db.ts';

export const goldenChangedTopic = 'golden.changed';

export type ChangeType = 'golden.created' | 'golden.updated' | 'golden.merged' | 'golden.unmerged';

export interface Change {
  position: number;
  referential: string;
  goldenId: string;
  version: number;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** Writes the change (position NULL) and its outbox row in the caller's transaction. */
export async function recordChange(
  tx: Queryable,
  change: { referential: string; goldenId: string; version: number; type: ChangeType; payload?: Record<string, unknown> },
): Promise<void> {
  const payload = { referential: change.referential, goldenId: change.goldenId, version: change.version, type: change.type, ...change.payload };
  const outboxId = await writeOutbox(tx, goldenChangedTopic, payload);
  await tx.query('INSERT INTO ref_changes (referential, golden_id, version, type, payload, outbox_id) VALUES ($1, $2, $3, $4, $5::jsonb, $6)', [
    change.referential,
    change.goldenId,
    change.version,
    change.type,
    JSON.stringify(payload),
    outboxId,
  ]);
}

/**
 * Numbers committed unpositioned changes consecutively in id order. One assigner at a time (advisory xact lock), and
 * its statement sees every change committed before it: a position only ever becomes visible above all visible ones,
 * so a reader never finds a change before a position it already read (invariant 4). Returns how many it numbered.
 */
export async function assignChangePositions(db: Db): Promise<number> {
  return db.transaction(
    async (tx) => {
      const { rowCount } = await tx.query(
        `WITH base AS (SELECT COALESCE(max(position), 0) AS p FROM ref_changes),
              todo AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM ref_changes WHERE position IS NULL)
         UPDATE ref_changes c SET position = base.p + todo.rn FROM base, todo WHERE c.id = todo.id`,
      );
      return rowCount;
    },
    { prelude: `SELECT pg_advisory_xact_lock(hashtext('tabadol:ref_changes:assign'))` },
  );
}

/** Positioned changes after `since`, in order; `next` is the cursor for the following call. */
export async function readChanges(db: Queryable, options: { since: number; types?: string[]; limit?: number }): Promise<{ changes: Change[]; next: number }> {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
  const { rows } = await db.query<{ position: string; referential: string; golden_id: string; version: number; type: string; payload: Record<string, unknown>; created_at: Date }>(
    `SELECT position, referential, golden_id, version, type, payload, created_at FROM ref_changes
      WHERE position > $1 AND ($2::text[] IS NULL OR type = ANY($2::text[]))
      ORDER BY position LIMIT $3`,
    [options.since, options.types ?? null, limit],
  );
  const changes = rows.map((r) => ({
    position: Number(r.position),
    referential: r.referential,
    goldenId: r.golden_id,
    version: r.version,
    type: r.type,
    payload: r.payload,
    createdAt: r.created_at,
  }));
  return { changes, next: changes.at(-1)?.position ?? options.since };
}
