// Matching quality on the generator's ground truth: 3,000 persons at 10 % duplicates, pairwise precision ≥ 0.98 and recall ≥ 0.95.

import { describe, expect, it } from 'vitest';
import { generateInMemory } from '../generator/generate.ts';
import { matchPersons, pairwiseQuality } from './evaluate.ts';
import { PERSON_THRESHOLDS } from './score.ts';

function run(seed: number, persons: number) {
  const { records, truth } = generateInMemory({ seed, dupRate: 0.1, persons, companies: 0, vehicles: 0 });
  const entityOf = new Map(truth.map((t) => [`${t.sourceSystem}|${t.sourceId}`, t.entityId]));
  const entities = records.persons.map((r) => entityOf.get(`${r.sourceSystem}|${r.sourceId}`) ?? '');
  const result = matchPersons(records.persons);
  return { records: records.persons, entities, result, quality: pairwiseQuality(result.clusters, entities) };
}

describe('persons matching quality on generated data', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: precision ≥ 0.98 and recall ≥ 0.95 at 10 % duplicates`, () => {
      const { entities, result, quality } = run(seed, 3000);
      expect(result.rejected).toBe(0);
      // Score distribution of candidate pairs, true matches vs non-matches (how the thresholds were chosen).
      const matches = result.pairs.filter((p) => entities[p.a] === entities[p.b]).map((p) => p.score);
      const non = result.pairs.filter((p) => entities[p.a] !== entities[p.b]).map((p) => p.score);
      const histogram = (scores: number[]): string => {
        const bins = new Map<number, number>();
        for (const s of scores) bins.set(Math.max(-5, Math.min(9, Math.floor(s / 5))), (bins.get(Math.max(-5, Math.min(9, Math.floor(s / 5)))) ?? 0) + 1);
        return [...bins.entries()].sort((a, b) => a[0] - b[0]).map(([b, n]) => `[${b * 5},${b * 5 + 5}):${n}`).join(' ');
      };
      console.log(`seed ${seed}: ${result.pairs.length} candidate pairs; thresholds link ${PERSON_THRESHOLDS.link}, review ${PERSON_THRESHOLDS.review}`);
      console.log(`  true-match pairs scored: ${histogram(matches)}`);
      console.log(`  non-match pairs scored:  ${histogram(non)} (max ${non.reduce((m, s) => Math.max(m, s), -Infinity).toFixed(1)})`);
      console.log(`  pairwise precision ${quality.precision.toFixed(4)}, recall ${quality.recall.toFixed(4)} (${quality.correctPairs} correct of ${quality.predictedPairs} predicted, ${quality.truePairs} true)`);
      expect(quality.precision).toBeGreaterThanOrEqual(0.98);
      expect(quality.recall).toBeGreaterThanOrEqual(0.95);
    });
  }
});
