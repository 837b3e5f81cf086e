// Steward decisions: merge, unmerge (restoring exactly what the merge replaced), distinct pairs and the review queue;
// every decision audited (who, when, why) and idempotent.
import type { ReviewReason } from './tie.ts';
import { audit } from '../admin/audit.ts';
import type { Db, Queryable } from '../storage/db.ts';
import type { ReferentialModule } from './module.ts';
import { numberChangesAfterCommit, recordChange } from './changes.ts';
import type { BackgroundFailureReport } from '../observability/metrics.ts';
import { StewardshipError } from './engine-types.ts';
import { lockReferential } from './locks.ts';
import { json, lockGoldens, refreshGoldens, stampVersions, supersede, type GoldenRow, type HistoryCause, type RefreshOutcome } from './store.ts';
import { reindexBlockingKeys } from './keys.ts';

/**
 * A referential by module or by name, where the name is all a decision needs. Decisions that recompute records
 * (merge, unmerge, a link) take the module itself: the caller found it in the hub's catalog (src/golden/catalog.ts).
 */
export type ReferentialRef = string | ReferentialModule;

const nameOf = (ref: ReferentialRef): string => (typeof ref === 'string' ? ref : ref.name);

export interface MergeResult {
  decisionId: string;
  survivorId: string;
  mergedId: string;
  survivorVersion: number;
  /** The same merge was already in place: nothing changed. */
  unchanged: boolean;
}

interface MergeSnapshot {
  goldens: Array<Record<string, unknown>>;
  links: Array<Record<string, unknown>>;
  keys: Array<Record<string, unknown>>;
}

async function snapshot(tx: Queryable, ids: string[]): Promise<MergeSnapshot> {
  // One statement (a merge inside an import's chunk makes its round trips while the chunk waits).
  const { rows } = await tx.query<MergeSnapshot>(
    `SELECT (SELECT COALESCE(jsonb_agg(to_jsonb(g) ORDER BY g.id), '[]') FROM ref_golden g WHERE g.id = ANY($1::text[])) AS goldens,
            (SELECT COALESCE(jsonb_agg(to_jsonb(l) ORDER BY l.source_system, l.source_id), '[]') FROM ref_links l WHERE l.golden_id = ANY($1::text[])) AS links,
            (SELECT COALESCE(jsonb_agg(to_jsonb(n) ORDER BY n.key_type, n.key_value), '[]') FROM ref_natural_keys n WHERE n.golden_id = ANY($1::text[])) AS keys`,
    [ids],
  );
  const row = rows[0] as MergeSnapshot;
  return { goldens: row.goldens, links: row.links, keys: row.keys };
}

async function lockBoth(tx: Queryable, referential: string, a: string, b: string): Promise<[GoldenRow, GoldenRow]> {
  if (a === b) throw new StewardshipError('invalid', 'a golden record cannot be merged with or distinct from itself');
  await lockReferential(tx, referential, 'shared');
  // Locked in id order (a fixed order: two stewards working on the same pair never deadlock), in one statement.
  const rows = new Map((await lockGoldens(tx, [a, b])).map((r) => [r.id, r]));
  const ra = rows.get(a);
  const rb = rows.get(b);
  for (const [id, row] of [[a, ra], [b, rb]] as const) {
    if (!row || row.referential !== referential || row.version === 0) throw new StewardshipError('not-found', `no golden record ${id} in ${referential}`);
  }
  return [ra as GoldenRow, rb as GoldenRow];
}

