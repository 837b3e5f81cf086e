// Contributions: normalise, version the source record, match (natural keys, then trigram candidates and score), link,
// recompute the golden record by survivorship, history and change event, all in one transaction.
import { linkCandidate, reviewProposals } from './tie.ts';
import { goldenRecordId } from './ids.ts';
import type { Db, Queryable } from '../storage/db.ts';
import type { MatchProfile, MatchScore, NaturalKey, ReferentialModule } from './module.ts';
import { numberChangesAfterCommit } from './changes.ts';
import type { BackgroundFailureReport } from '../observability/metrics.ts';
import { ContributionRefusedError, type ContributionInput, type ContributionResult } from './engine-types.ts';
import { blockingKeyHash } from './keys.ts';
import { lockReferential } from './locks.ts';
import { autoMergeIn } from './stewardship.ts';
import { json, lockGolden, refreshGolden, type GoldenRow, type LinkRow } from './store.ts';

export { lockReferential };

export { survive, plainValues, type SurvivorshipSource } from './engine-survivorship.ts';
export * from './engine-types.ts';

export interface ContributeOptions {
  /** Number the change feed right after commit (default true); a periodic assignChangePositions does it otherwise. */
  assignPositions?: boolean;
  /** Where a failed numbering after commit is reported (see numberChangesAfterCommit). */
  reportFailure?: BackgroundFailureReport;
  /** Test hook: runs inside the transaction after everything is written; throwing rolls the whole contribution back. */
  beforeCommit?: (tx: Queryable) => Promise<void>;
}

export interface Candidate {
  goldenId: string;
  score: number;
  weights: MatchScore['weights'];
}

const retryable = new Set(['40P01', '40001', '23505']);

/** Runs fn again when Postgres resolved a race by aborting us (deadlock, serialisation, a unique key taken meanwhile). */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (i >= attempts || typeof code !== 'string' || !retryable.has(code)) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 10));
    }
  }
}

/**
 * Transaction-scoped advisory locks, in a fixed order so that two contributions never wait on each other in a cycle,
 * after the referential's lock in shared mode: a bulk import takes it exclusively (see bulk.ts), so that it never
 * works beside single contributions or steward decisions on the same referential.
 */
async function lockNames(tx: Queryable, referential: string, names: string[]): Promise<void> {
  await lockReferential(tx, referential, 'shared');
  for (const name of [...new Set(names)].sort()) await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name]);
}


export async function contribute(db: Db, module: ReferentialModule, input: ContributionInput, options: ContributeOptions = {}): Promise<ContributionResult> {
  const normalised = module.normalise(input.attributes);
  if (!normalised.ok) throw new ContributionRefusedError(normalised.problems);
  const attributes = normalised.attributes;
  const keys = module.naturalKeys(attributes);
  const receivedAt = input.receivedAt ?? new Date();
  const result = await withRetry(() =>
    db.transaction(async (tx) => {
      const r = await contributeIn(tx, module, { ...input, receivedAt }, attributes, keys);
      if (r.decision !== 'unchanged') await options.beforeCommit?.(tx);
      return r;
    }),
  );
  result.warnings.unshift(...normalised.warnings);
  if (result.decision !== 'unchanged' && options.assignPositions !== false) {
    await numberChangesAfterCommit(db, options.reportFailure, { after: 'contribution', referential: module.name, goldenId: result.goldenId });
  }
  return result;
}

/**
 * One contribution inside the caller's transaction. `lockedExclusively`: the caller (a bulk import) holds the
 * referential's exclusive lock, so the per-source and per-key locks are not needed (and would fill the lock table).
 */
