// The candidate a contribution links to by score: the best one at or above the link threshold, unless another
// candidate ties it (scores within TIE_EPSILON). A record that scores the same against two namesakes may be either:
// a steward decides (issue 18), rather than the oldest winning silently. And the candidates a record that links to
// none of them is sent to review with, each saying why (the engine's three places and the persons evaluator).

import type { MatchScore } from './module.ts';

export const TIE_EPSILON = 0.001;

/** The candidate to link, or undefined (below the threshold, or tied with the next one: review). Candidates best first. */
export function linkCandidate<C extends MatchScore>(candidates: readonly C[], link: number | undefined): C | undefined {
  const [best, next] = candidates;
  if (!best || link === undefined || best.score < link) return undefined;
  return next && best.score - next.score < TIE_EPSILON ? undefined : best;
}

/**
 * Why a candidate is in review: `tie` (it scores at or above link, within TIE_EPSILON of another: the record may be
 * either), `near-link` (one uncertain field away from a link: had that field agreed, it would score at or above link;
 * a date slip or a look-alike first name costs up to 10 points, so such a pair can score below the review threshold),
 * `score` (at or above the review threshold).
 */
export type ReviewReason = 'tie' | 'near-link' | 'score';

/** Whether a candidate the record did not link to goes to review, and why (undefined: it does not). */
export function reviewReason(candidate: MatchScore, thresholds: { link: number; review: number }): ReviewReason | undefined {
  if (candidate.score >= thresholds.link) return 'tie';
  if (candidate.uncertain !== undefined && candidate.uncertain.scoreIfAgreeing >= thresholds.link) return 'near-link';
  if (candidate.score >= thresholds.review) return 'score';
  return undefined;
}

/**
 * The candidates a record that linked to none of them is proposed for review with (best first, as given), each with
 * its reason: ties, pairs one uncertain field away from a link whatever their score, and pairs at or above review.
 * Never a link (invariant 6): a steward decides. Empty without thresholds (a referential matched on keys only).
 */
export function reviewProposals<C extends MatchScore>(candidates: readonly C[], thresholds: { link: number; review: number } | undefined): Array<C & { review: ReviewReason }> {
  if (!thresholds) return [];
  const out: Array<C & { review: ReviewReason }> = [];
  for (const c of candidates) {
    const review = reviewReason(c, thresholds);
    if (review) out.push({ ...c, review });
  }
  return out;
}
