// Issue 18 through the engine, on both drivers: a pair one uncertain field from a link (a date slip, a look-alike first
// name) that a place corroborates goes to review whatever its score, one by one, in bulk and when a singleton is sent
// again; the review item's candidates say why (near-link, tie, score); a father and son named alike is neither linked
// nor reviewed.
import { describe, expect, it } from 'vitest';
import { contribute } from '../src/golden/engine.ts';
import { contributeBulk } from '../src/golden/bulk.ts';
import { personsModule } from '../referentials/persons/module.ts';
import { DEFAULT_PERSON_SCORE, PERSON_THRESHOLDS, scorePersons, type PersonScoreConfig } from '../referentials/persons/score.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { drivers, referentialsDbPerBlock, type TestDb } from './helpers/db.ts';

const persons = personsModule as unknown as ReferentialModule;
/**
 * The persons module where Alaoui and Bennani are as common as names get in a region (one person in ten each): there,
 * names and a near date in one commune score under review, the case near-link review exists for. The generator's
 * population gives them 2.4 % and 0.6 % (docs/decisions.md §30), where the same pairs score in the band by themselves.
 */
const crowded: PersonScoreConfig = {
  ...DEFAULT_PERSON_SCORE,
  termFrequencies: { ...DEFAULT_PERSON_SCORE.termFrequencies, family: { ...DEFAULT_PERSON_SCORE.termFrequencies.family, 'علوي': 0.1, 'بناني': 0.1 } },
};
const crowdedPersons = { ...persons, score: (a, b) => scorePersons(a, b, crowded) } as ReferentialModule;

interface StoredCandidate {
  goldenId: string;
  score: number;
  review: string;
  uncertain?: { field: string; scoreIfAgreeing: number };
}