export async function contributeIn(
  tx: Queryable,
  module: ReferentialModule,
  input: ContributionInput & { receivedAt: Date },
  attributes: Record<string, unknown>,
  keys: NaturalKey[],
  lockedExclusively = false,
): Promise<ContributionResult> {
  const referential = module.name;
  const { sourceSystem, sourceId } = input;
  // The source lock serialises a source's versions; key locks stop two sources with one CIN making two goldens.
  if (!lockedExclusively) await lockNames(tx, referential, [`ref:src:${referential}:${sourceSystem}:${sourceId}`, ...keys.map((k) => `ref:key:${referential}:${k.type}:${k.value}`)]);
  const { rows: current } = await tx.query<{ version: number; same: boolean; golden_id: string | null; how: LinkRow['how'] | null }>(
    `SELECT s.version, s.attributes = $4::jsonb AS same, l.golden_id, l.how FROM ref_source_records s
       LEFT JOIN ref_links l USING (referential, source_system, source_id)
      WHERE s.referential = $1 AND s.source_system = $2 AND s.source_id = $3`,
    [referential, sourceSystem, sourceId, json(attributes)],
  );
  const existing = current[0];
  if (existing?.same && existing.golden_id) {
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM ref_golden WHERE id = $1', [existing.golden_id]);
    return { goldenId: existing.golden_id, decision: 'unchanged', version: rows[0]?.version ?? 0, warnings: [] };
  }
  const version = (existing?.version ?? 0) + 1;
  // The version this one supersedes is kept in ref_source_versions (the current one lives in ref_source_records only).
  if (existing) {
    await tx.query(
      `INSERT INTO ref_source_versions (referential, source_system, source_id, version, attributes, received_at, recorded_at)
       SELECT referential, source_system, source_id, version, attributes, received_at, recorded_at FROM ref_source_records
        WHERE referential = $1 AND source_system = $2 AND source_id = $3`,
      [referential, sourceSystem, sourceId],
    );
  }
  await tx.query(
    `INSERT INTO ref_source_records (referential, source_system, source_id, version, attributes, received_at, recorded_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, now())
     ON CONFLICT (referential, source_system, source_id) DO UPDATE SET version = EXCLUDED.version, attributes = EXCLUDED.attributes, received_at = EXCLUDED.received_at, recorded_at = EXCLUDED.recorded_at`,
    [referential, sourceSystem, sourceId, version, json(attributes), input.receivedAt],
  );

  if (existing?.golden_id) {
    await lockGolden(tx, existing.golden_id);
    if (existing.how === 'new') {
      const rematched = await rematchSingleton(tx, module, { sourceSystem, sourceId }, existing.golden_id, attributes, keys);
      if (rematched) return rematched;
    }
    // Otherwise an already linked source keeps its link (only a steward moves links): its golden is recomputed.
    const r = await refreshGolden(tx, module, existing.golden_id, 'contribution');
    return { goldenId: existing.golden_id, decision: r.changed ? 'updated' : 'unchanged', version: r.version, warnings: r.warnings };
  }

  const link = async (goldenId: string, how: LinkRow['how'], detail: Record<string, unknown>) =>
    tx.query(`INSERT INTO ref_links (referential, source_system, source_id, golden_id, how, detail, at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, clock_timestamp())`, [
      referential,
      sourceSystem,
      sourceId,
      goldenId,
      how,
      json(detail),
    ]);

  // 1. Deterministic: a golden record that already has one of these natural keys.
  const byKey = await goldenByKeys(tx, referential, keys, null);
  if (byKey) {
    await lockGolden(tx, byKey.goldenId);
    await link(byKey.goldenId, 'identifier', { key: byKey.key });
    const r = await refreshGolden(tx, module, byKey.goldenId, 'contribution', { force: true });
    // The source may also tie another record to this one by score (that record lacked the identifier): merge it in.
    const profile = module.matchProfile?.(attributes);
    const other = (profile ? await scoredCandidates(tx, module, attributes, profile, byKey.goldenId) : [])[0];
    if (other && module.thresholds && other.score >= module.thresholds.link) {
      const merged = await autoMergeIn(tx, module, byKey.goldenId, other.goldenId, tieReason({ sourceSystem, sourceId }, byKey.key, other.score));
      if (merged) return { goldenId: byKey.goldenId, decision: 'linked-identifier', version: merged.survivorVersion, warnings: r.warnings };
    }
    return { goldenId: byKey.goldenId, decision: 'linked-identifier', version: r.version, warnings: r.warnings };
  }

  // 2. Fuzzy: the records sharing a blocking key with it (scoredCandidates: never the trigram search), scored by the module.
  const profile = module.matchProfile?.(attributes);
  const candidates = profile ? await scoredCandidates(tx, module, attributes, profile, null) : [];
  const thresholds = module.thresholds;
  const best = linkCandidate(candidates, thresholds?.link);
  if (best) {
    await lockGolden(tx, best.goldenId);
    await link(best.goldenId, 'score', { score: best.score, weights: best.weights });
    const r = await refreshGolden(tx, module, best.goldenId, 'contribution', { force: true });
    // The source may also score at link against a second record: it ties the two, which are merged (§27).
    const other = bridgedByScore(candidates, thresholds?.link);
    if (other) {
      const merged = await autoMergeIn(tx, module, best.goldenId, other.goldenId, bridgeReason({ sourceSystem, sourceId }, best.score, other.score));
      if (merged) return { goldenId: best.goldenId, decision: 'linked-score', version: merged.survivorVersion, warnings: r.warnings };
    }
    return { goldenId: best.goldenId, decision: 'linked-score', version: r.version, warnings: r.warnings };
  }

  // 3. A new golden record; a review item when some candidates came close, tied, or were one uncertain field from a link.
  const goldenId = await createGolden(tx, referential);
  await link(goldenId, 'new', {});
  const r = await refreshGolden(tx, module, goldenId, 'contribution');
  const proposed = reviewProposals(candidates, thresholds);
  if (proposed.length === 0) return { goldenId, decision: 'created', version: r.version, warnings: r.warnings };
  const { rows } = await tx.query<{ id: string }>(
    'INSERT INTO ref_review_items (referential, source_system, source_id, golden_id, candidates) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id',
    [referential, sourceSystem, sourceId, goldenId, json(proposed)],
  );
  return { goldenId, decision: 'review', version: r.version, warnings: r.warnings, reviewId: rows[0]?.id ?? '' };
}

