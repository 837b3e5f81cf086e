// Person scoring: Jaro–Winkler, Fellegi–Sunter properties, and invariant 6 (no link across birth dates; M'hamed ≠ Mohamed).

import { describe, expect, it } from 'vitest';
import { personsModule, type PersonAttributes } from './module.ts';
import { PERSON_THRESHOLDS, compareFirstNames, compareLastNames, levelWeight, scorePersons } from './score.ts';
import { jaro, jaroWinkler, latinPart, trigramSimilarity } from './similarity.ts';

function profile(attributes: Record<string, unknown>): Record<string, string | null> {
  const result = personsModule.normalise(attributes);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const p = personsModule.matchProfile?.(result.attributes as PersonAttributes);
  if (!p) throw new Error('no profile');
  return p.fields;
}

const base = { firstNameLatin: 'Mohamed', lastNameLatin: 'El Idrissi', birthDate: '1975-06-14', birthCommune: '01.511.01.01', sex: 'M' };

describe('string similarity', () => {
  it('computes Jaro and Jaro–Winkler as published (MARTHA/MARHTA, DIXON/DICKSONX)', () => {
    expect(jaro('MARTHA', 'MARHTA')).toBeCloseTo(0.944, 3);
    expect(jaroWinkler('MARTHA', 'MARHTA')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('DIXON', 'DICKSONX')).toBeCloseTo(0.813, 3);
    expect(jaroWinkler('', '')).toBe(1);
    expect(jaroWinkler('abc', '')).toBe(0);
  });

  it('computes trigram similarity', () => {
    expect(trigramSimilarity('idrisi', 'idrisi')).toBe(1);
    expect(trigramSimilarity('abc', 'xyz')).toBe(0);
  });

  it('compares Latin spellings of one name equal, and keeps M\'hamed apart from Mohamed', () => {
    expect(latinPart('Fatima Zahra')).toBe(latinPart('Fatimazahra'));
    expect(latinPart('Benali')).toBe(latinPart('Ben Ali'));
    expect(latinPart('Ouazzani')).toBe(latinPart('Wazzani'));
    expect(latinPart('Youcef')).toBe(latinPart('Youssef'));
    expect(latinPart('Sofiane')).toBe(latinPart('Sufyan'));
    expect(latinPart('Mohammed')).toBe(latinPart('Muhammad'));
    expect(latinPart("M'hamed")).not.toBe(latinPart('Mohamed'));
    expect(latinPart('Amine')).not.toBe(latinPart('Amina'));
  });
});

