// The in-memory matching harness: pairwise precision/recall arithmetic, and CIN links made deterministically.

import { describe, expect, it } from 'vitest';
import { matchPersons, pairwiseQuality } from './evaluate.ts';

describe('pairwiseQuality', () => {
  it('counts pairs within predicted and true clusters', () => {
    // Truth: {0,1,2} {3}; predicted: {0,1} {2,3}. True pairs 3, predicted 2, correct 1.
    const q = pairwiseQuality([0, 0, 2, 2], ['a', 'a', 'a', 'b']);
    expect(q).toMatchObject({ truePairs: 3, predictedPairs: 2, correctPairs: 1, precision: 0.5 });
    expect(q.recall).toBeCloseTo(1 / 3);
  });
});

describe('matchPersons', () => {
  it('links by CIN whatever the names, by score otherwise, and keeps M\'hamed apart from Mohamed', () => {
    const base = { lastNameLatin: 'Tazi', birthDate: '1970-01-01', birthCommune: '01.511.01.01', sex: 'M' };
    const run = matchPersons([
      { sourceSystem: 'a', sourceId: '1', attributes: { ...base, cin: 'K1', firstNameLatin: 'Mohamed' } },
      { sourceSystem: 'b', sourceId: '2', attributes: { cin: 'k 01', lastNameLatin: 'Tazi' } },
      { sourceSystem: 'c', sourceId: '3', attributes: { ...base, firstNameLatin: 'Mohammed' } },
      { sourceSystem: 'd', sourceId: '4', attributes: { ...base, firstNameLatin: "M'hamed" } },
    ]);
    expect(run.clusters).toEqual([0, 0, 0, 3]);
  });
});