/** Why the engine merged two records: the source that ties them. */
export function tieReason(source: { sourceSystem: string; sourceId: string }, key: NaturalKey, score: number): string {
  return `source ${source.sourceSystem} ${source.sourceId} has this record's ${key.type} and scores ${score} against the merged record`;
}

/**
 * The record merged into the one a source links to by score (docs/decisions.md §27): the next candidate, when the source
 * scores at or above the link threshold against it too. The source is then the same person as both records, which are
 * one. Only the next one, as the in-memory evaluator measures it (referentials/persons/evaluate.ts). `candidates`: best
 * first, and the first one linked (linkCandidate: not a tie, which goes to review). autoMergeIn still refuses two
 * records holding different natural keys of one type (two CINs, two people) and a pair remembered distinct.
 */
export function bridgedByScore<C extends MatchScore>(candidates: readonly C[], link: number | undefined): C | undefined {
  const second = candidates[1];
  return second !== undefined && link !== undefined && second.score >= link ? second : undefined;
}

/** Why the engine merged two records: the source linked by score to the survivor also scores at link against the merged one. */
export function bridgeReason(source: { sourceSystem: string; sourceId: string }, linkScore: number, score: number): string {
  return `source ${source.sourceSystem} ${source.sourceId} was linked to this record by a score of ${linkScore} and scores ${score} against the merged record, both at or above the link threshold`;
}

/** A new, empty golden record (version 0): refreshGolden makes it version 1 from its links. */
export async function createGolden(tx: Queryable, referential: string): Promise<string> {
  const id = goldenRecordId();
  await tx.query(
    `INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, created_at, updated_at) VALUES ($1, $2, 0, 'active', '{}'::jsonb, '{}', clock_timestamp(), clock_timestamp())`,
    [id, referential],
  );
  return id;
}

async function goldenByKeys(tx: Queryable, referential: string, keys: NaturalKey[], exclude: string | null): Promise<{ goldenId: string; key: NaturalKey } | undefined> {
  if (keys.length === 0) return undefined;
  const { rows } = await tx.query<{ golden_id: string; key_type: string; key_value: string; ord: number }>(
    `SELECT n.golden_id, n.key_type, n.key_value, k.ord FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(t, v, ord)
       JOIN ref_natural_keys n ON n.referential = $1 AND n.key_type = k.t AND n.key_value = k.v
       JOIN ref_golden g ON g.id = n.golden_id AND g.status = 'active'
      WHERE ${notExcluded('n.golden_id', '$4')}
      ORDER BY k.ord LIMIT 1`,
    [referential, keys.map((k) => k.type), keys.map((k) => k.value), exclude],
  );
  const row = rows[0];
  return row ? { goldenId: row.golden_id, key: { type: row.key_type, value: row.key_value } } : undefined;
}

/**
 * Active golden records sharing a blocking key with the profile (one equality join on ref_blocking_keys), minus
 * `exclude` and every record remembered as distinct from it (invariant 3), scored by the module, best first.
 */
export async function scoredCandidates(tx: Queryable, module: ReferentialModule, attributes: Record<string, unknown>, profile: MatchProfile, exclude: string | null): Promise<Candidate[]> {
  const probe = module.blockingKeys?.(attributes).probe ?? [];
  if (!module.score || probe.length === 0) return [];
  const { rows } = await tx.query<Pick<GoldenRow, 'id' | 'match_fields'>>(
    `SELECT g.id, g.match_fields FROM ref_golden g
      WHERE g.id IN (SELECT b.golden_id FROM unnest($2::text[]) AS k(key) JOIN ref_blocking_keys b ON b.key_hash = ${blockingKeyHash('$1', 'k.key')})
        AND g.status = 'active' AND ${notExcluded('g.id', '$3')}`,
    [module.name, probe, exclude],
  );
  const score = module.score;
  return rows
    .map((r) => ({ goldenId: r.id, ...score(profile.fields, r.match_fields ?? {}) }))
    .sort((a, b) => b.score - a.score || (a.goldenId < b.goldenId ? -1 : 1))
    .slice(0, 20);
}