describe('persons: score', () => {
  it('scores identical records above the link threshold', () => {
    const a = profile({ ...base, firstNameArabic: 'محمد', lastNameArabic: 'الإدريسي' });
    expect(scorePersons(a, a).score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
    expect(personsModule.score?.(a, a).score).toBe(scorePersons(a, a).score);
  });

  it('never links the same names across different birth dates (invariant 6): names alone, another year or a place disagreeing', () => {
    const arabic = { firstNameArabic: 'محمد', lastNameArabic: 'الإدريسي' };
    const home = { address: '12 Rue de Fès', addressCommune: '01.511.01.01' };
    const a = profile({ ...base, ...home, ...arabic });
    // Names, sex and a date one day off, nothing else on both sides: reviewed at most.
    const namesOnly = scorePersons(profile({ firstNameLatin: 'Mohamed', lastNameLatin: 'El Idrissi', birthDate: '1975-06-14', sex: 'M' }), profile({ firstNameLatin: 'Mohamed', lastNameLatin: 'El Idrissi', birthDate: '1975-06-15', sex: 'M' }));
    expect(namesOnly.score).toBeLessThan(PERSON_THRESHOLDS.link);
    // One digit of the year (1975/1985) at the same address: a son named after his father, not a slip.
    const son = scorePersons(a, profile({ ...base, ...home, ...arabic, birthDate: '1985-06-14' }));
    expect(son.score).toBeLessThan(PERSON_THRESHOLDS.link);
    expect(son.weights.doubtful).toBeLessThan(0);
    // The same address but another birth commune: a place disagrees, the slip is not corroborated.
    const moved = scorePersons(a, profile({ ...base, ...home, ...arabic, birthDate: '1975-06-15', birthCommune: '04.501.03.11' }));
    expect(moved.score).toBeLessThan(PERSON_THRESHOLDS.link);
    const far = scorePersons(a, profile({ ...base, ...home, ...arabic, birthDate: '1979-02-03' }));
    expect(far.score).toBeLessThan(PERSON_THRESHOLDS.review);
    expect(far.weights.birthDate).toBeLessThan(0);
  });

  it('links a date one day off in the same year when both names agree exactly and the address corroborates it', () => {
    const arabic = { firstNameArabic: 'محمد', lastNameArabic: 'الإدريسي' };
    const home = { address: '12 Rue de Fès', addressCommune: '01.511.01.01' };
    const s = scorePersons(profile({ ...base, ...home, ...arabic }), profile({ ...base, ...home, ...arabic, birthDate: '1975-06-15' }));
    expect(s.score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
    expect(s.weights.doubtful).toBeUndefined();
    // A first-name spelling outside one class (a look-alike) keeps the pair doubtful, address or not.
    const lookalike = scorePersons(profile({ ...base, ...home, firstNameLatin: "M'hamed" }), profile({ ...base, ...home, birthDate: '1975-06-15' }));
    expect(lookalike.score).toBeLessThan(PERSON_THRESHOLDS.link);
  });

  it('counts an address commune that both records give as their birth commune once, with the birth commune', () => {
    const born = { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', birthCommune: '01.511.01.01', sex: 'M' };
    const home = scorePersons(profile({ ...born, addressCommune: '01.511.01.01' }), profile({ ...born, addressCommune: '01.511.01.01' }));
    expect(home.weights.commune).toBeGreaterThan(0);
    expect(home.weights.addressCommune).toBe(0);
    // Living elsewhere than where born, both in the same other commune: a second fact, it counts.
    const moved = scorePersons(profile({ ...born, addressCommune: '07.431.07.09' }), profile({ ...born, addressCommune: '07.431.07.09' }));
    expect(moved.weights.addressCommune).toBeGreaterThan(0);
    expect(moved.score).toBeGreaterThan(home.score);
  });

  it('reads a family name outside the table written in each script with one skeleton as the same name (exact)', () => {
    const arabicOnly = (last: string) => profile({ firstNameArabic: 'عمر', lastNameArabic: last, birthDate: '1985-12-20' });
    const latinOnly = (last: string) => profile({ firstNameLatin: 'Omar', lastNameLatin: last, birthDate: '1985-12-20' });
    expect(compareLastNames(arabicOnly('السكوبي'), latinOnly('Sakoubi'))).toBe('exact');
    expect(compareLastNames(arabicOnly('السكوبي'), latinOnly('SEKKOUBI'))).toBe('exact');
    // Another root (s-k-t): not the same name, whatever the letters in common.
    expect(compareLastNames(arabicOnly('السكوبي'), latinOnly('Sakouti'))).not.toBe('exact');
    // Across scripts with nothing but names and the date: a link, as the same pair in one script is.
    expect(scorePersons(arabicOnly('السكوبي'), latinOnly('Sakoubi')).score).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
  });

  it('does not link a first name without consonants, written in one script, to one with consonants in the other', () => {
    // A twin's records: "Ai" (a slip for Ali) in Latin, M'hamed in Arabic; same family name and date.
    const latin = profile({ firstNameLatin: 'Ai', lastNameLatin: 'Khabtani', birthDate: '1997-06-12', sex: 'M' });
    const arabic = profile({ firstNameArabic: 'امحمد', lastNameArabic: 'الخبتاني', birthDate: '1997-06-12', sex: 'M' });
    expect(compareFirstNames(latin, arabic)).toBe('disagree');
    expect(scorePersons(latin, arabic).score).toBeLessThan(PERSON_THRESHOLDS.link);
  });

  it('does not link names alone when birth dates are missing', () => {
    const a = profile({ firstNameLatin: 'Mohamed', lastNameLatin: 'Alaoui', birthCommune: '01.511.01.01', addressCommune: '01.511.01.01', sex: 'M' });
    expect(scorePersons(a, a).score).toBeLessThan(PERSON_THRESHOLDS.link);
  });

  it("does not link M'hamed and Mohamed with the same birth date and commune (Latin or Arabic)", () => {
    const latin = scorePersons(profile({ ...base, firstNameLatin: "M'hamed" }), profile(base));
    expect(compareFirstNames(profile({ ...base, firstNameLatin: 'Mhamed' }), profile(base))).toBe('lookalike');
    expect(latin.score).toBeLessThan(PERSON_THRESHOLDS.link);
    const arabic = scorePersons(
      profile({ ...base, firstNameLatin: 'Mohamed', firstNameArabic: 'امحمد', lastNameArabic: 'الإدريسي' }),
      profile({ ...base, firstNameLatin: 'Mohamed', firstNameArabic: 'محمد', lastNameArabic: 'الإدريسي' }),
    );
    expect(arabic.score).toBeLessThan(PERSON_THRESHOLDS.link);
  });

  it('links transliteration variants with the same birth date and commune', () => {
    const pairs: [Record<string, string>, Record<string, string>][] = [
      [{ firstNameLatin: 'Mohamed', lastNameLatin: 'El Idrissi' }, { firstNameLatin: 'MUHAMMAD', lastNameLatin: 'Idrissi' }],
      [{ firstNameLatin: 'Mohammed', lastNameLatin: 'Elidrissi' }, { firstNameLatin: 'Mohamed', lastNameLatin: 'Drissi' }],
      [{ firstNameLatin: 'Fatima Zahra', lastNameLatin: 'Benali' }, { firstNameLatin: 'Fatima-Zohra', lastNameLatin: 'Ben Ali' }],
      [{ firstNameLatin: 'Fatimazahra', lastNameLatin: 'Ouazzani' }, { firstNameLatin: 'Fatima Zahra', lastNameLatin: 'Wazzani' }],
      [{ firstNameLatin: 'Youssef', lastNameLatin: 'Sbai' }, { firstNameLatin: 'Yusuf', lastNameLatin: 'Sebbai' }],
      [{ firstNameLatin: 'Brahim', lastNameLatin: 'Tazi' }, { firstNameLatin: 'Ibrahim', lastNameLatin: 'Tazi', firstNameArabic: 'إبراهيم' }],
    ];
    for (const [x, y] of pairs) {
      const s = scorePersons(profile({ ...base, ...x }), profile({ ...base, ...y }));
      expect(s.score, `${JSON.stringify(x)} vs ${JSON.stringify(y)}: ${JSON.stringify(s.weights)}`).toBeGreaterThanOrEqual(PERSON_THRESHOLDS.link);
    }
  });

  it('keeps missing values neutral and uses Arabic when both records have it', () => {
    const a = profile({ lastNameLatin: 'Tazi' });
    expect(Object.keys(scorePersons(a, a).weights)).toEqual(['lastName']);
    expect(scorePersons(a, a).weights.lastName).toBeGreaterThan(levelWeight({ m: 0.5, u: 0.5 }));
    const arabic = scorePersons(profile({ ...base, firstNameArabic: 'محمد' }), profile({ ...base, firstNameLatin: 'Mohamad', firstNameArabic: 'مُحَمَّد' }));
    expect(arabic.weights.firstName).toBeGreaterThan(0);
  });
});
