// Survivorship conflicts made visible: a source's value that lost to a more trusted source's on a golden record it is
// linked to. Survivorship decides (the trust order of the referential's module); a steward sees it in the review queue.
import type { Db, Queryable } from '../storage/db.ts';
import type { ReferentialModule } from '../golden/module.ts';
import { canonical } from '../golden/store.ts';
import { getGolden } from '../golden/reads.ts';

export interface SurvivorshipConflict {
  attribute: string;
  /** What the source gave (normalised by the referential). */
  given: unknown;
  /** What the golden record holds, and the source it came from. */
  kept: unknown;
  keptFrom: { system: string; id: string };
}

/**
 * The attributes a source gave that the golden record does not hold from it: another source's value won (a more
 * trusted one, or as trusted and more recent). Values compared as canonical JSON; attributes the source left empty
 * are no conflict.
 */
export async function survivorshipConflicts(
  db: Queryable,
  module: ReferentialModule,
  source: { system: string; id: string; attributes: unknown },
  goldenId: string,
): Promise<SurvivorshipConflict[]> {
  const normalised = module.normalise(source.attributes);
  if (!normalised.ok) return [];
  const golden = await getGolden(db, module.name, goldenId);
  if (!golden) return [];
  const conflicts: SurvivorshipConflict[] = [];
  for (const [attribute, given] of Object.entries(normalised.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (given === undefined || given === null || given === '') continue;
    const kept = golden.attributes[attribute];
    if (!kept || (kept.source.system === source.system && kept.source.id === source.id)) continue;
    if (canonical(kept.value) === canonical(given)) continue;
    conflicts.push({ attribute, given, kept: kept.value, keptFrom: kept.source });
  }
  return conflicts;
}

/**
 * Puts a lost conflict in the referential's review queue: an item for the source record on its golden record, with no
 * candidates (nothing to link: the record is already linked; the steward compares its sources, and closes the item as
 * `distinct`, which marks no pair when there are no candidates). One open item per source and golden record: a
 * second file with the same conflict does not open another. The conflict's detail is not stored with the item (the
 * review queue has no column for it); the golden record's provenance and the source records show it.
 */
export async function openConflictReview(db: Db, referential: string, source: { system: string; id: string }, goldenId: string): Promise<{ reviewId: string; opened: boolean }> {
  return db.transaction((tx) => openConflictReviewIn(tx, referential, source, goldenId));
}

/** openConflictReview in the caller's transaction (an ingest job's: src/sync/ingest.ts, an adapter's afterIngest). */
export async function openConflictReviewIn(tx: Queryable, referential: string, source: { system: string; id: string }, goldenId: string): Promise<{ reviewId: string; opened: boolean }> {
  const { rows: open } = await tx.query<{ id: string }>(
    `SELECT id FROM ref_review_items WHERE referential = $1 AND source_system = $2 AND source_id = $3 AND golden_id = $4 AND status = 'open' FOR UPDATE`,
    [referential, source.system, source.id, goldenId],
  );
  if (open[0]) return { reviewId: String(open[0].id), opened: false };
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO ref_review_items (referential, source_system, source_id, golden_id, candidates) VALUES ($1, $2, $3, $4, '[]'::jsonb) RETURNING id`,
    [referential, source.system, source.id, goldenId],
  );
  return { reviewId: String(rows[0]?.id ?? ''), opened: true };
}