/** SQL: `column` is neither the excluded golden (a text parameter, may be NULL) nor remembered as distinct from it. */
function notExcluded(column: string, param: string): string {
  return `(${param}::text IS NULL OR (${column} <> ${param} AND NOT EXISTS (
            SELECT 1 FROM ref_distinct_pairs d WHERE d.referential = $1
               AND ((d.golden_a = ${param} AND d.golden_b = ${column}) OR (d.golden_b = ${param} AND d.golden_a = ${column})))))`;
}

/**
 * A golden record made for one source alone (never touched by a steward) is matched again when that source sends
 * better data: it may now belong to an existing record (then it is merged into it) or deserve a review. Records
 * remembered as distinct from it are never candidates. undefined: nothing to do, recompute as usual.
 */
async function rematchSingleton(
  tx: Queryable,
  module: ReferentialModule,
  source: { sourceSystem: string; sourceId: string },
  goldenId: string,
  attributes: Record<string, unknown>,
  keys: NaturalKey[],
): Promise<ContributionResult | undefined> {
  const referential = module.name;
  const { rows: count } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM ref_links WHERE referential = $1 AND golden_id = $2', [referential, goldenId]);
  if (count[0]?.n !== 1) return undefined;
  const byKey = await goldenByKeys(tx, referential, keys, goldenId);
  const profile = byKey ? undefined : module.matchProfile?.(attributes);
  const candidates = profile ? await scoredCandidates(tx, module, attributes, profile, goldenId) : [];
  const thresholds = module.thresholds;
  const best = linkCandidate(candidates, thresholds?.link);
  const target = byKey
    ? { goldenId: byKey.goldenId, how: 'identifier' as const, detail: { key: byKey.key }, decision: 'linked-identifier' as const }
    : best
      ? { goldenId: best.goldenId, how: 'score' as const, detail: { score: best.score, weights: best.weights }, decision: 'linked-score' as const }
      : undefined;
  if (target) {
    await lockGolden(tx, target.goldenId);
    await tx.query('UPDATE ref_links SET golden_id = $4, how = $5, detail = $6::jsonb, at = clock_timestamp() WHERE referential = $1 AND source_system = $2 AND source_id = $3', [
      referential,
      source.sourceSystem,
      source.sourceId,
      target.goldenId,
      target.how,
      json(target.detail),
    ]);
    const merged = await refreshGolden(tx, module, goldenId, 'contribution', { status: { status: 'merged', mergedInto: target.goldenId }, changeType: 'golden.merged' });
    const r = await refreshGolden(tx, module, target.goldenId, 'contribution', { force: true });
    // Linked by score, it may tie a second record to the first, as a new source would (step 2 above).
    const other = best && target.how === 'score' ? bridgedByScore(candidates, thresholds?.link) : undefined;
    const bridged = other && best ? await autoMergeIn(tx, module, target.goldenId, other.goldenId, bridgeReason(source, best.score, other.score)) : undefined;
    return { goldenId: target.goldenId, decision: target.decision, version: bridged?.survivorVersion ?? r.version, warnings: [...merged.warnings, ...r.warnings] };
  }
  const proposed = reviewProposals(candidates, thresholds);
  if (proposed.length === 0) return undefined;
  const r = await refreshGolden(tx, module, goldenId, 'contribution');
  const { rows: open } = await tx.query<{ id: string }>(`SELECT id FROM ref_review_items WHERE referential = $1 AND golden_id = $2 AND status = 'open'`, [referential, goldenId]);
  let reviewId = open[0]?.id;
  if (reviewId) {
    await tx.query('UPDATE ref_review_items SET candidates = $2::jsonb WHERE id = $1', [reviewId, json(proposed)]);
  } else {
    const { rows } = await tx.query<{ id: string }>(
      'INSERT INTO ref_review_items (referential, source_system, source_id, golden_id, candidates) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id',
      [referential, source.sourceSystem, source.sourceId, goldenId, json(proposed)],
    );
    reviewId = rows[0]?.id ?? '';
  }
  return { goldenId, decision: 'review', version: r.version, warnings: r.warnings, reviewId };
}
