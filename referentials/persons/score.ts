// Fellegi–Sunter scoring of two person match profiles: per-field agreement levels, log2(m/u) weights estimated by the
// calibration (model.ts), term-frequency adjusted name agreement, vetoes by policy, missing values neutral.

import { arabicSkeleton, latinSkeleton } from './blocking.ts';
import { compareBirthDates, type BirthDateLevel } from './dates.ts';
import { loadPersonModel, type EstimatedLevels, type LevelProbabilities, type PersonModel } from './model.ts';
import { compareClasses, lookalikeClasses, nameClasses, nearClasses, singleClass, type NameKind } from './name-table.ts';
import { arabicPart, consonants, jaroWinkler, latinPart, vowelSlots } from './similarity.ts';

export type { LevelProbabilities };

/**
 * Vetoes: policy, not estimates. Invariant 6 (design/referentials.md) forbids auto-linking on names across different
 * birth dates, a different first name outweighs a shared family, date and commune (a twin, a brother), and two
 * different CINs are two people (a CIN is issued once and kept for life).
 */
export const VETOES = { cin: -15, firstName: -20, lastName: -15, birthDate: -30 } as const;

export interface PersonScoreConfig {
  levels: EstimatedLevels;
  /** Share of records bearing each name class: agreeing on a common name weighs less (term-frequency adjustment). */
  termFrequencies: PersonModel['termFrequencies'];
  /** A pair whose birth dates differ or whose first names are look-alikes scores at most this: review, never a link. */
  doubtfulCap: number;
  /** Two different CINs are two people: such a pair scores at most this, below review (twins are not a steward's question). */
  distinctCap: number;
  /** Jaro–Winkler at or above which two Latin first names of the same vowel-slot skeleton are spelling variants. */
  firstNameVariantJw: number;
  /** Jaro–Winkler at or above which two last names are "similar" (one typo, a dropped article). */
  lastNameSimilarJw: number;
}

export function configFromModel(model: PersonModel): PersonScoreConfig {
  return { levels: model.levels, termFrequencies: model.termFrequencies, doubtfulCap: model.thresholds.link - 1, distinctCap: model.thresholds.review - 1, firstNameVariantJw: 0.85, lastNameSimilarJw: 0.88 };
}

/** The model in force: weights.json as the last calibration wrote it (its date is in it), else the hand-set prior. */
export const PERSON_MODEL: PersonModel = loadPersonModel();
export const DEFAULT_PERSON_SCORE: PersonScoreConfig = configFromModel(PERSON_MODEL);
/** Link and review thresholds, chosen by the calibration from the estimated error rates (calibrate.ts). */
export const PERSON_THRESHOLDS = { link: PERSON_MODEL.thresholds.link, review: PERSON_MODEL.thresholds.review } as const;

export function levelWeight(level: LevelProbabilities): number {
  return Math.log2(level.m / level.u);
}

/**
 * The weight of an exact name agreement on class `cls`, as Splink adjusts it: u is the share of records bearing that
 * name (agreeing on Mohamed is likelier by chance than on Akhannouch). Bounded below by a quarter of the level's
 * average u, so that a rare name alone never outweighs a birth date, and above by m/2, so that agreeing on even the
 * commonest name counts one bit. The average u is small where family names are many (0.14 %: chance agreement over
 * thousands of names), so the share of one common name (Alaoui, 2.3 %) is far above it: an upper bound of 4u, as there
 * was, counted Alaoui as a name of 0.7 % (docs/decisions.md §30).
 */