/** Merge inside the caller's transaction (decideReview uses it too). */
export async function mergeIn(
  tx: Queryable,
  module: ReferentialModule,
  input: { survivorId: string; mergedId: string; actor: string; reason: string },
  cause: HistoryCause = 'merge',
): Promise<MergeResult> {
  const referential = module.name;
  const { survivorId, mergedId } = input;
  const [survivor, merged] = await lockBoth(tx, referential, survivorId, mergedId);
  if (merged.status === 'merged' && merged.merged_into === survivorId) {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM ref_steward_decisions WHERE referential = $1 AND kind = 'merge' AND detail->>'mergedId' = $2 AND undone_by IS NULL ORDER BY id DESC LIMIT 1`,
      [referential, mergedId],
    );
    return { decisionId: rows[0]?.id ?? '', survivorId, mergedId, survivorVersion: survivor.version, unchanged: true };
  }
  if (survivor.status !== 'active' || merged.status !== 'active') throw new StewardshipError('conflict', 'only two active golden records can be merged');
  const before = await snapshot(tx, [survivorId, mergedId]);
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO ref_steward_decisions (referential, kind, actor, reason, detail) VALUES ($1, 'merge', $2, $3, $4::jsonb) RETURNING id`,
    [referential, input.actor, input.reason, json({ survivorId, mergedId, before })],
  );
  const decisionId = rows[0]?.id ?? '';
  await tx.query(
    `UPDATE ref_links SET golden_id = $2, how = 'steward', detail = jsonb_build_object('mergeDecision', $3::text), at = clock_timestamp()
      WHERE referential = $4 AND golden_id = $1`,
    [mergedId, survivorId, decisionId, referential],
  );
  // Both records in one set-based refresh: the merged one gives up its natural and blocking keys (it is no longer
  // active), the survivor takes them (keys.ts deletes the records' stale keys before it writes theirs).
  const refreshed = await refreshGoldens(tx, module, [{ goldenId: mergedId, status: { status: 'merged', mergedInto: survivorId }, changeType: 'golden.merged' }, { goldenId: survivorId, force: true }], cause);
  const m = refreshed.get(mergedId) as RefreshOutcome;
  const s = refreshed.get(survivorId) as RefreshOutcome;
  await tx.query(`UPDATE ref_steward_decisions SET detail = detail || $2::jsonb WHERE id = $1`, [decisionId, json({ after: { survivorVersion: s.version, mergedVersion: m.version } })]);
  await audit(tx, input.actor, `referential.${referential}.merge`, mergedId, { survivorId, reason: input.reason, decisionId });
  return { decisionId, survivorId, mergedId, survivorVersion: s.version, unchanged: false };
}

/** Who the engine's own merges are audited as. */
export const matchingActor = 'tabadol:matching';

/**
 * The engine's own merge, when one contribution ties two records (one by a natural key or a score, the other by a score,
 * each at or above the link threshold): audited as the matching engine, undone by unmerge like any merge, never across a
 * pair a steward declared distinct nor between two records holding natural keys of one type (two CINs). undefined: not
 * merged (same record, not both active, a distinct pair, or two keys).
 */
export async function autoMergeIn(tx: Queryable, module: ReferentialModule, survivorId: string, mergedId: string, reason: string): Promise<MergeResult | undefined> {
  if (survivorId === mergedId) return undefined;
  const [a, b] = [survivorId, mergedId].sort() as [string, string];
  // Three refusals, asked in one statement: a pair a steward declared distinct; two records holding natural keys of one
  // type, which hold two different ones (a key has one holder): two entities, a CIN each, whatever the contribution's
  // score says (it was measured against one of them only); a record that is not active.
  const { rows } = await tx.query<{ declared_distinct: boolean; key_clash: boolean; active: number }>(
    `SELECT EXISTS (SELECT 1 FROM ref_distinct_pairs WHERE referential = $1 AND golden_a = $2 AND golden_b = $3) AS declared_distinct,
            EXISTS (SELECT key_type FROM ref_natural_keys WHERE referential = $1 AND golden_id = ANY($4::text[]) GROUP BY key_type HAVING count(DISTINCT golden_id) > 1) AS key_clash,
            (SELECT count(*)::int FROM ref_golden WHERE id = ANY($4::text[]) AND referential = $1 AND status = 'active') AS active`,
    [module.name, a, b, [a, b]],
  );
  const refusal = rows[0];
  if (!refusal || refusal.declared_distinct || refusal.key_clash || refusal.active !== 2) return undefined;
  return mergeIn(tx, module, { survivorId, mergedId, actor: matchingActor, reason }, 'merge');
}

/** Options of the steward decisions that write changes. */
export interface StewardOptions {
  /** Where a failed numbering of the change feed after commit is reported (see numberChangesAfterCommit). */
  reportFailure?: BackgroundFailureReport;
}

