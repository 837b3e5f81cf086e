// In-memory matching of person records as the engine decides them (CIN, blocking keys, score, ties to review), and
// pairwise precision/recall against a ground truth, overall and by class of record or pair.

import type { MatchProfile, MatchScore } from '../../src/golden/module.ts';
import { reviewReason, type ReviewReason } from '../../src/golden/tie.ts';
import { personsModule, type PersonAttributes } from './module.ts';
import { PERSON_THRESHOLDS } from './score.ts';

export interface Contribution {
  sourceSystem: string;
  sourceId: string;
  attributes: unknown;
}

export interface ScoredPair {
  a: number;
  b: number;
  score: number;
}

export interface MatchRun {
  /** Cluster id (smallest record index in it) for every record. */
  clusters: number[];
  /** Every candidate pair scored (a record against each earlier record its probe keys found). */
  pairs: ScoredPair[];
  /** Records sent to review: index → the earlier records (one per cluster) that scored in the review band or tied. */
  reviews: Map<number, number[]>;
  /** The score of each record proposed in `reviews` (same order): the review band can be read at a higher threshold. */
  reviewScores: Map<number, number[]>;
  /** Why each record proposed in `reviews` is (same order): a `near-link` one is in review whatever the threshold. */
  reviewReasons: Map<number, ReviewReason[]>;
  /** Records whose best candidates tied at or above the link threshold (in review whatever the review threshold). */
  tied: Set<number>;
  /** Records whose best candidates tied at or above the link threshold (sent to review, not linked). */
  ties: number;
  /** Clusters merged by a bridging record: one joining by its CIN, or linked by score, that also scores at link against another cluster. */
  bridged: number;
  rejected: number;
  /** Each record's match profile (empty when rejected): what the score compared. */
  profiles: MatchProfile['fields'][];
}

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    let root = x;
    while (this.parent[root] !== root) root = this.parent[root] ?? root;
    let node = x;
    while (node !== root) {
      const next = this.parent[node] ?? root;
      this.parent[node] = root;
      node = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const [x, y] = [this.find(a), this.find(b)];
    if (x !== y) this.parent[Math.max(x, y)] = Math.min(x, y);
  }
}

/** Two best scores closer than this are a tie: the record may be either person (src/golden/tie.ts holds the same rule). */
export const TIE_EPSILON = 0.001;

/**
 * Decides records in order as the engine would: a record sharing a natural key (CIN) with an earlier one joins it;
 * otherwise it is scored against the earlier records its probe keys find (best per cluster), joins the best cluster
 * at or above `link` unless another cluster ties it (then review), and is sent to review when candidates reach `review`.
 * A record joining a cluster (by CIN or by score) that also scores at link against another merges that one in.
 */
