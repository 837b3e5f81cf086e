// The change feed: one change per golden-record change (with its outbox row, same transaction), numbered after commit.
import type { BackgroundFailureReport } from '../observability/metrics.ts';
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

/**
 * Topic of a bulk import's grouped events: one outbox row per transaction, `{ referential, changes, firstChange,
 * lastChange }`: how many changes it wrote, and the range of change-feed ids (ref_changes.id) that holds them, each
 * with `outbox_id` naming this row (other writers' changes may fall inside the range).
 */
export const goldenChangedBatchTopic = 'golden.changed.batch';

export interface ChangeEvent {
  goldenId: string;
  version: number;
  type: ChangeType;
  payload?: Record<string, unknown>;
}

/** Writes the change (position NULL) and its outbox row in the caller's transaction. */
export async function recordChange(tx: Queryable, change: ChangeEvent & { referential: string }): Promise<void> {
  await recordChanges(tx, change.referential, [change]);
}

/**
 * Writes changes (position NULL) with their outbox rows in the caller's transaction, in one statement: one outbox row
 * per change on `golden.changed`. A bulk import writes its changes through writeNumberedChanges instead.
 */
export async function recordChanges(tx: Queryable, referential: string, changes: readonly ChangeEvent[]): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `WITH input AS (SELECT p, ord FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS u(p, ord)),
          ob AS (INSERT INTO outbox (topic, payload) SELECT $3, p FROM input ORDER BY ord RETURNING id, payload)
     INSERT INTO ref_changes (referential, golden_id, version, type, payload, outbox_id)
     SELECT $1, payload->>'goldenId', (payload->>'version')::int, payload->>'type', payload, id FROM ob ORDER BY id`,
    [referential, changePayloads(referential, changes), goldenChangedTopic],
  );
}

/** One JSON document (a jsonb[] parameter is serialised element by element by the driver, escaping every quote). */
function changePayloads(referential: string, changes: readonly ChangeEvent[]): string {
  return JSON.stringify(changes.map((c) => ({ referential, goldenId: c.goldenId, version: c.version, type: c.type, ...c.payload })));
}

/** Numbers the visible unnumbered changes consecutively in id order, above the highest position (under numberingLock). */
const numberUnpositioned = `WITH base AS (SELECT COALESCE(max(position), 0) AS p FROM ref_changes),
      todo AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM ref_changes WHERE position IS NULL)
 UPDATE ref_changes c SET position = base.p + todo.rn FROM base, todo WHERE c.id = todo.id`;

/** The advisory lock that makes one numberer at a time (assignChangePositions, writeNumberedChanges). */
const numberingLock = `SELECT pg_advisory_xact_lock(hashtext('tabadol:ref_changes:assign'))`;

/**
 * A bulk import's changes (gathered from its chunk's statements, in order), written numbered, with one outbox row for
 * all on `golden.changed.batch` (a million-row import does not put a million jobs through the queue), in the caller's
 * transaction. Any unnumbered change that transaction wrote before (an earlier round's ties, in a sync job's
 * transaction: src/sync/ingest.ts) is numbered here, before these, as it was written before them; so the caller must
 * write no unnumbered change of its own before these that belongs after them. The numbering lock it takes is held
 * until that transaction ends: other writers' changes are numbered after it commits.
 *
 * Numbered as they are inserted, under the numberer's lock, rather than inserted unnumbered and numbered after commit
 * (docs/decisions.md §34): that UPDATE wrote every change row a second time, with three index entries. The order stays
 * sound (invariant 4): the lock is taken in a statement of its own, so the next statements see every change committed
 * before; the changes other writers committed unnumbered are numbered first (a record's earlier version may be among
 * them), these above them; no other numberer can run until this transaction ends, so these positions become visible
 * above every visible one.
 */
export async function writeNumberedChanges(tx: Queryable, referential: string, changes: readonly ChangeEvent[]): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(numberingLock);
  await tx.query(numberUnpositioned);
  // The outbox row's id drawn first, every change pointing at it, then the row naming them. The row does not repeat
  // the changes (the feed has them): a copy of thousands of payloads a chunk was compressed, logged and relayed for
  // nothing.
  await tx.query(
    `WITH ob AS (SELECT nextval(pg_get_serial_sequence('outbox', 'id')) AS id),
          base AS (SELECT COALESCE(max(position), 0) AS at FROM ref_changes),
          ch AS (INSERT INTO ref_changes (referential, golden_id, version, type, payload, outbox_id, position)
                 SELECT $1, p->>'goldenId', (p->>'version')::int, p->>'type', p, (SELECT id FROM ob), (SELECT at FROM base) + ord
                   FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS u(p, ord) ORDER BY ord
                 RETURNING id)
     INSERT INTO outbox (id, topic, payload)
     SELECT (SELECT id FROM ob), $3, jsonb_build_object('referential', $1::text, 'changes', count(*), 'firstChange', min(id), 'lastChange', max(id)) FROM ch`,
    [referential, changePayloads(referential, changes), goldenChangedBatchTopic],
  );
}

/**
 * Numbers committed unpositioned changes consecutively in id order. One assigner at a time (advisory xact lock), and
 * its statement sees every change committed before it: a position only ever becomes visible above all visible ones,
 * so a reader never finds a change before a position it already read (invariant 4). Returns how many it numbered.
 */
export async function assignChangePositions(db: Db): Promise<number> {
  return db.transaction(
    async (tx) => {
      const { rowCount } = await tx.query(numberUnpositioned);
      return rowCount;
    },
    { prelude: numberingLock },
  );
}

/** The background task name under which a failed numbering is logged and counted. */
export const numberingTask = 'change-feed-numbering';

/**
 * Numbers the change feed right after a write committed, so that readers see its changes at once. A failure here must
 * not fail the write, which is committed: its changes stay unnumbered until the hub's periodic numbering
 * (referentials/services.ts) numbers them, within seconds. The failure is reported with `context`; without a reporter
 * (a script or a test calling the engine directly) it is a process warning on stderr.
 */
export async function numberChangesAfterCommit(db: Db, report: BackgroundFailureReport | undefined, context: Record<string, unknown>): Promise<void> {
  try {
    await assignChangePositions(db);
  } catch (err) {
    if (report) report(numberingTask, err, context);
    else process.emitWarning(`${numberingTask} failed (${JSON.stringify(context)}): ${(err as Error).message}`, 'BackgroundFailure');
  }
}

/**
 * The numbering's recovery path: numbers, every `everyMs`, the changes that a write committed but did not number (the
 * process stopped between its commit and its numbering, or that numbering failed and was reported). Readers then see
 * them a few seconds late, never out of order (assignChangePositions). Its own failures are reported and retried at
 * the next tick.
 */
export function startNumberingRecovery(db: Db, report: BackgroundFailureReport, everyMs = 2000): { stop(): void } {
  const timer = setInterval(() => {
    void assignChangePositions(db).catch((err: unknown) => report(numberingTask, err, { after: 'periodic recovery' }));
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
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