export async function merge(db: Db, module: ReferentialModule, input: { survivorId: string; mergedId: string; actor: string; reason: string }, options: StewardOptions = {}): Promise<MergeResult> {
  const result = await db.transaction((tx) => mergeIn(tx, module, input));
  if (!result.unchanged) await numberChangesAfterCommit(db, options.reportFailure, { after: 'merge', referential: module.name, decisionId: result.decisionId });
  return result;
}

export interface UnmergeResult {
  decisionId: string;
  restored: Array<{ goldenId: string; version: number }>;
  unchanged: boolean;
}

/**
 * Restores exactly the golden records (ids, attributes, versions), links and natural keys that the merge replaced
 * (invariant 2), with a new history entry and change event for each. Refused when either record changed since the
 * merge: restoring would silently drop that later change. A merge decision of another referential than `module` is
 * not found (its blocking keys are recomputed by `module`).
 */
export async function unmerge(db: Db, module: ReferentialModule, input: { mergeDecisionId: string; actor: string; reason: string }, options: StewardOptions = {}): Promise<UnmergeResult> {
  const result = await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ referential: string; kind: string; undone_by: string | null; detail: { survivorId: string; mergedId: string; before: MergeSnapshot; after?: { survivorVersion: number; mergedVersion: number } } }>(
      'SELECT referential, kind, undone_by, detail FROM ref_steward_decisions WHERE id = $1 FOR UPDATE',
      [input.mergeDecisionId],
    );
    const decision = rows[0];
    if (!decision || decision.kind !== 'merge' || decision.referential !== module.name) throw new StewardshipError('not-found', `no merge decision ${input.mergeDecisionId}`);
    const { referential, detail } = decision;
    const ids = [detail.survivorId, detail.mergedId];
    if (decision.undone_by !== null) {
      const restored = detail.before.goldens.map((g) => ({ goldenId: String(g.id), version: Number(g.version) }));
      return { decisionId: decision.undone_by, restored, unchanged: true };
    }
    const [survivor, merged] = await lockBoth(tx, referential, detail.survivorId, detail.mergedId);
    if (survivor.version !== detail.after?.survivorVersion || merged.version !== detail.after.mergedVersion) {
      throw new StewardshipError('conflict', 'the golden records changed since the merge: unmerge would lose those changes');
    }
    await tx.query('DELETE FROM ref_links WHERE referential = $1 AND golden_id = ANY($2::text[])', [referential, ids]);
    await tx.query('DELETE FROM ref_natural_keys WHERE referential = $1 AND golden_id = ANY($2::text[])', [referential, ids]);
    // The versions the merge left are kept as superseded; the records take back their versions from before it.
    await supersede(tx, ids);
    for (const g of detail.before.goldens) {
      await tx.query(
        `UPDATE ref_golden g SET (version, status, merged_into, attributes, attribute_values, blocking_text, match_fields, created_at, updated_at) =
           (SELECT r.version, r.status, r.merged_into, r.attributes, COALESCE(r.attribute_values, ref_attribute_values(r.attributes)), r.blocking_text, r.match_fields, r.created_at, r.updated_at
              FROM jsonb_populate_record(NULL::ref_golden, $2::jsonb) r)
          WHERE g.id = $1`,
        [String(g.id), json(g)],
      );
    }
    await tx.query('INSERT INTO ref_links SELECT * FROM jsonb_populate_recordset(NULL::ref_links, $1::jsonb)', [json(detail.before.links)]);
    await tx.query('INSERT INTO ref_natural_keys SELECT * FROM jsonb_populate_recordset(NULL::ref_natural_keys, $1::jsonb)', [json(detail.before.keys)]);
    // Blocking keys are derived from the links: recomputed rather than kept in the snapshot.
    await reindexBlockingKeys(tx, module, ids);
    const { rows: ins } = await tx.query<{ id: string }>(
      `INSERT INTO ref_steward_decisions (referential, kind, actor, reason, detail) VALUES ($1, 'unmerge', $2, $3, $4::jsonb) RETURNING id`,
      [referential, input.actor, input.reason, json({ mergeDecisionId: input.mergeDecisionId })],
    );
    const decisionId = ins[0]?.id ?? '';
    await tx.query('UPDATE ref_steward_decisions SET undone_by = $2 WHERE id = $1', [input.mergeDecisionId, decisionId]);
    const restored: Array<{ goldenId: string; version: number }> = [];
    for (const id of ids) {
      const { rows: links } = await tx.query<{ system: string; id: string; version: number }>(
        `SELECT s.source_system AS system, s.source_id AS id, s.version FROM ref_links l JOIN ref_source_records s USING (referential, source_system, source_id)
          WHERE l.referential = $1 AND l.golden_id = $2 ORDER BY 1, 2`,
        [referential, id],
      );
      await stampVersions(tx, [{ goldenId: id, links }], 'unmerge');
      const { rows: v } = await tx.query<{ version: number }>('SELECT version FROM ref_golden WHERE id = $1', [id]);
      const version = v[0]?.version ?? 0;
      await recordChange(tx, { referential, goldenId: id, version, type: 'golden.unmerged', payload: { mergeDecisionId: input.mergeDecisionId } });
      restored.push({ goldenId: id, version });
    }
    await audit(tx, input.actor, `referential.${referential}.unmerge`, detail.mergedId, { survivorId: detail.survivorId, reason: input.reason, mergeDecisionId: input.mergeDecisionId, decisionId });
    return { decisionId, restored, unchanged: false };
  });
  if (!result.unchanged) await numberChangesAfterCommit(db, options.reportFailure, { after: 'unmerge', mergeDecisionId: input.mergeDecisionId });
  return result;
}