// A person as the civil registry holds them, and the same names with nothing else (a complaint form).
const registry = { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', lastNameArabic: 'بناني', birthDate: '1980-04-11', birthCommune: '01.511.01.01', sex: 'M', address: '7 Derb Sidi Bouloukat', addressCommune: '01.511.01.01' };
const namesOnly = { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', sex: 'M' };

describe.each(drivers())('near-threshold pairs in review (issue 18) on %s', (driver) => {
  let t!: TestDb;
  referentialsDbPerBlock(driver, (db) => (t = db));

  const candidatesOf = async (sourceId: string): Promise<StoredCandidate[]> => {
    const { rows } = await t.db.query<{ candidates: StoredCandidate[] }>(`SELECT candidates FROM ref_review_items WHERE source_id = $1 AND status = 'open'`, [sourceId]);
    return rows[0]?.candidates ?? [];
  };

  it('Mohamed Alaoui a day apart in one commune: in review below the review threshold, saying why', async () => {
    const alaoui = { firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui', birthDate: '1966-09-03', birthCommune: '01.511.01.01', sex: 'M' };
    const a = await contribute(t.db, crowdedPersons, { sourceSystem: 'civil-registry', sourceId: 'n1', attributes: { ...alaoui, cin: 'BK200001' } });
    const b = await contribute(t.db, crowdedPersons, { sourceSystem: 'complaints', sourceId: 'n2', attributes: { ...alaoui, birthDate: '1966-09-04' } });
    expect(b.decision).toBe('review');
    expect(b.goldenId).not.toBe(a.goldenId);
    const [candidate, ...others] = await candidatesOf('n2');
    expect(others).toEqual([]);
    expect(candidate?.goldenId).toBe(a.goldenId);
    expect(candidate?.review).toBe('near-link');
    expect(candidate?.score).toBeLessThan(PERSON_THRESHOLDS.review);
    expect(candidate?.uncertain?.field).toBe('birthDate');
    expect(candidate?.uncertain?.scoreIfAgreeing).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
  });

  it('the same in a bulk import; with names alone, a swap is reviewed by its score, a one-digit typo is not (§26)', async () => {
    const alaoui = { firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui', birthDate: '1966-09-03', birthCommune: '01.511.01.01', sex: 'M' };
    const outcomes = await contributeBulk(t.db, crowdedPersons, [
      { line: 1, sourceSystem: 'civil-registry', sourceId: 'b1', attributes: { ...registry, cin: 'BK200002' } },
      { line: 2, sourceSystem: 'complaints', sourceId: 'b2', attributes: { ...namesOnly, birthDate: '1980-04-21' } },
      { line: 3, sourceSystem: 'complaints', sourceId: 'b3', attributes: { ...namesOnly, birthDate: '1980-11-04' } },
      { line: 4, sourceSystem: 'civil-registry', sourceId: 'b4', attributes: { ...alaoui, cin: 'BK200003' } },
      { line: 5, sourceSystem: 'complaints', sourceId: 'b5', attributes: { ...alaoui, birthDate: '1966-09-04' } },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.decision : 'refused'))).toEqual(['created', 'created', 'review', 'created', 'review']);
    expect((await candidatesOf('b3')).map((c) => c.review)).toEqual(['score']);
    expect((await candidatesOf('b5')).map((c) => c.review)).toEqual(['near-link']);
  });


  it("M'hamed beside Mohamed with the same date and commune: in review, never linked", async () => {
    const a = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'm1', attributes: { ...registry, firstNameLatin: 'Mohamed', cin: 'BK200004' } });
    const b = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'm2', attributes: { ...registry, firstNameLatin: "M'hamed", address: undefined, addressCommune: undefined } });
    expect(b.decision).toBe('review');
    expect(b.goldenId).not.toBe(a.goldenId);
    expect((await candidatesOf('m2')).map((c) => [c.goldenId, c.review, c.uncertain?.field])).toEqual([[a.goldenId, 'near-link', 'firstName']]);
  });

  it('a singleton sent again with a birth date one slip away is reviewed then (the engine rematches it)', async () => {
    const a = await contribute(t.db, crowdedPersons, { sourceSystem: 'civil-registry', sourceId: 'r1', attributes: { ...registry, cin: 'BK200005' } });
    const first = await contribute(t.db, crowdedPersons, { sourceSystem: 'complaints', sourceId: 'r2', attributes: { ...namesOnly, birthDate: '1980-03-11', birthCommune: '07.431.07.09' } });
    expect(first.decision).toBe('created');
    const again = await contribute(t.db, crowdedPersons, { sourceSystem: 'complaints', sourceId: 'r2', attributes: { ...namesOnly, birthDate: '1980-04-12', birthCommune: '01.511.01.01' } });
    expect(again.decision).toBe('review');
    expect((await candidatesOf('r2')).map((c) => [c.goldenId, c.review])).toEqual([[a.goldenId, 'near-link']]);
  });

  it('a record tying two namesakes: its candidates are in review as a tie', async () => {
    const twin = { ...registry, lastNameLatin: 'Tazi', lastNameArabic: 'التازي' };
    await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 't1', attributes: { ...twin, cin: 'BK200006' } });
    await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 't2', attributes: { ...twin, cin: 'BK200007' } });
    const c = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 't3', attributes: twin });
    expect(c.decision).toBe('review');
    expect((await candidatesOf('t3')).map((x) => x.review)).toEqual(['tie', 'tie']);
  });

  it('a father and son named alike (a decade apart) are not reviewed, nor namesakes of one day in two communes where names are that common', async () => {
    await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'f1', attributes: { ...registry, cin: 'BK200008' } });
    const son = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'f2', attributes: { ...registry, birthDate: '1990-04-11' } });
    expect(son.decision).toBe('created');
    // Where the names are that common; on the generator's population the same namesakes score in the band (a steward's
    // question, never a link).
    const alaoui = { firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui', birthDate: '1971-05-06', sex: 'M' };
    await contribute(t.db, crowdedPersons, { sourceSystem: 'civil-registry', sourceId: 'f3', attributes: { ...alaoui, birthCommune: '01.511.01.01', cin: 'BK200009' } });
    const namesake = await contribute(t.db, crowdedPersons, { sourceSystem: 'complaints', sourceId: 'f4', attributes: { ...alaoui, birthCommune: '07.431.07.09' } });
    expect(namesake.decision).toBe('created');
    const elsewhere = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'f5', attributes: { ...alaoui, birthCommune: '06.385.01.01' } });
    expect(elsewhere.decision).not.toMatch(/^linked/);
  });
});
