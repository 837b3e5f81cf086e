// Fellegi–Sunter scoring of two person match profiles: per-field agreement levels, log2(m/u) weights, missing values neutral.

import { arabicSkeleton, latinSkeleton } from './blocking.ts';
import { arabicPart, consonants, jaroWinkler, latinPart, vowelSlots } from './similarity.ts';

/** m: P(level | same person); u: P(level | different persons). The weight of a level is log2(m/u). */
export interface LevelProbabilities {
  m: number;
  u: number;
}

/**
 * A level whose weight is set by policy rather than estimated: a veto. Invariant 6 (design/referentials.md) forbids
 * auto-linking on names across different birth dates and treating M'hamed as Mohamed, whatever the other fields say.
 */
export interface FixedWeight {
  weight: number;
}

export type Level = LevelProbabilities | FixedWeight;

export interface PersonScoreConfig {
  cin: { agree: Level; disagree: Level };
  firstName: { exact: Level; variant: Level; disagree: Level };
  lastName: { exact: Level; similar: Level; disagree: Level };
  birthDate: { agree: Level; disagree: Level };
  commune: { agree: Level; disagree: Level };
  addressCommune: { agree: Level; disagree: Level };
  address: { agree: Level; disagree: Level };
  sex: { agree: Level; disagree: Level };
  /** Jaro–Winkler at or above which two Latin first names of the same vowel-slot skeleton are spelling variants. */
  firstNameVariantJw: number;
  /** Jaro–Winkler at or above which two last names are "similar" (one typo, a dropped article). */
  lastNameSimilarJw: number;
}

/**
 * Defaults. u values are rough population frequencies (a first name like Mohamed is borne by several per cent of
 * men, a surname like Alaoui by about one per cent, a birth date is shared by 1 in ~20,000 pairs, a birth commune by
 * ~2 % of pairs since large cities dominate); m values are the agreement rates seen between sources for one person
 * (typos, missing Arabic, spelling variants). An address line (number and street, folded) is shared by one household:
 * u ≈ 1e-4; half the pairs of one person's records give the same line (people move, write it differently). Vetoes are policy (invariant 6), not estimates.
 */
export const DEFAULT_PERSON_SCORE: PersonScoreConfig = {
  // Two different CINs are two people (a CIN is issued once and kept for life): a veto, like a different birth date.
  // Estimated from CIN typos instead (m 0.02), it weighed -5.6, and at a million persons namesakes born the same day in
  // the same commune, each with their own CIN, were linked.
  cin: { agree: { m: 0.98, u: 1e-6 }, disagree: { weight: -15 } },
  firstName: { exact: { m: 0.8, u: 0.02 }, variant: { m: 0.15, u: 0.01 }, disagree: { weight: -20 } },
  lastName: { exact: { m: 0.8, u: 0.01 }, similar: { m: 0.17, u: 0.01 }, disagree: { weight: -15 } },
  birthDate: { agree: { m: 0.95, u: 1 / 22_000 }, disagree: { weight: -30 } },
  commune: { agree: { m: 0.9, u: 0.02 }, disagree: { m: 0.1, u: 0.98 } },
  addressCommune: { agree: { m: 0.6, u: 0.02 }, disagree: { m: 0.4, u: 0.98 } },
  address: { agree: { m: 0.5, u: 1e-4 }, disagree: { m: 0.5, u: 1 } },
  sex: { agree: { m: 0.98, u: 0.5 }, disagree: { m: 0.02, u: 0.5 } },
  firstNameVariantJw: 0.85,
  lastNameSimilarJw: 0.88,
};

/**
 * Link at 24: just above the most a pair can score on names and places without a birth date, a CIN or the same street
 * address (both name parts exact, birth and address communes and sex agreeing: 5.3 + 6.3 + 5.5 + 4.9 + 1.0 = 23.0);
 * exact names with the same birth date score 25.9, with the same address line and commune 28.8. Review at 10: a same-name pair without birth date (≥ 17), or
 * M'hamed/Mohamed with the same birth date and commune (≈ 12), goes to a steward. The generator's data confirms the
 * gap (referentials/persons/matching-quality.test.ts prints the distribution).
 */
export const PERSON_THRESHOLDS = { link: 24, review: 10 } as const;

export function levelWeight(level: Level): number {
  return 'weight' in level ? level.weight : Math.log2(level.m / level.u);
}

/** The disagreement weight log2((1-m)/(1-u)) of a two-level field, given its agreement probabilities. */
export function disagreementOf(agree: LevelProbabilities): LevelProbabilities {
  return { m: 1 - agree.m, u: 1 - agree.u };
}

type Fields = Readonly<Record<string, string | null>>;

function present(a: Fields, b: Fields, key: string): [string, string] | undefined {
  const x = a[key];
  const y = b[key];
  return x === null || x === undefined || x === '' || y === null || y === undefined || y === '' ? undefined : [x, y];
}

function contains(x: string, y: string, min: number): boolean {
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  return short.length >= min && long.includes(short);
}

/** Maghrebi speech drops a name's initial vowel (Ibrahim/Brahim, Idriss/Driss, Amhamed/Mhamed): `long` is `short` with one more. */
function initialVowelDropped(long: string, short: string): boolean {
  return short.length >= 4 && long.length === short.length + 1 && /^[aiu]/.test(long) && long.slice(1) === short;
}