async function markDistinctIn(tx: Queryable, referential: string, input: { a: string; b: string; actor: string; reason: string }): Promise<{ decisionId: string; unchanged: boolean }> {
  await lockBoth(tx, referential, input.a, input.b);
  const [a, b] = [input.a, input.b].sort() as [string, string];
  const { rows: known } = await tx.query<{ decision_id: string }>('SELECT decision_id FROM ref_distinct_pairs WHERE referential = $1 AND golden_a = $2 AND golden_b = $3', [
    referential,
    a,
    b,
  ]);
  if (known[0]) return { decisionId: known[0].decision_id, unchanged: true };
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO ref_steward_decisions (referential, kind, actor, reason, detail) VALUES ($1, 'distinct', $2, $3, $4::jsonb) RETURNING id`,
    [referential, input.actor, input.reason, json({ a, b })],
  );
  const decisionId = rows[0]?.id ?? '';
  await tx.query('INSERT INTO ref_distinct_pairs (referential, golden_a, golden_b, decision_id) VALUES ($1, $2, $3, $4)', [referential, a, b, decisionId]);
  await audit(tx, input.actor, `referential.${referential}.distinct`, a, { other: b, reason: input.reason, decisionId });
  return { decisionId, unchanged: false };
}

/** Remembers that two golden records are different entities: never proposed or auto-linked together again (invariant 3). */
export async function markDistinct(db: Db, ref: ReferentialRef, input: { a: string; b: string; actor: string; reason: string }): Promise<{ decisionId: string; unchanged: boolean }> {
  return db.transaction((tx) => markDistinctIn(tx, nameOf(ref), input));
}

export interface ReviewItem {
  id: string;
  referential: string;
  source: { system: string; id: string };
  goldenId: string;
  /** `review` and `uncertain`: why the engine proposed it (src/golden/tie.ts); absent on items written before issue 18's rule. */
  candidates: Array<{ goldenId: string; score: number; weights: Record<string, number>; review?: ReviewReason; uncertain?: { field: string; scoreIfAgreeing: number } }>;
  status: 'open' | 'linked' | 'distinct';
  linkedTo: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  createdAt: Date;
}

interface ReviewRow {
  id: string;
  referential: string;
  source_system: string;
  source_id: string;
  golden_id: string;
  candidates: ReviewItem['candidates'];
  status: ReviewItem['status'];
  linked_to: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  created_at: Date;
}

const toItem = (r: ReviewRow): ReviewItem => ({
  id: r.id,
  referential: r.referential,
  source: { system: r.source_system, id: r.source_id },
  goldenId: r.golden_id,
  candidates: r.candidates,
  status: r.status,
  linkedTo: r.linked_to,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  reason: r.reason,
  createdAt: r.created_at,
});

/** `after`: the items after this id (the console's keyset pages: the next page costs what the first does). */
export async function reviewQueue(db: Queryable, ref: ReferentialRef, options: { status?: ReviewItem['status']; limit?: number; after?: string } = {}): Promise<ReviewItem[]> {
  const { rows } = await db.query<ReviewRow>(
    'SELECT * FROM ref_review_items WHERE referential = $1 AND ($2::text IS NULL OR status = $2) AND ($4::bigint IS NULL OR id > $4) ORDER BY id LIMIT $3',
    [nameOf(ref), options.status ?? null, Math.min(options.limit ?? 100, 1000), options.after ?? null],
  );
  return rows.map(toItem);
}

/**
 * Decides a review item. 'link': the item's new golden record is merged into `goldenId` (one of the candidates; an
 * unmergeable merge decision). 'distinct': remembered against `goldenId`, or every candidate when none is named.
 * Deciding again the same way changes nothing; deciding differently is a conflict. An item of another referential than
 * `module` is not found.
 */
export async function decideReview(
  db: Db,
  input: { reviewId: string; decision: 'link' | 'distinct'; goldenId?: string; actor: string; reason: string; module: ReferentialModule },
  options: StewardOptions = {},
): Promise<{ item: ReviewItem; unchanged: boolean; mergeDecisionId?: string }> {
  const result = await db.transaction(async (tx) => {
    const { rows } = await tx.query<ReviewRow>('SELECT * FROM ref_review_items WHERE id = $1 FOR UPDATE', [input.reviewId]);
    const row = rows[0];
    if (!row || row.referential !== input.module.name) throw new StewardshipError('not-found', `no review item ${input.reviewId}`);
    const wanted = input.decision === 'link' ? 'linked' : 'distinct';
    if (row.status !== 'open') {
      const same = row.status === wanted && (input.goldenId === undefined || input.goldenId === (row.linked_to ?? input.goldenId));
      if (same) return { item: toItem(row), unchanged: true };
      throw new StewardshipError('conflict', `review item ${input.reviewId} was already decided: ${row.status}`);
    }
    const candidateIds = row.candidates.map((c) => c.goldenId);
    if (input.goldenId !== undefined && !candidateIds.includes(input.goldenId)) throw new StewardshipError('invalid', `${input.goldenId} is not a candidate of review item ${input.reviewId}`);
    let mergeDecisionId: string | undefined;
    let linkedTo: string | null = null;
    if (input.decision === 'link') {
      if (input.goldenId === undefined) throw new StewardshipError('invalid', 'a link decision names the golden record to link to');
      const merged = await mergeIn(tx, input.module, { survivorId: input.goldenId, mergedId: row.golden_id, actor: input.actor, reason: input.reason }, 'review');
      mergeDecisionId = merged.decisionId;
      linkedTo = input.goldenId;
    } else {
      for (const other of input.goldenId === undefined ? candidateIds : [input.goldenId]) {
        await markDistinctIn(tx, row.referential, { a: row.golden_id, b: other, actor: input.actor, reason: input.reason });
      }
    }
    const { rows: updated } = await tx.query<ReviewRow>(
      'UPDATE ref_review_items SET status = $2, linked_to = $3, decided_by = $4, decided_at = now(), reason = $5 WHERE id = $1 RETURNING *',
      [input.reviewId, wanted, linkedTo, input.actor, input.reason],
    );
    await audit(tx, input.actor, `referential.${row.referential}.review`, input.reviewId, { decision: input.decision, goldenId: input.goldenId ?? null, reason: input.reason });
    return { item: toItem(updated[0] as ReviewRow), unchanged: false, ...(mergeDecisionId ? { mergeDecisionId } : {}) };
  });
  if (!result.unchanged) await numberChangesAfterCommit(db, options.reportFailure, { after: 'review decision', reviewId: input.reviewId });
  return result;
}
