// Issue 18's classes, each with cases of its own: compound names, look-alikes across scripts, Latin spelling
// variants, day/month swaps (blocking and score), the review band, term frequencies, and the calibration.
import { describe, expect, it } from 'vitest';
import { personsModule, type PersonAttributes } from './module.ts';
import { DEFAULT_PERSON_SCORE, PERSON_THRESHOLDS, compareFirstNames, scorePersons, termFrequencyWeight, type PersonScoreConfig } from './score.ts';
import { reviewReason } from '../../src/golden/tie.ts';
import { matchPersons } from './evaluate.ts';
import { compareBirthDates } from './dates.ts';
import { personBlockingKeys } from './blocking.ts';
import { calibrate } from './calibrate.ts';
import { generateInMemory } from '../generator/generate.ts';

function attrs(a: Record<string, unknown>): PersonAttributes {
  const r = personsModule.normalise(a);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.attributes;
}
const profile = (a: Record<string, unknown>) => personsModule.matchProfile?.(attrs(a))?.fields ?? {};
const base = { lastNameLatin: 'Bennani', birthDate: '1980-04-11', birthCommune: '01.511.01.01', sex: 'M' };
/** Why the engine would put b in review with a as its candidate (src/golden/tie.ts), undefined if it would not. */
const review = (a: Record<string, unknown>, b: Record<string, unknown>, config: PersonScoreConfig = DEFAULT_PERSON_SCORE) =>
  reviewReason(scorePersons(profile(a), profile(b), config), PERSON_THRESHOLDS);
/**
 * A population where Mohamed Alaoui is as common as names get in a region: one person in ten bears the family name
 * (the generator's population gives Alaoui to one in forty), so that names and a near date score under review there.
 */
const crowded: PersonScoreConfig = {
  ...DEFAULT_PERSON_SCORE,
  termFrequencies: { ...DEFAULT_PERSON_SCORE.termFrequencies, family: { ...DEFAULT_PERSON_SCORE.termFrequencies.family, 'علوي': 0.1 } },
};

describe('1. compound names, with or without the space, in both scripts', () => {
  it.each([
    ['عبد القادر', 'عبدالقادر'],
    ['عبد الرحيم', 'عبدالرحيم'],
  ])('Arabic %s = %s', (x, y) => {
    expect(compareFirstNames(profile({ ...base, firstNameArabic: x }), profile({ ...base, firstNameArabic: y }))).toBe('exact');
    expect(scorePersons(profile({ ...base, firstNameArabic: x }), profile({ ...base, firstNameArabic: y })).score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
  });
  it.each([
    ['Abdelkader', 'Abdel Kader'], ['Abdelkader', 'Abdelkadir'], ['Abderrahim', 'Abdel Rahim'], ['Abderrahim', 'Abdelrahim'], ['Noureddine', 'Nour Eddine'],
  ])('Latin %s ~ %s', (x, y) => {
    expect(compareFirstNames(profile({ ...base, firstNameLatin: x }), profile({ ...base, firstNameLatin: y }))).not.toBe('disagree');
  });
  it('across scripts: عبدالقادر (Arabic only) and Abdel Kader (Latin only) are one name', () => {
    expect(compareFirstNames(profile({ ...base, lastNameLatin: undefined, lastNameArabic: 'بناني', firstNameArabic: 'عبدالقادر' }), profile({ ...base, firstNameLatin: 'Abdel Kader' }))).toBe('exact');
  });
});

describe('2. distinct names sharing a skeleton across scripts', () => {
  it("an Arabic-only محمد and a Latin-only M'hamed are look-alikes: review at best, never a link", () => {
    const a = profile({ ...base, lastNameLatin: undefined, lastNameArabic: 'بناني', firstNameArabic: 'محمد' });
    const b = profile({ ...base, firstNameLatin: "M'hamed" });
    expect(compareFirstNames(a, b)).toBe('lookalike');
    const s = scorePersons(a, b).score;
    expect(s).toBeLessThan(PERSON_THRESHOLDS.link);
    // Near the review threshold: the calibrated review threshold (raised to keep reviews at 1 % of persons) may sit
    // just above it (docs/decisions.md, "What is left").
    expect(s).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.review - 5);
  });
  it('Karima beside Ebrahim of the same surname and date disagree (no longer unknown)', () => {
    const a = profile({ ...base, lastNameLatin: undefined, lastNameArabic: 'بناني', firstNameArabic: 'كريمة', sex: 'F' });
    const b = profile({ ...base, firstNameLatin: 'Ebrahim' });
    expect(compareFirstNames(a, b)).toBe('disagree');
    expect(scorePersons(a, b).score).toBeLessThan(PERSON_THRESHOLDS.review);
  });
});