/** Two adjacent letters swapped (Fatmia, Fatima): a keyboard slip, not another name. */
function adjacentTransposition(x: string, y: string): boolean {
  if (x.length !== y.length || x.length < 4) return false;
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return i + 1 < x.length && x[i] === y[i + 1] && x[i + 1] === y[i] && x.slice(i + 2) === y.slice(i + 2);
}

export type FirstNameLevel = 'exact' | 'variant' | 'disagree';
export type LastNameLevel = 'exact' | 'similar' | 'disagree';

/** First names: in Arabic when both have it (exact or not: امحمد is not محمد); else the Latin forms, graded. */
export function compareFirstNames(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): FirstNameLevel | undefined {
  const arabic = present(a, b, 'firstArabic');
  if (arabic) return arabicPart(arabic[0]) === arabicPart(arabic[1]) ? 'exact' : 'disagree';
  const latin = present(a, b, 'firstLatin');
  if (!latin) {
    // One in Arabic only, the other in Latin only: their consonant skeletons (Ahmed and أحمد are both hmd).
    const cross = crossScript(a, b, 'firstArabic', 'firstLatin');
    if (!cross) return undefined;
    if (cross[0] === cross[1]) return 'variant';
    return jaroWinkler(cross[0], cross[1]) < 0.7 ? 'disagree' : undefined;
  }
  const [x, y] = [latinPart(latin[0]), latinPart(latin[1])];
  if (x === y) return 'exact';
  if (initialVowelDropped(x, y) || initialVowelDropped(y, x) || adjacentTransposition(x, y)) return 'variant';
  return vowelSlots(x) === vowelSlots(y) && jaroWinkler(x, y) >= config.firstNameVariantJw ? 'variant' : 'disagree';
}

/** Last names: in Arabic when both have it, else Latin; similar = high Jaro–Winkler, one inside the other (Drissi, Idrissi), or (Latin) the same consonants (Sbai, Sebbai). */
export function compareLastNames(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): LastNameLevel | undefined {
  const arabic = present(a, b, 'lastArabic');
  const latin = present(a, b, 'lastLatin');
  const pair = arabic ? [arabicPart(arabic[0]), arabicPart(arabic[1])] : latin ? [latinPart(latin[0]), latinPart(latin[1])] : undefined;
  if (!pair) {
    // Across scripts, skeletons again; an article glued in Latin (Lalaoui, العلوي) leaves one inside the other.
    const cross = crossScript(a, b, 'lastArabic', 'lastLatin');
    if (!cross) return undefined;
    const [p, q] = cross;
    if (p === q || (p.length >= 2 && q.length >= 2 && (p.endsWith(q) || q.endsWith(p)))) return 'similar';
    return jaroWinkler(p, q) < 0.7 ? 'disagree' : undefined;
  }
  const [x = '', y = ''] = pair;
  // The same name with its article glued on (Elidrissi, Elfassi) is the same spelling.
  if (x === y || (!arabic && (x === `al${y}` || y === `al${x}`))) return 'exact';
  if (jaroWinkler(x, y) >= config.lastNameSimilarJw || contains(x, y, 4)) return 'similar';
  return !arabic && x.length >= 4 && y.length >= 4 && consonants(x) === consonants(y) ? 'similar' : 'disagree';
}

/** The skeletons of a name part written in Arabic on one side and in Latin on the other (undefined otherwise). */
function crossScript(a: Fields, b: Fields, arabicKey: string, latinKey: string): [string, string] | undefined {
  const has = (f: Fields, k: string): f is Fields => typeof f[k] === 'string' && f[k] !== '';
  const [ar, la] = has(a, arabicKey) && !has(a, latinKey) && has(b, latinKey) && !has(b, arabicKey) ? [a, b] : has(b, arabicKey) && !has(b, latinKey) && has(a, latinKey) && !has(a, arabicKey) ? [b, a] : [];
  if (!ar || !la) return undefined;
  const x = arabicSkeleton(ar[arabicKey] as string);
  const y = latinSkeleton(la[latinKey] as string);
  return x && y ? [x, y] : undefined;
}

export interface PersonMatchScore {
  score: number;
  weights: Record<string, number>;
}

/** Scores two person profiles (fields as built by the persons module's matchProfile). */
export function scorePersons(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): PersonMatchScore {
  const weights: Record<string, number> = {};
  const binary = (field: string, key: keyof PersonScoreConfig & ('cin' | 'birthDate' | 'commune' | 'addressCommune' | 'address' | 'sex')): void => {
    const pair = present(a, b, field);
    if (!pair) return;
    weights[field] = levelWeight(pair[0] === pair[1] ? config[key].agree : config[key].disagree);
  };
  binary('cin', 'cin');
  const first = compareFirstNames(a, b, config);
  if (first) weights.firstName = levelWeight(config.firstName[first]);
  const last = compareLastNames(a, b, config);
  if (last) weights.lastName = levelWeight(config.lastName[last]);
  binary('birthDate', 'birthDate');
  binary('commune', 'commune');
  binary('addressCommune', 'addressCommune');
  binary('address', 'address');
  binary('sex', 'sex');
  let score = 0;
  for (const w of Object.values(weights)) score += w;
  return { score: Math.round(score * 1000) / 1000, weights };
}