export function termFrequencyWeight(level: LevelProbabilities, frequency: number | undefined): number {
  if (frequency === undefined || !(frequency > 0)) return levelWeight(level);
  const u = Math.min(level.m / 2, Math.max(level.u / 4, frequency));
  return Math.log2(level.m / u);
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

export type FirstNameLevel = 'exact' | 'variant' | 'lookalike' | 'disagree';
export type LastNameLevel = 'exact' | 'similar' | 'disagree';

/** A name comparison: its level, and the name's class when the table knows it (for the term frequency). */
export interface NameComparison<L extends string> {
  level: L;
  cls?: string;
  /** Whether the name table decided (both parts known to it), rather than string similarity. */
  table?: true;
}

type Written = { script: 'latin' | 'arabic'; value: string };

/** The forms two records give of one name part, in the script they share (Arabic first), else across scripts. */
function writtenPair(a: Fields, b: Fields, arabicKey: string, latinKey: string): [Written, Written] | undefined {
  const arabic = present(a, b, arabicKey);
  if (arabic) return [{ script: 'arabic', value: arabic[0] }, { script: 'arabic', value: arabic[1] }];
  const latin = present(a, b, latinKey);
  if (latin) return [{ script: 'latin', value: latin[0] }, { script: 'latin', value: latin[1] }];
  const written = (f: Fields): Written | undefined => {
    const ar = f[arabicKey];
    if (typeof ar === 'string' && ar !== '') return { script: 'arabic', value: ar };
    const la = f[latinKey];
    return typeof la === 'string' && la !== '' ? { script: 'latin', value: la } : undefined;
  };
  const [x, y] = [written(a), written(b)];
  return x && y ? [x, y] : undefined;
}

/** The table's verdict on two written name parts; undefined when either is outside it (string similarity decides). */
function tableVerdict(kind: NameKind, x: Written, y: Written): { verdict: 'same' | 'lookalike' | 'different'; cls?: string } | undefined {
  const verdict = compareClasses(kind, nameClasses(kind, x.value, x.script), nameClasses(kind, y.value, y.script));
  if (verdict === undefined) return undefined;
  const cls = singleClass(kind, x.value, x.script) ?? singleClass(kind, y.value, y.script);
  return cls === undefined ? { verdict } : { verdict, cls };
}

/**
 * A Latin first name outside the table one keyboard slip from exactly one class (Mohamef, Khadjia), beside a name the
 * table knows: `variant` when that is its class, `lookalike` when the two classes are look-alikes; undefined otherwise
 * (another known name, or a slip that could be two names: string similarity decides, as before).
 */
function slipVerdict(slipped: Written, known: Written): 'variant' | 'lookalike' | undefined {
  if (slipped.script !== 'latin') return undefined;
  const near = nearClasses('given', slipped.value);
  if (near.size !== 1) return undefined;
  const [cls] = near as Set<string>;
  const classes = nameClasses('given', known.value, known.script);
  if (cls === undefined || classes.size === 0) return undefined;
  if (classes.has(cls)) return 'variant';
  for (const c of classes) if (lookalikeClasses('given', cls, c)) return 'lookalike';
  return undefined;
}

function skeletonOf(w: Written): string {
  return w.script === 'arabic' ? arabicSkeleton(w.value) : latinSkeleton(w.value);
}

/**
 * First names: the name table first (the same name in any script and spelling: exact; a known look-alike such as
 * M'hamed beside Mohamed: lookalike; two different known names: disagree). Outside the table, string similarity: in
 * Arabic, equal after folding or not; in Latin, graded (exact, variant, disagree); across scripts, the consonant
 * skeletons, a near miss being a look-alike (a steward's question) rather than nothing.
 */
export function compareFirstNames(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): FirstNameLevel | undefined {
  return compareFirst(a, b, config)?.level;
}

export function compareFirst(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): NameComparison<FirstNameLevel> | undefined {
  const pair = writtenPair(a, b, 'firstArabic', 'firstLatin');
  if (!pair) return undefined;
  const [x, y] = pair;
  const table = tableVerdict('given', x, y);
  if (table) {
    const level = table.verdict === 'same' ? 'exact' : table.verdict === 'lookalike' ? 'lookalike' : 'disagree';
    return table.cls === undefined || level !== 'exact' ? { level, table: true } : { level, cls: table.cls, table: true };
  }
  const slip = slipVerdict(x, y) ?? slipVerdict(y, x);
  if (slip) return { level: slip };
  if (x.script !== y.script) {
    const [p, q] = [skeletonOf(x), skeletonOf(y)];
    if (p === '' && q === '') return undefined;
    // A first name with consonants beside one with none ("Ai", a slip for Ali, beside امحمد) is not one name: left
    // uncompared, it let a twin link on the family name and the date alone (decisions §30).
    if (p === '' || q === '') return { level: 'disagree' };
    if (p === q) return { level: 'variant' };
    return { level: jaroWinkler(p, q) < 0.7 ? 'disagree' : 'lookalike' };
  }
  if (x.script === 'arabic') return { level: arabicPart(x.value) === arabicPart(y.value) ? 'exact' : 'disagree' };
  const [u, v] = [latinPart(x.value), latinPart(y.value)];
  if (u === v) return { level: 'exact' };
  if (initialVowelDropped(u, v) || initialVowelDropped(v, u) || adjacentTransposition(u, v)) return { level: 'variant' };
  return { level: vowelSlots(u) === vowelSlots(v) && jaroWinkler(u, v) >= config.firstNameVariantJw ? 'variant' : 'disagree' };
}

/** Last names: the table first (same class: exact; two known names: disagree), else similarity as before. */
export function compareLastNames(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): LastNameLevel | undefined {
  return compareLast(a, b, config)?.level;
}

export function compareLast(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): NameComparison<LastNameLevel> | undefined {
  const pair = writtenPair(a, b, 'lastArabic', 'lastLatin');
  if (!pair) return undefined;
  const [x, y] = pair;
  const table = tableVerdict('family', x, y);
  if (table) {
    if (table.verdict !== 'same') return { level: 'disagree' };
    return table.cls === undefined ? { level: 'exact' } : { level: 'exact', cls: table.cls };
  }
  if (x.script !== y.script) {
    // Across scripts, skeletons again. One skeleton is the most a comparison across scripts can say of a name outside
    // the table (الكتابي, Kettabi): `exact`, as one spelling is within a script and one class is for a listed name; as
    // `similar` it weighed 3.2 bits against 9.4, and most family names are outside the table (decisions §30). An
    // article glued in Latin (Lalaoui, العلوي) leaves one inside the other: similar.
    const [p, q] = [skeletonOf(x), skeletonOf(y)];
    if (p === '' || q === '') return undefined;
    if (p === q) return { level: 'exact' };
    if (p.length >= 2 && q.length >= 2 && (p.endsWith(q) || q.endsWith(p))) return { level: 'similar' };
    return jaroWinkler(p, q) < 0.7 ? { level: 'disagree' } : undefined;
  }
  const arabic = x.script === 'arabic';
  const [u, v] = arabic ? [arabicPart(x.value), arabicPart(y.value)] : [latinPart(x.value), latinPart(y.value)];
  // The same name with its article glued on (Elidrissi, Elfassi) is the same spelling.
  if (u === v || (!arabic && (u === `al${v}` || v === `al${u}`))) return { level: 'exact' };
  if (jaroWinkler(u, v) >= config.lastNameSimilarJw || contains(u, v, 4)) return { level: 'similar' };
  return { level: !arabic && u.length >= 4 && v.length >= 4 && consonants(u) === consonants(v) ? 'similar' : 'disagree' };
}

/**
 * A birth date one slip away (day and month swapped, a digit, a day off) is the same date mistyped when more than the
 * names says so: both names agree exactly (one class of the name table, any script or spelling), the year is the same
 * (a different year may be another generation: a son named after his father, at his address), at least one place
 * agrees (birth commune, address commune or address line) and none disagrees. Such a pair is scored like any other
 * (the estimated swap or typo weight, the names' term frequencies): it links only if the score reaches link on its
 * own, which on a typo takes the address or rare names. Otherwise it is doubtful: review at most (invariant 6: names
 * alone never link across different birth dates).
 */
export function nearDateCorroborated(dates: readonly [string, string], first: NameComparison<FirstNameLevel> | undefined, last: NameComparison<LastNameLevel> | undefined, places: { agree: number; disagree: number }): boolean {
  return first?.level === 'exact' && last?.level === 'exact' && dates[0].slice(0, 4) === dates[1].slice(0, 4) && places.agree > 0 && places.disagree === 0;
}

/**
 * The one doubtful field of a pair and what the pair would score had it agreed: a birth date one slip away in the same
 * year scored as the exact date, a look-alike first name (M'hamed, Mohamed) as the name itself (the commoner one's
 * term frequency). The engine reviews such a pair when that score reaches link (src/golden/tie.ts `reviewProposals`):
 * one uncertain field away from a link is a steward's question whatever the score, which a date slip or a look-alike
 * costs up to 10 points (a one-digit typo weighs 4.1, the exact date 14.1). Absent when no field is doubtful, when two
 * are, when any field vetoes or a place disagrees (then the pair is more than one field away: namesakes born apart, a
 * father and his son), or when no place agrees (uncertainField says why).
 */
export interface UncertainField {
  field: 'birthDate' | 'firstName';
  scoreIfAgreeing: number;
}

export interface PersonMatchScore {
  score: number;
  weights: Record<string, number>;
  uncertain?: UncertainField;
}

/**
 * Both records live in the commune they were born in, and it is the same: the address commune's agreement is the birth
 * commune's told twice (the generator gives half of its persons their birth commune as address commune), so it weighs
 * nothing of its own. Counted as independent it added 6 bits, enough to link two namesakes of one commune without a
 * birth date (docs/decisions.md §30).
 */
function livesWhereBorn(a: Fields, b: Fields): boolean {
  return typeof a.commune === 'string' && a.commune === b.commune && a.addressCommune === a.commune && b.addressCommune === b.commune;
}

function binaryWeight(levels: { agree: LevelProbabilities; disagree: LevelProbabilities }, agree: boolean): number {
  return levelWeight(agree ? levels.agree : levels.disagree);
}

/**
 * Scores two person profiles (fields as built by the persons module's matchProfile). The weights sum to the score:
 * a doubtful pair (birth dates one slip apart, or look-alike first names) is capped below the link threshold, a pair
 * with two different CINs below the review threshold, each cap shown as its own negative weight (`doubtful`, `distinct`).
 */
export function scorePersons(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): PersonMatchScore {
  const weights: Record<string, number> = {};
  const L = config.levels;
  const cin = present(a, b, 'cin');
  if (cin) weights.cin = cin[0] === cin[1] ? levelWeight(L.cin.agree) : VETOES.cin;
  const first = compareFirst(a, b, config);
  if (first) {
    weights.firstName =
      first.level === 'disagree' ? VETOES.firstName : first.level === 'exact' ? termFrequencyWeight(L.firstName.exact, first.cls === undefined ? undefined : config.termFrequencies.given[first.cls]) : levelWeight(L.firstName[first.level]);
  }
  const last = compareLast(a, b, config);
  if (last) {
    weights.lastName =
      last.level === 'disagree' ? VETOES.lastName : last.level === 'exact' ? termFrequencyWeight(L.lastName.exact, last.cls === undefined ? undefined : config.termFrequencies.family[last.cls]) : levelWeight(L.lastName.similar);
  }
  const dates = present(a, b, 'birthDate');
  let date: BirthDateLevel | undefined;
  if (dates) {
    date = compareBirthDates(dates[0], dates[1]);
    weights.birthDate = date === 'disagree' ? VETOES.birthDate : levelWeight(L.birthDate[date]);
  }
  const places = { agree: 0, disagree: 0 };
  for (const field of ['commune', 'addressCommune', 'address', 'sex'] as const) {
    const pair = present(a, b, field);
    if (!pair) continue;
    weights[field] = field === 'addressCommune' && livesWhereBorn(a, b) ? 0 : binaryWeight(L[field], pair[0] === pair[1]);
    if (field !== 'sex') places[pair[0] === pair[1] ? 'agree' : 'disagree']++;
  }
  let score = 0;
  for (const w of Object.values(weights)) score += w;
  const nearDate = date === 'swap' || date === 'typo';
  const uncertain = uncertainField(a, b, config, { score, weights, date, dates, first, last, places, cinDiffers: cin !== undefined && cin[0] !== cin[1] });
  const doubtful = (nearDate && !(dates && nearDateCorroborated(dates, first, last, places))) || first?.level === 'lookalike';
  if (doubtful && score > config.doubtfulCap) {
    weights.doubtful = config.doubtfulCap - score;
    score = config.doubtfulCap;
  }
  // Twins share a family name, a date, a commune and an address: estimated weights that outweigh the first-name veto.
  // Two different names the table knows (Adel, Mustapha) are two people: below review. A disagreement string
  // similarity found (a name outside the table) may be a clerk's slip: at most review, never a link.
  if (first?.level === 'disagree') {
    const cap = first.table ? config.distinctCap : config.doubtfulCap;
    if (score > cap) {
      weights.differentFirstName = cap - score;
      score = cap;
    }
  }
  // Birth years a decade or more apart one digit from each other (1975/1985) are a generation, not a slip: a son named
  // after his father, at his address. Below review, like twins: a steward cannot staff a question the data answers.
  if (date === 'typo' && dates && Math.abs(Number(dates[0].slice(0, 4)) - Number(dates[1].slice(0, 4))) >= 10 && score > config.distinctCap) {
    weights.generation = config.distinctCap - score;
    score = config.distinctCap;
  }
  // Estimated weights for a shared address and commune can outweigh the CIN veto: the invariant is kept by a cap.
  if (cin && cin[0] !== cin[1] && score > config.distinctCap) {
    weights.distinct = config.distinctCap - score;
    score = config.distinctCap;
  }
  const rounded = Math.round(score * 1000) / 1000;
  return uncertain === undefined ? { score: rounded, weights } : { score: rounded, weights, uncertain };
}

interface RawScore {
  /** The sum of the field weights, before any cap. */
  score: number;
  weights: Record<string, number>;
  date: BirthDateLevel | undefined;
  dates: [string, string] | undefined;
  first: NameComparison<FirstNameLevel> | undefined;
  last: NameComparison<LastNameLevel> | undefined;
  places: { agree: number; disagree: number };
  cinDiffers: boolean;
}

/**
 * The pair's one doubtful field (see UncertainField), if it has exactly one, nothing else speaks against it (no veto:
 * two CINs, two first or last names, two dates; no place disagreeing; for a date slip the same year, a year apart
 * being maybe another generation) and a place agrees (birth commune, address commune or address line). Without a
 * place, the names are all there is: namesakes born one slip apart grow as the square of the population (measured:
 * 14 such pairs that were not the same person at 30,000 persons, 182 at 100,000; on rare names only, 0 and 17), and
 * would fill the queue at a million (docs/decisions.md §26). A place divides them by the number of communes. It only
 * says why a steward should see a pair below link: one that reaches link on its own (a date slip that places
 * corroborate) links as before.
 */
function uncertainField(a: Fields, b: Fields, config: PersonScoreConfig, raw: RawScore): UncertainField | undefined {
  const { date, dates, first, last } = raw;
  if (raw.cinDiffers || first?.level === 'disagree' || last?.level === 'disagree' || date === 'disagree' || raw.places.disagree > 0 || raw.places.agree === 0) return undefined;
  const dateSlip = (date === 'swap' || date === 'typo') && dates !== undefined && dates[0].slice(0, 4) === dates[1].slice(0, 4);
  const lookalike = first?.level === 'lookalike';
  // A pair with a date slip in the year, or with both a slip and a look-alike, is two steps away: not near a link.
  if ((date === 'swap' || date === 'typo') && !dateSlip) return undefined;
  if (dateSlip === lookalike) return undefined;
  const L = config.levels;
  if (dateSlip) {
    const agreeing = raw.score - (raw.weights.birthDate ?? 0) + levelWeight(L.birthDate.exact);
    return { field: 'birthDate', scoreIfAgreeing: Math.round(agreeing * 1000) / 1000 };
  }
  const agreeing = raw.score - (raw.weights.firstName ?? 0) + termFrequencyWeight(L.firstName.exact, commonerGivenFrequency(a, b, config));
  return { field: 'firstName', scoreIfAgreeing: Math.round(agreeing * 1000) / 1000 };
}

/** The share of records bearing the commoner of two look-alike first names (undefined when the table knows neither). */
function commonerGivenFrequency(a: Fields, b: Fields, config: PersonScoreConfig): number | undefined {
  const pair = writtenPair(a, b, 'firstArabic', 'firstLatin');
  if (!pair) return undefined;
  const frequencies = pair
    .map((w) => singleClass('given', w.value, w.script))
    .map((cls) => (cls === undefined ? undefined : config.termFrequencies.given[cls]))
    .filter((f): f is number => f !== undefined);
  return frequencies.length === 0 ? undefined : Math.max(...frequencies);
}

/** The comparison levels of a pair, as the calibration counts them (undefined: a value missing on either side). */
export interface ComparisonLevels {
  cin?: 'agree' | 'disagree';
  firstName?: FirstNameLevel;
  lastName?: LastNameLevel;
  birthDate?: BirthDateLevel;
  commune?: 'agree' | 'disagree';
  addressCommune?: 'agree' | 'disagree';
  address?: 'agree' | 'disagree';
  sex?: 'agree' | 'disagree';
  firstClass?: string;
  lastClass?: string;
}

export function comparisonLevels(a: Fields, b: Fields, config: PersonScoreConfig = DEFAULT_PERSON_SCORE): ComparisonLevels {
  const out: ComparisonLevels = {};
  const cin = present(a, b, 'cin');
  if (cin) out.cin = cin[0] === cin[1] ? 'agree' : 'disagree';
  const first = compareFirst(a, b, config);
  if (first) {
    out.firstName = first.level;
    if (first.cls !== undefined) out.firstClass = first.cls;
  }
  const last = compareLast(a, b, config);
  if (last) {
    out.lastName = last.level;
    if (last.cls !== undefined) out.lastClass = last.cls;
  }
  const dates = present(a, b, 'birthDate');
  if (dates) out.birthDate = compareBirthDates(dates[0], dates[1]);
  for (const field of ['commune', 'addressCommune', 'address', 'sex'] as const) {
    const pair = present(a, b, field);
    if (pair) out[field] = pair[0] === pair[1] ? 'agree' : 'disagree';
  }
  return out;
}
