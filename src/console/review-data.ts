// What the review page shows of the queue: a keyset page of items with the records involved (one statement for all of
// them), and one item side by side with its candidates, field by field, with the weights that made each score.
import type { GoldenRecord } from '../golden/engine-types.ts';
import type { ReferentialModule } from '../golden/module.ts';
import { resolveMany } from '../golden/reads.ts';
import { reviewQueue, type ReviewItem } from '../golden/stewardship.ts';
import type { Queryable } from '../storage/db.ts';
import { textFault } from '../storage/storable.ts';
import { ConsoleInputError } from './errors.ts';
import { valuesByPath } from './golden-view.ts';
import { toPage, type Page } from './pagination.ts';

export const reviewPageSize = 25;
export const reviewIdPattern = /^[1-9]\d{0,17}$/;
export type ReviewStatus = ReviewItem['status'];
export const reviewStatuses: readonly ReviewStatus[] = ['open', 'linked', 'distinct'];

/** The records by id (merged ones answered with their survivor's row as resolveMany does). */
async function recordsById(db: Queryable, referential: string, ids: readonly string[]): Promise<Map<string, GoldenRecord>> {
  const unique = [...new Set(ids)];
  const found = await resolveMany(db, referential, unique.map((goldenId) => ({ goldenId })));
  return new Map(found.flatMap((r, i) => (r.found ? [[unique[i] ?? '', r.golden] as [string, GoldenRecord]] : [])));
}

export interface QueuePage extends Page<ReviewItem> {
  records: Map<string, GoldenRecord>;
}

/** A page of the queue in id order (oldest first) after `after`, with the item's record and its best candidate. */
export async function queuePage(db: Queryable, module: ReferentialModule, status: ReviewStatus, after: string | undefined): Promise<QueuePage> {
  const items = await reviewQueue(db, module, { status, limit: reviewPageSize + 1, ...(after ? { after } : {}) });
  const page = toPage(items, reviewPageSize, (item) => [item.id]);
  const ids = page.rows.flatMap((item) => [item.goldenId, ...(item.candidates[0] ? [item.candidates[0].goldenId] : [])]);
  return { ...page, records: await recordsById(db, module.name, ids) };
}

export async function reviewItem(db: Queryable, referential: string, id: string): Promise<ReviewItem | undefined> {
  const [item] = await reviewQueue(db, referential, { after: String(BigInt(id) - 1n), limit: 1 });
  return item?.id === id ? item : undefined;
}

export interface Comparison {
  /** Every attribute path of the item's record or a candidate, in order. */
  paths: string[];
  item: Map<string, string>;
  candidates: Array<{ goldenId: string; score: number; weights: Array<[string, number]>; record: GoldenRecord | undefined; values: Map<string, string>; why: ReviewItem['candidates'][number]['review']; uncertain: ReviewItem['candidates'][number]['uncertain'] }>;
}

/** The item's record and each candidate's, field by field; the weights of each score, heaviest first. */
export async function compare(db: Queryable, item: ReviewItem): Promise<{ record: GoldenRecord | undefined; comparison: Comparison }> {
  const records = await recordsById(db, item.referential, [item.goldenId, ...item.candidates.map((c) => c.goldenId)]);
  const record = records.get(item.goldenId);
  const itemValues = record ? valuesByPath(record.attributes) : new Map<string, string>();
  const candidates = item.candidates.map((c) => {
    const candidate = records.get(c.goldenId);
    return {
      goldenId: c.goldenId,
      score: c.score,
      why: c.review,
      uncertain: c.uncertain,
      weights: Object.entries(c.weights).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])),
      record: candidate,
      values: candidate ? valuesByPath(candidate.attributes) : new Map<string, string>(),
    };
  });
  const paths = [...new Set([...itemValues.keys(), ...candidates.flatMap((c) => [...c.values.keys()])])].sort((a, b) => a.localeCompare(b));
  return { record, comparison: { paths, item: itemValues, candidates } };
}

/** The reason a steward gives: required, at most 1,000 characters PostgreSQL can store (the admin API's rule). */
export function stewardReason(raw: string | undefined): string {
  const reason = (raw ?? '').trim();
  if (reason === '') throw new ConsoleInputError('reason', 'une raison est requise');
  if (reason.length > 1000) throw new ConsoleInputError('reason', 'la raison tient en 1 000 caractères au plus');
  if (textFault(reason)) throw new ConsoleInputError('reason', 'la raison contient des caractères non admis');
  return reason;
}
