// The candidate a contribution links to by score: the best one at or above the link threshold, unless another
// candidate ties it (scores within TIE_EPSILON). A record that scores the same against two namesakes may be either:
// a steward decides (issue 18), rather than the oldest winning silently.

import type { MatchScore } from './module.ts';

export const TIE_EPSILON = 0.001;

/** The candidate to link, or undefined (below the threshold, or tied with the next one: review). Candidates best first. */
export function linkCandidate<C extends MatchScore>(candidates: readonly C[], link: number | undefined): C | undefined {
  const [best, next] = candidates;
  if (!best || link === undefined || best.score < link) return undefined;
  return next && best.score - next.score < TIE_EPSILON ? undefined : best;
}