export function matchPersons(contributions: readonly Contribution[], thresholds: { link: number; review: number } = PERSON_THRESHOLDS): MatchRun {
  const score = personsModule.score;
  const blocking = personsModule.blockingKeys;
  if (score === undefined || blocking === undefined) throw new Error('the persons module has no score');
  const profiles: MatchProfile['fields'][] = [];
  const uf = new UnionFind(contributions.length);
  const byKey = new Map<string, number>();
  const index = new Map<string, number[]>();
  const pairs: ScoredPair[] = [];
  const reviews = new Map<number, number[]>();
  const reviewScores = new Map<number, number[]>();
  const reviewReasons = new Map<number, ReviewReason[]>();
  const tied = new Set<number>();
  /** Roots of the clusters holding a CIN, kept up to date on each union (roots are the smallest index). */
  const clusterCins = new Set<number>();
  const join = (a: number, b: number): void => {
    const held = clusterCins.has(uf.find(a)) || clusterCins.has(uf.find(b));
    uf.union(a, b);
    if (held) clusterCins.add(uf.find(a));
  };
  let rejected = 0;
  let ties = 0;
  let bridged = 0;
  contributions.forEach((c, i) => {
    const normalised = personsModule.normalise(c.attributes);
    if (!normalised.ok) {
      rejected++;
      profiles.push({});
      return;
    }
    const attributes: PersonAttributes = normalised.attributes;
    const fields = personsModule.matchProfile?.(attributes)?.fields ?? {};
    profiles.push(fields);
    const key = personsModule.naturalKeys(attributes)[0]?.value;
    const keys = blocking(attributes);
    const owner = key === undefined ? undefined : byKey.get(key);
    // Best score per cluster among the earlier records the probe keys find.
    const seen = new Set<number>();
    const best = new Map<number, MatchScore & { record: number }>();
    for (const k of keys.probe) {
      for (const j of index.get(k) ?? []) {
        if (seen.has(j)) continue;
        seen.add(j);
        const scored = score(fields, profiles[j] ?? {});
        pairs.push({ a: j, b: i, score: scored.score });
        const cluster = uf.find(j);
        const known = best.get(cluster);
        if (!known || scored.score > known.score) best.set(cluster, { ...scored, record: j });
      }
    }
    // The engine scores the golden record, which carries its cluster's CIN: for a record bearing another CIN that
    // score is capped below review (score.ts `distinct`), whatever one CIN-less record of the cluster scores.
    const ranked = [...best.entries()]
      .filter(([cluster]) => key === undefined || owner !== undefined || !clusterCins.has(cluster))
      .sort((x, y) => y[1].score - x[1].score || x[0] - y[0]);
    if (owner !== undefined) {
      // As the engine does (src/golden/engine.ts step 1, bulk-decide.ts `ties`): a record joining by its CIN that also
      // scores at or above link against another cluster (that record lacked the CIN) merges that cluster in. The
      // engine scores the other golden record, which holds any CIN of its cluster: a different CIN caps the score
      // below review, so a cluster holding another CIN is never merged here either.
      const home = uf.find(owner);
      const other = ranked.find(([cluster]) => cluster !== home);
      if (other && other[1].score >= thresholds.link && !clusterCins.has(other[0])) {
        join(home, other[0]);
        bridged++;
      }
      join(owner, i);
    } else {
      const [first, second] = ranked;
      const tie = first !== undefined && second !== undefined && first[1].score >= thresholds.link && first[1].score - second[1].score < TIE_EPSILON;
      if (first && first[1].score >= thresholds.link && !tie) {
        join(first[0], i);
        // As the engine does (engine.ts `bridgedByScore`, bulk-decide.ts, docs/decisions.md §27): the next cluster the
        // record also scores at link against is merged in too, unless both clusters hold a CIN (two CINs, two people).
        if (second && second[1].score >= thresholds.link && !(clusterCins.has(uf.find(first[0])) && clusterCins.has(second[0]))) {
          join(first[0], second[0]);
          bridged++;
        }
      } else {
        if (tie) {
          ties++;
          tied.add(i);
        }
        // As the engine proposes them (src/golden/tie.ts): ties, pairs one uncertain field from a link, the review band.
        const proposed = ranked.flatMap(([, b]) => {
          const why = reviewReason(b, thresholds);
          return why ? [{ ...b, why }] : [];
        });
        if (proposed.length > 0) {
          reviews.set(i, proposed.map((b) => b.record));
          reviewScores.set(i, proposed.map((b) => b.score));
          reviewReasons.set(i, proposed.map((b) => b.why));
        }
      }
    }
    if (key !== undefined && !byKey.has(key)) byKey.set(key, i);
    // The CIN a cluster holds (the engine's golden record carries it), under the cluster's current root.
    if (key !== undefined) clusterCins.add(uf.find(i));
    for (const k of keys.index) {
      const list = index.get(k);
      if (list) list.push(i);
      else index.set(k, [i]);
    }
  });
  return { clusters: contributions.map((_, i) => uf.find(i)), pairs, reviews, reviewScores, reviewReasons, tied, ties, bridged, rejected, profiles };
}

export interface PairwiseQuality {
  precision: number;
  recall: number;
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
}

function pairCount(groups: Map<string, number[]>): number {
  let n = 0;
  for (const g of groups.values()) n += (g.length * (g.length - 1)) / 2;
  return n;
}

/** Pairwise precision and recall of a clustering against the true entity of each record. */
export function pairwiseQuality(predicted: readonly number[], truth: readonly string[]): PairwiseQuality {
  const predictedGroups = new Map<string, number[]>();
  const trueGroups = new Map<string, number[]>();
  const both = new Map<string, number[]>();
  predicted.forEach((cluster, i) => {
    const entity = truth[i] ?? `missing-${i}`;
    for (const [map, key] of [[predictedGroups, String(cluster)], [trueGroups, entity], [both, `${cluster}|${entity}`]] as const) {
      const list = map.get(key) ?? [];
      list.push(i);
      map.set(key, list);
    }
  });
  const predictedPairs = pairCount(predictedGroups);
  const truePairs = pairCount(trueGroups);
  const correctPairs = pairCount(both);
  return {
    precision: predictedPairs === 0 ? 1 : correctPairs / predictedPairs,
    recall: truePairs === 0 ? 1 : correctPairs / truePairs,
    truePairs, predictedPairs, correctPairs,
  };
}
