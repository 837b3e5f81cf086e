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

describe('matchPersons: a record joining by CIN merges the cluster it also scores at link against (as the engine does)', () => {
  const names = { firstNameLatin: 'Fatima', lastNameLatin: 'Benali', sex: 'F' };
  const home = { addressCommune: '08.201.07.07', address: '184 douar ouled ali' };
  it('merges the CIN-less cluster the record ties to its CIN', () => {
    const run = matchPersons([
      { sourceSystem: 'a', sourceId: '1', attributes: { ...names, cin: 'B63546', birthDate: '1979-10-07', birthCommune: '07.431.07.09' } },
      { sourceSystem: 'b', sourceId: '2', attributes: { ...names, ...home } },
      { sourceSystem: 'c', sourceId: '3', attributes: { ...names, ...home, cin: 'B63546' } },
    ]);
    expect(run.clusters).toEqual([0, 0, 0]);
    expect(run.bridged).toBe(1);
  });
  it('never merges a cluster that holds another CIN (a namesake at the same address)', () => {
    const run = matchPersons([
      { sourceSystem: 'a', sourceId: '1', attributes: { ...names, cin: 'B63546', birthDate: '1979-10-07', birthCommune: '07.431.07.09' } },
      { sourceSystem: 'b', sourceId: '2', attributes: { ...names, ...home } },
      { sourceSystem: 'd', sourceId: '4', attributes: { ...names, ...home, cin: 'C77001', birthDate: '1981-02-03' } },
      { sourceSystem: 'c', sourceId: '3', attributes: { ...names, ...home, cin: 'B63546' } },
    ]);
    // Record 2 (no CIN) joined the namesake's cluster (record 3, CIN C77001); record 4 scores at link against record 2
    // alone, but that cluster's golden record holds another CIN.
    expect(run.clusters[1]).toBe(run.clusters[2]);
    expect(run.clusters[3]).toBe(0);
    expect(run.clusters[1]).not.toBe(0);
    expect(run.bridged).toBe(0);
  });
});

describe('matchPersons: a record linked by score merges the second cluster it also scores at link against (as the engine does, §27)', () => {
  const names = { firstNameLatin: 'Iman', lastNameLatin: 'El Gharbi', sex: 'F' };
  const home = { addressCommune: '05.255.05.05', address: '248 rue de fes' };
  const records = (secondCin?: string) => [
    { sourceSystem: 'a', sourceId: '1', attributes: { ...names, cin: 'G575444', birthDate: '1944-06-02' } },
    { sourceSystem: 'b', sourceId: '2', attributes: { ...names, ...home, ...(secondCin ? { cin: secondCin } : {}) } },
    // Scores at link against both: the date ties it to record 1, the address to record 2.
    { sourceSystem: 'c', sourceId: '3', attributes: { ...names, ...home, birthDate: '1944-06-02' } },
  ];
  it('merges the second cluster a record linked by score also reaches', () => {
    // Without the bridging record the two stay apart: nothing but the names ties them.
    expect(matchPersons(records().slice(0, 2)).clusters).toEqual([0, 1]);
    const run = matchPersons(records());
    expect(run.clusters).toEqual([0, 0, 0]);
    expect(run.bridged).toBe(1);
  });
  it('never merges two clusters that each hold a CIN (a namesake with a CIN of her own)', () => {
    const run = matchPersons(records('Z999001'));
    expect(run.clusters[0]).not.toBe(run.clusters[1]);
    expect(run.clusters[2]).toBe(run.clusters[1]);
    expect(run.bridged).toBe(0);
  });
});

describe('matchPersons: a record bearing a CIN never joins a cluster holding another CIN', () => {
  it('even when a CIN-less record of that cluster scores at link (the engine scores the golden record, which holds the CIN)', () => {
    const names = { firstNameLatin: 'Driss', lastNameLatin: 'Bennani', birthDate: '1949-09-18' };
    const run = matchPersons([
      { sourceSystem: 'a', sourceId: '1', attributes: { ...names, cin: 'M891847', birthCommune: '06.141.01.01' } },
      { sourceSystem: 'b', sourceId: '2', attributes: { ...names, birthCommune: '06.141.01.01', address: '155 bd zerktouni', addressCommune: '03.231.01.01' } },
      // A namesake born the same day with a CIN of his own: scores at link against record 2 on names and date alone.
      { sourceSystem: 'c', sourceId: '3', attributes: { ...names, firstNameLatin: 'Idris', cin: 'D986174' } },
    ]);
    expect(run.clusters[1]).toBe(0);
    expect(run.clusters[2]).toBe(2);
  });
});
