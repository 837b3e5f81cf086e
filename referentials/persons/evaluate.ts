// In-memory matching of person records (blocking, scoring, clustering) and pairwise precision/recall against a ground truth.

import type { MatchProfile } from '../../src/golden/module.ts';
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
  pairs: ScoredPair[];
  rejected: number;
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

/**
 * Blocks, scores and clusters as the engine would: records sharing a natural key (CIN) link deterministically; other
 * candidates are pairs within a block (same birth year, or no birth date on either side), linked when the score
 * reaches `link`. Clusters are connected components of the links.
 */
export function matchPersons(contributions: readonly Contribution[], thresholds: { link: number } = PERSON_THRESHOLDS): MatchRun {
  const profiles: MatchProfile[] = [];
  const keys: (string | undefined)[] = [];
  let rejected = 0;
  for (const c of contributions) {
    const normalised = personsModule.normalise(c.attributes);
    if (!normalised.ok) {
      rejected++;
      profiles.push({ blockingText: '', fields: {} });
      keys.push(undefined);
      continue;
    }
    const attributes: PersonAttributes = normalised.attributes;
    profiles.push(personsModule.matchProfile?.(attributes) ?? { blockingText: '', fields: {} });
    keys.push(personsModule.naturalKeys(attributes)[0]?.value);
  }
  const uf = new UnionFind(contributions.length);
  const byKey = new Map<string, number>();
  keys.forEach((key, i) => {
    if (key === undefined) return;
    const first = byKey.get(key);
    if (first === undefined) byKey.set(key, i);
    else uf.union(first, i);
  });
  const blocks = new Map<string, number[]>();
  profiles.forEach((p, i) => {
    const block = p.fields.birthYear ?? 'none';
    const list = blocks.get(block) ?? [];
    list.push(i);
    blocks.set(block, list);
  });
  const noYear = blocks.get('none') ?? [];
  const pairs: ScoredPair[] = [];
  const score = personsModule.score;
  if (score === undefined) throw new Error('the persons module has no score');
  const consider = (a: number, b: number): void => {
    const s = score(profiles[a]?.fields ?? {}, profiles[b]?.fields ?? {}).score;
    pairs.push({ a, b, score: s });
    if (s >= thresholds.link) uf.union(a, b);
  };
  for (const [block, members] of blocks) {
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) consider(members[x] ?? 0, members[y] ?? 0);
      if (block !== 'none') for (const other of noYear) consider(members[x] ?? 0, other);
    }
  }
  return { clusters: contributions.map((_, i) => uf.find(i)), pairs, rejected };
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