describe('3. Latin spelling variants of one name', () => {
  it.each([
    ['Mustapha', 'Mostafa'], ['Mustapha', 'Mustafa'], ['Othmane', 'Otmane'], ['Othmane', 'Outmane'], ['Othmane', 'Osman'], ['Khadija', 'Khadijah'],
    ['Fatima Zahra', 'Fatim Zahra'], ['Karima', 'Carima'], ['Ahmed', 'Ahmet'], ['Hicham', 'Hichame'],
  ])('%s = %s, linked with the same date and commune', (x, y) => {
    const a = profile({ ...base, firstNameLatin: x });
    const b = profile({ ...base, firstNameLatin: y });
    expect(compareFirstNames(a, b)).toBe('exact');
    expect(scorePersons(a, b).score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
  });
});

describe('3b. a keyboard slip in a first name the table knows', () => {
  it.each([['Mohamef', 'Mohamed'], ['Isnail', 'Ismail'], ['Rahid', 'Rachid'], ['Ahmd', 'Ahmed']])('%s ~ %s: a variant, linked with the same date and commune', (x, y) => {
    const a = profile({ ...base, firstNameLatin: x });
    const b = profile({ ...base, firstNameLatin: y });
    expect(compareFirstNames(a, b)).toBe('variant');
    expect(scorePersons(a, b).score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
  });
  it('across scripts: محمد (Arabic only) and Mohamef (Latin only) are one name', () => {
    expect(compareFirstNames(profile({ ...base, lastNameLatin: undefined, lastNameArabic: 'بناني', firstNameArabic: 'محمد' }), profile({ ...base, firstNameLatin: 'Mohamef' }))).toBe('variant');
  });
  it("never a variant of another name: Mohamef beside M'hamed is a look-alike, Samir beside Samira (a final vowel) is not a slip", () => {
    const m = scorePersons(profile({ ...base, firstNameLatin: 'Mohamef' }), profile({ ...base, firstNameLatin: "M'hamed" }));
    expect(compareFirstNames(profile({ ...base, firstNameLatin: 'Mohamef' }), profile({ ...base, firstNameLatin: "M'hamed" }))).toBe('lookalike');
    expect(m.score).toBeLessThan(PERSON_THRESHOLDS.link);
    const s = scorePersons(profile({ ...base, firstNameLatin: 'Samir' }), profile({ ...base, firstNameLatin: 'Samira', sex: 'F' }));
    expect(compareFirstNames(profile({ ...base, firstNameLatin: 'Samir' }), profile({ ...base, firstNameLatin: 'Samira' }))).toBe('disagree');
    expect(s.score).toBeLessThan(PERSON_THRESHOLDS.link);
  });
});

describe('4. day and month swapped, one-digit typos', () => {
  it('grades birth dates', () => {
    expect(compareBirthDates('1980-04-11', '1980-11-04')).toBe('swap');
    expect(compareBirthDates('1980-04-11', '1980-04-12')).toBe('typo');
    expect(compareBirthDates('1980-04-11', '1981-04-11')).toBe('typo');
    expect(compareBirthDates('1980-04-30', '1980-05-01')).toBe('disagree');
  });
  it('a swapped or mistyped date shares a blocking key; with names alone it is never linked, and a swap is reviewed', () => {
    const alone = { lastNameLatin: 'Bennani', birthDate: '1980-04-11', sex: 'M', firstNameLatin: 'Youssef' };
    const a = attrs(alone);
    // A swap, a day's digit, a month's digit (found by the year's key), a year's digit (by the day and month's).
    for (const date of ['1980-11-04', '1980-04-12', '1980-07-11', '1981-04-11']) {
      const b = attrs({ ...alone, birthDate: date });
      const index = new Set(personBlockingKeys(a).index);
      expect(personBlockingKeys(b).probe.some((k) => index.has(k)), date).toBe(true);
      const s = scorePersons(personsModule.matchProfile?.(a)?.fields ?? {}, personsModule.matchProfile?.(b)?.fields ?? {}).score;
      expect(s, date).toBeLessThan(PERSON_THRESHOLDS.link);
      // A swap is capped just under link (doubtful, 21): in review by its score. A one-digit typo with names alone scores
      // 14.6, under the review threshold (18), and no place says it is the same person nor are the names rare: not
      // reviewed, the cost of a queue within 1 % at 1M persons (namesakes born one slip apart; docs/decisions.md §26).
      expect(review(alone, { ...alone, birthDate: date }), date).toBe(date === '1980-11-04' ? 'score' : undefined);
    }
  });
  it('a day/month swap with both names exact and the same birth commune links (the score decides, no cap)', () => {
    const s = scorePersons(profile({ ...base, firstNameLatin: 'Youssef' }), profile({ ...base, firstNameLatin: 'Youssef', birthDate: '1980-11-04' }));
    expect(s.score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
    expect(s.weights.doubtful).toBeUndefined();
  });
  it('a one-day typo with the same birth commune links on rare names, stays in review on the commonest (namesakes)', () => {
    const rare = { ...base, firstNameLatin: 'Samira', lastNameLatin: 'Bouttaleb', sex: 'F' };
    expect(scorePersons(profile(rare), profile({ ...rare, birthDate: '1980-04-12' })).score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
    // Mohamed Alaoui born a day apart in one commune: never linked. Where the names are as common as in `crowded`, the
    // term frequencies keep it under the review threshold, but one field from a link: in review as near-link.
    const common = { ...base, firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui' };
    const slipped = { ...common, birthDate: '1980-04-12' };
    expect(scorePersons(profile(common), profile(slipped)).score).toBeLessThan(PERSON_THRESHOLDS.link);
    expect(review(common, slipped)).toBeDefined();
    const s = scorePersons(profile(common), profile(slipped), crowded);
    expect(s.score).toBeLessThan(PERSON_THRESHOLDS.review);
    expect(s.uncertain).toEqual({ field: 'birthDate', scoreIfAgreeing: expect.any(Number) });
    expect(review(common, slipped, crowded)).toBe('near-link');
  });
});

describe('6. the review band holds doubtful pairs; invariants kept', () => {
  it("M'hamed/Mohamed with the same date and commune is no longer vetoed far below review, and never linked", () => {
    const s = scorePersons(profile({ ...base, firstNameLatin: "M'hamed" }), profile({ ...base, firstNameLatin: 'Mohamed' })).score;
    expect(s).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.review - 1);
    expect(s).toBeLessThan(PERSON_THRESHOLDS.link);
  });
  it('two different valid CINs are never linked nor reviewed, whatever else agrees', () => {
    const same = { ...base, firstNameLatin: 'Youssef', address: '3 Rue de Fès', addressCommune: '01.511.01.01' };
    expect(scorePersons(profile({ ...same, cin: 'BK123456' }), profile({ ...same, cin: 'BK654321' })).score).toBeLessThan(PERSON_THRESHOLDS.review);
  });
});

describe('6b. near-threshold pairs: one uncertain field from a link, in review whatever their score', () => {
  const alone = { lastNameLatin: 'Bennani', birthDate: '1980-04-11', sex: 'M', firstNameLatin: 'Youssef' };
  const other = '07.431.07.09';
  it('a one-digit typo with exact names and a place agreeing: near-link below review, never linked', () => {
    const mohamed = { ...base, firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui' };
    const s = scorePersons(profile(mohamed), profile({ ...mohamed, birthDate: '1980-04-21' }), crowded);
    expect(s.score).toBeLessThan(PERSON_THRESHOLDS.review);
    expect(s.uncertain?.field).toBe('birthDate');
    expect(s.uncertain?.scoreIfAgreeing).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
    expect(review(mohamed, { ...mohamed, birthDate: '1980-04-21' }, crowded)).toBe('near-link');
  });
  it('a one-digit typo with exact names and nothing else: not near a link (no place says so), not reviewed below 18', () => {
    // Whatever the names weigh, no place: never near-link; in review only when the score reaches review on its own
    // (namesakes born one slip apart grow as the square of the population, §26).
    const byScore = (s: { score: number }) => (s.score >= PERSON_THRESHOLDS.review ? 'score' : undefined);
    const rare = { firstNameLatin: 'Hajar', lastNameLatin: 'Sebbahi', birthDate: '1980-04-11', sex: 'F' };
    const rarer = { ...rare, firstNameLatin: 'Ghizlane', lastNameLatin: 'Bouttaleb' };
    const scores: number[] = [];
    for (const [who, config] of [[alone, crowded], [alone, DEFAULT_PERSON_SCORE], [rare, DEFAULT_PERSON_SCORE], [rarer, DEFAULT_PERSON_SCORE]] as const) {
      const slipped = { ...who, birthDate: '1980-04-21' };
      const s = scorePersons(profile(who), profile(slipped), config);
      expect(s.uncertain).toBeUndefined();
      expect(s.score).toBeLessThan(PERSON_THRESHOLDS.link);
      expect(review(who, slipped, config)).toBe(byScore(s));
      scores.push(s.score);
    }
    // Both sides of the review threshold are reached: the commonest names under it, the rarest over it.
    expect(Math.min(...scores)).toBeLessThan(PERSON_THRESHOLDS.review);
    expect(Math.max(...scores)).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.review);
  });
  it('a day/month swap with exact names and nothing else: reviewed by its capped score', () => {
    expect(scorePersons(profile(alone), profile({ ...alone, birthDate: '1980-11-04' })).score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.review);
    expect(review(alone, { ...alone, birthDate: '1980-11-04' })).toBe('score');
  });
  it("M'hamed beside Mohamed, same date and commune: reviewed, and its look-alike is the uncertain field", () => {
    const s = scorePersons(profile({ ...base, firstNameLatin: "M'hamed" }), profile({ ...base, firstNameLatin: 'Mohamed' }));
    expect(s.score).toBeLessThan(PERSON_THRESHOLDS.link);
    expect(s.uncertain?.field).toBe('firstName');
    expect(review({ ...base, firstNameLatin: "M'hamed" }, { ...base, firstNameLatin: 'Mohamed' })).toBe('near-link');
    // The commonest family name, the date and the commune: near-link too. With no place, names and a date alone: not
    // (namesakes born the same day are the bulk of the queue at 1M).
    const common = { ...base, lastNameLatin: 'Alaoui', sex: undefined };
    expect(review({ ...common, firstNameLatin: "M'hamed" }, { ...common, firstNameLatin: 'Mohamed' })).toBe('near-link');
    const dated = { lastNameLatin: 'Alaoui', birthDate: '1980-04-11' };
    expect(review({ ...dated, firstNameLatin: "M'hamed" }, { ...dated, firstNameLatin: 'Mohamed' }, crowded)).toBeUndefined();
    expect(review({ ...dated, firstNameLatin: "M'hamed" }, { ...dated, firstNameLatin: 'Mohamed' })).not.toBe('near-link');
  });
  it('a father and his son named alike, a decade apart on one digit, at one address: neither linked nor reviewed', () => {
    const home = { ...base, firstNameLatin: 'Youssef', address: '12 Rue de Fès', addressCommune: '01.511.01.01' };
    const s = scorePersons(profile(home), profile({ ...home, birthDate: '1990-04-11' }));
    expect(s.score).toBeLessThan(PERSON_THRESHOLDS.review);
    expect(s.weights.generation).toBeLessThan(0);
    expect(s.uncertain).toBeUndefined();
    expect(review(home, { ...home, birthDate: '1990-04-11' })).toBeUndefined();
  });
  it('namesakes born the same day in different communes: never linked nor near-link; where names are that common, not reviewed', () => {
    const mohamed = { ...base, firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui' };
    const s = scorePersons(profile(mohamed), profile({ ...mohamed, birthCommune: other }), crowded);
    expect(s.uncertain).toBeUndefined();
    expect(review(mohamed, { ...mohamed, birthCommune: other }, crowded)).toBeUndefined();
    expect(scorePersons(profile(mohamed), profile({ ...mohamed, birthCommune: other })).score).toBeLessThan(PERSON_THRESHOLDS.link);
  });
  it('a date slip beside a disagreeing place, or a date slip and a look-alike together, is not near a link', () => {
    expect(review({ ...base, firstNameLatin: 'Youssef' }, { ...base, firstNameLatin: 'Youssef', birthDate: '1980-04-12', birthCommune: other })).toBeUndefined();
    const both = scorePersons(profile({ ...alone, lastNameLatin: 'Alaoui', firstNameLatin: "M'hamed" }), profile({ ...alone, lastNameLatin: 'Alaoui', firstNameLatin: 'Mohamed', birthDate: '1980-04-12' }));
    expect(both.uncertain).toBeUndefined();
    expect(both.score).toBeLessThan(PERSON_THRESHOLDS.review);
  });
  it('the evaluator proposes them as the engine does: a typo in one commune in review with its partner, and a tie', () => {
    const c = (sourceId: string, attributes: Record<string, unknown>) => ({ sourceSystem: 'test', sourceId, attributes });
    const twin = { ...base, firstNameLatin: 'Youssef', lastNameLatin: 'Tazi', address: '12 Rue de Fès', addressCommune: '01.511.01.01' };
    const run = matchPersons([
      c('a', { ...alone, birthCommune: '01.511.01.01', firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui' }),
      c('b', { ...alone, birthCommune: '01.511.01.01', firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui', birthDate: '1980-04-21' }),
      c('t1', { ...twin, cin: 'BK123456' }),
      c('t2', { ...twin, cin: 'BK654321' }),
      c('t3', twin),
    ]);
    expect(run.clusters[1]).not.toBe(run.clusters[0]);
    expect(run.reviews.get(1)).toEqual([0]);
    expect(run.reviewReasons.get(1)).toEqual(['near-link']);
    expect(run.tied.has(4)).toBe(true);
    expect(run.reviewReasons.get(4)).toEqual(['tie', 'tie']);
  });
});

describe('twins: the same family, date, commune and address, two first names', () => {
  const household = { ...base, address: '7 Derb Sidi Bouloukat', addressCommune: '01.511.01.01' };
  it('two different names the table knows are two people: below review, whatever else agrees', () => {
    const s = scorePersons(profile({ ...household, firstNameLatin: 'Adel', firstNameArabic: 'عادل' }), profile({ ...household, firstNameLatin: 'Mustapha' }));
    expect(s.score).toBeLessThan(PERSON_THRESHOLDS.review);
    expect(s.weights.differentFirstName).toBeLessThan(0);
  });
  it('two first names outside the table that string similarity finds different: review at most, never a link', () => {
    const s = scorePersons(profile({ ...household, firstNameLatin: 'Zakariae' }), profile({ ...household, firstNameLatin: 'Tarik' }));
    expect(compareFirstNames(profile({ ...household, firstNameLatin: 'Zakariae' }), profile({ ...household, firstNameLatin: 'Tarik' }))).toBe('disagree');
    expect(s.score).toBeLessThan(PERSON_THRESHOLDS.link);
  });
  it('the generator never gives twins one first name', () => {
    const { truth, records } = generateInMemory({ seed: 3, dupRate: 0, persons: 4000, companies: 0, vehicles: 0, scriptMode: 'both' });
    let twins = 0;
    truth.forEach((t, i) => {
      if (!t.variations.includes('twin') || i === 0) return;
      twins++;
      const first = (r: number) => (records.persons[r]?.attributes as { firstNameArabic?: string }).firstNameArabic;
      expect(first(i)).not.toBe(first(i - 1));
    });
    expect(twins).toBeGreaterThan(10);
  });
});

describe('term frequencies and calibration', () => {
  it('agreeing on a common name weighs less than on a rare one, within bounds', () => {
    const level = { m: 0.9, u: 0.02 };
    expect(termFrequencyWeight(level, 0.1)).toBeLessThan(termFrequencyWeight(level, 0.001));
    expect(termFrequencyWeight(level, 1e-9)).toBeCloseTo(Math.log2(0.9 / 0.005));
  });
  it('estimates weights by EM from unlabelled records, with thresholds and a date', () => {
    const { records } = generateInMemory({ seed: 11, dupRate: 0.2, persons: 1500, companies: 0, vehicles: 0 });
    const model = calibrate(records.persons, { data: 'test', randomPairs: 20_000, now: new Date('2026-01-02T00:00:00Z') });
    expect(model.estimatedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(model.lambda).toBeGreaterThan(0.05);
    // Most blocked pairs are the same person at 1,500 persons (few namesakes to block on), but not all.
    expect(model.lambda).toBeLessThan(0.99);
    // Agreement on a birth date says more than agreement on sex; the levels are ordered as they should be.
    expect(Math.log2(model.levels.birthDate.exact.m / model.levels.birthDate.exact.u)).toBeGreaterThan(Math.log2(model.levels.sex.agree.m / model.levels.sex.agree.u));
    expect(model.thresholds.link).toBeGreaterThan(model.thresholds.review);
    expect(model.termFrequencies.given['محمد']).toBeGreaterThan(0.01);
  });
});
