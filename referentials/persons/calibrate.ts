// Estimates the persons matching model from the data (Fellegi–Sunter, as Splink does): u per comparison level from
// random pairs (nearly all different persons), m and the match share by expectation–maximisation over the candidate
// pairs blocking proposes (unlinked: no ground truth), term frequencies of name classes, and the thresholds from the
// estimated error rates. The result is stored with its date (model.ts, weights.json).

import type { MatchProfile } from '../../src/golden/module.ts';
import type { Contribution } from './evaluate.ts';
import type { EstimatedLevels, LevelProbabilities, PersonModel } from './model.ts';
import { PRIOR_MODEL } from './model.ts';
import { personsModule, type PersonAttributes } from './module.ts';
import { singleClass } from './name-table.ts';
import { comparisonLevels, configFromModel, scorePersons, type ComparisonLevels } from './score.ts';
import { Random } from '../generator/random.ts';

type Comparison = 'cin' | 'firstName' | 'lastName' | 'birthDate' | 'commune' | 'addressCommune' | 'address' | 'sex';

/** Every level of each comparison, the estimated ones and the vetoed ones (the EM needs all to explain a pair). */
const LEVELS: Record<Comparison, readonly string[]> = {
  cin: ['agree', 'disagree'],
  firstName: ['exact', 'variant', 'lookalike', 'disagree'],
  lastName: ['exact', 'similar', 'disagree'],
  birthDate: ['exact', 'swap', 'typo', 'disagree'],
  commune: ['agree', 'disagree'],
  addressCommune: ['agree', 'disagree'],
  address: ['agree', 'disagree'],
  sex: ['agree', 'disagree'],
};
const COMPARISONS = Object.keys(LEVELS) as Comparison[];

export interface CalibrationOptions {
  /** What the data was, for the record (a file, a generator run). */
  data: string;
  randomPairs?: number;
  maxIterations?: number;
  seed?: number;
  /** Open reviews the thresholds may cause, as a share of records (the stewards' capacity). */
  maxReviewShare?: number;
  now?: Date;
}

interface Prepared {
  fields: MatchProfile['fields'][];
  attributes: (PersonAttributes | undefined)[];
  candidates: Array<[number, number]>;
}

/** Normalised records and the candidate pairs their blocking keys propose (each record against earlier ones). */
function prepare(contributions: readonly Contribution[]): Prepared {
  const fields: MatchProfile['fields'][] = [];
  const attributes: (PersonAttributes | undefined)[] = [];
  const index = new Map<string, number[]>();
  const candidates: Array<[number, number]> = [];
  contributions.forEach((c, i) => {
    const n = personsModule.normalise(c.attributes);
    if (!n.ok) {
      fields.push({});
      attributes.push(undefined);
      return;
    }
    fields.push(personsModule.matchProfile?.(n.attributes)?.fields ?? {});
    attributes.push(n.attributes);
    const keys = personsModule.blockingKeys?.(n.attributes) ?? { index: [], probe: [] };
    const seen = new Set<number>();
    for (const k of keys.probe) for (const j of index.get(k) ?? []) if (!seen.has(j)) { seen.add(j); candidates.push([j, i]); }
    for (const k of keys.index) {
      const list = index.get(k);
      if (list) list.push(i);
      else index.set(k, [i]);
    }
  });
  return { fields, attributes, candidates };
}

function patternOf(levels: ComparisonLevels): string {
  return COMPARISONS.map((c) => levels[c] ?? '-').join('|');
}

/** u per level: the level's share among random pairs where both values are present (at least half a pair). */
function estimateU(prepared: Prepared, count: number, seed: number): Record<Comparison, Record<string, number>> {
  const r = Random.for(seed, 'calibration');
  const tally: Record<string, Record<string, number>> = Object.fromEntries(COMPARISONS.map((c) => [c, {}]));
  const present: Record<string, number> = {};
  const n = prepared.fields.length;
  for (let k = 0; k < count && n > 1; k++) {
    const i = r.int(0, n - 1);
    const j = r.int(0, n - 1);
    if (i === j) continue;
    const levels = comparisonLevels(prepared.fields[i] ?? {}, prepared.fields[j] ?? {});
    for (const c of COMPARISONS) {
      const l = levels[c];
      if (l === undefined) continue;
      present[c] = (present[c] ?? 0) + 1;
      const t = tally[c] as Record<string, number>;
      t[l] = (t[l] ?? 0) + 1;
    }
  }
  const out = {} as Record<Comparison, Record<string, number>>;
  for (const c of COMPARISONS) {
    const total = present[c] ?? 0;
    out[c] = Object.fromEntries(LEVELS[c].map((l) => [l, Math.max(0.5, (tally[c] as Record<string, number>)[l] ?? 0) / Math.max(1, total)]));
  }
  return out;
}

/**
 * The m of each level and the match share λ, by EM over the candidate pairs' patterns. The non-matches blocking
 * proposes are not random pairs (they share a name or a date by construction), so their level distribution is
 * estimated too, starting from the random pairs' u; the weights take m from here and u from the random pairs (as
 * Splink does), the thresholds the posterior computed here.
 */
function estimateM(patterns: Map<string, number>, randomU: Record<Comparison, Record<string, number>>, maxIterations: number): { m: Record<Comparison, Record<string, number>>; lambda: number; iterations: number; uBlocked: Record<Comparison, Record<string, number>> } {
  const prior = PRIOR_MODEL.levels as unknown as Record<Comparison, Record<string, LevelProbabilities | undefined>>;
  const m = {} as Record<Comparison, Record<string, number>>;
  for (const c of COMPARISONS) {
    const known = LEVELS[c].map((l) => prior[c][l]?.m ?? 0.01);
    const sum = known.reduce((a, b) => a + b, 0);
    m[c] = Object.fromEntries(LEVELS[c].map((l, i) => [l, (known[i] ?? 0.01) / sum]));
  }
  const u = {} as Record<Comparison, Record<string, number>>;
  for (const c of COMPARISONS) u[c] = { ...randomU[c] };
  const parsed = [...patterns.entries()].map(([p, n]) => ({ levels: p.split('|'), n }));
  let lambda = PRIOR_MODEL.lambda;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const num: Record<string, Record<string, number>> = Object.fromEntries(COMPARISONS.map((c) => [c, {}]));
    const den: Record<string, number> = {};
    const numU: Record<string, Record<string, number>> = Object.fromEntries(COMPARISONS.map((c) => [c, {}]));
    const denU: Record<string, number> = {};
    let matches = 0;
    let total = 0;
    for (const { levels, n } of parsed) {
      let lm = Math.log(lambda);
      let lu = Math.log(1 - lambda);
      COMPARISONS.forEach((c, k) => {
        const l = levels[k];
        if (l === undefined || l === '-') return;
        lm += Math.log(Math.max(1e-12, m[c][l] ?? 1e-12));
        lu += Math.log(Math.max(1e-12, u[c][l] ?? 1e-12));
      });
      const p = 1 / (1 + Math.exp(lu - lm));
      matches += n * p;
      total += n;
      COMPARISONS.forEach((c, k) => {
        const l = levels[k];
        if (l === undefined || l === '-') return;
        const t = num[c] as Record<string, number>;
        t[l] = (t[l] ?? 0) + n * p;
        den[c] = (den[c] ?? 0) + n * p;
        const v = numU[c] as Record<string, number>;
        v[l] = (v[l] ?? 0) + n * (1 - p);
        denU[c] = (denU[c] ?? 0) + n * (1 - p);
      });
    }
    let change = Math.abs(matches / total - lambda);
    lambda = Math.min(0.999, Math.max(1e-6, matches / total));
    for (const c of COMPARISONS) {
      for (const l of LEVELS[c]) {
        const next = Math.max(1e-6, ((num[c] as Record<string, number>)[l] ?? 0) / Math.max(1e-12, den[c] ?? 0));
        change = Math.max(change, Math.abs(next - (m[c][l] ?? 0)));
        m[c][l] = next;
        u[c][l] = Math.max(1e-6, ((numU[c] as Record<string, number>)[l] ?? 0) / Math.max(1e-12, denU[c] ?? 0));
      }
    }
    if (change < 1e-5) break;
  }
  return { m, lambda, iterations, uBlocked: u };
}

function patternPosterior(key: string, m: Record<Comparison, Record<string, number>>, u: Record<Comparison, Record<string, number>>, lambda: number): number {
  const levels = key.split('|');
  let lm = Math.log(lambda);
  let lu = Math.log(1 - lambda);
  COMPARISONS.forEach((c, k) => {
    const l = levels[k];
    if (l === undefined || l === '-') return;
    lm += Math.log(Math.max(1e-12, m[c][l] ?? 1e-12));
    lu += Math.log(Math.max(1e-12, u[c][l] ?? 1e-12));
  });
  return 1 / (1 + Math.exp(lu - lm));
}

/**
 * The generator's sources never disagree on a commune or an address for one person, so EM finds m ≈ 0 there and a
 * disagreement would weigh −20; real systems hold stale codes and people move (the independent set: 7 of 12 commune
 * codes stale). So m is floored: 0.05 for a disagreement on places and sex, 0.002 for any other level.
 */
const M_FLOOR: Partial<Record<Comparison, Record<string, number>>> = {
  commune: { disagree: 0.05 }, addressCommune: { disagree: 0.05 }, address: { disagree: 0.05 }, sex: { disagree: 0.05 },
};

function levelsFrom(m: Record<Comparison, Record<string, number>>, u: Record<Comparison, Record<string, number>>): EstimatedLevels {
  const p = (c: Comparison, l: string): LevelProbabilities => {
    const floor = M_FLOOR[c]?.[l] ?? 0.002;
    const mm = Math.max(floor, m[c][l] ?? 0);
    // A two-level comparison's m sums to 1.
    const other = LEVELS[c].length === 2 ? LEVELS[c].find((x) => x !== l) : undefined;
    const otherFloor = other === undefined ? 0 : (M_FLOOR[c]?.[other] ?? 0.002);
    return { m: round(other === undefined ? mm : Math.min(1 - otherFloor, mm)), u: round(Math.max(c === 'cin' ? 1e-6 : 1e-7, u[c][l] ?? 1e-6)) };
  };
  return {
    cin: { agree: p('cin', 'agree') },
    firstName: { exact: p('firstName', 'exact'), variant: p('firstName', 'variant'), lookalike: p('firstName', 'lookalike') },
    lastName: { exact: p('lastName', 'exact'), similar: p('lastName', 'similar') },
    birthDate: { exact: p('birthDate', 'exact'), swap: p('birthDate', 'swap'), typo: p('birthDate', 'typo') },
    commune: { agree: p('commune', 'agree'), disagree: p('commune', 'disagree') },
    addressCommune: { agree: p('addressCommune', 'agree'), disagree: p('addressCommune', 'disagree') },
    address: { agree: p('address', 'agree'), disagree: p('address', 'disagree') },
    sex: { agree: p('sex', 'agree'), disagree: p('sex', 'disagree') },
  };
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

/** Share of records bearing each name class (given names and family names apart), Arabic spelling first. */
function termFrequencies(attributes: readonly (PersonAttributes | undefined)[]): PersonModel['termFrequencies'] {
  const count = (kind: 'given' | 'family', arabic: 'firstNameArabic' | 'lastNameArabic', latin: 'firstNameLatin' | 'lastNameLatin'): Record<string, number> => {
    const tally = new Map<string, number>();
    let total = 0;
    for (const a of attributes) {
      if (!a) continue;
      const cls = (a[arabic] ? singleClass(kind, a[arabic], 'arabic') : undefined) ?? (a[latin] ? singleClass(kind, a[latin], 'latin') : undefined);
      if (!a[arabic] && !a[latin]) continue;
      total++;
      if (cls !== undefined) tally.set(cls, (tally.get(cls) ?? 0) + 1);
    }
    return Object.fromEntries([...tally.entries()].sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, round(v / Math.max(1, total))]));
  };
  return { given: count('given', 'firstNameArabic', 'firstNameLatin'), family: count('family', 'lastNameArabic', 'lastNameLatin') };
}

/** The match probability the model gives a score: Fellegi–Sunter's posterior with the estimated match share λ. */
export function matchProbability(score: number, lambda: number): number {
  return 1 / (1 + 2 ** -(score + Math.log2(lambda / (1 - lambda))));
}

/**
 * The estimated share of matches among the pairs linked. 0.97, not 0.99: the EM's posterior is pessimistic for
 * pairs agreeing on names and birth date without a CIN (it sees namesakes the blocking proposes, not the population),
 * at 0.99 the link threshold rose to 26 (at 0.98 to 24, recall 0.93), leaving 10 % of true pairs (exact names and date, no CIN, 22–25:
 * 93–97 % real matches on the generator's ground truth) unlinked and out of review.
 */
const LINK_PRECISION_TARGET = 0.97;
/** The lowest link threshold the calibration may choose (see chooseThresholds). */
const MIN_LINK = 22;

/**
 * Thresholds from the estimated error rates, over the candidate pairs scored by the new model (posterior of each
 * pair from the EM): link at the lowest whole score at which the pairs it links (all those scoring as much or more) are estimated
 * 99 % matches (never below the prior's 24: names and places alone do not link); review at the lowest score whose bin is at least 5 % matches, raised if need be
 * until the records with a candidate in the review band are at most `maxReviewShare` of all records.
 */
function chooseThresholds(scored: Array<{ score: number; p: number; record: number }>, records: number, maxReviewShare: number): PersonModel['thresholds'] & { errorRates: PersonModel['errorRates'] } {
  const bins = new Map<number, { n: number; p: number }>();
  for (const s of scored) {
    const b = Math.floor(s.score);
    const bin = bins.get(b) ?? { n: 0, p: 0 };
    bin.n++;
    bin.p += s.p;
    bins.set(b, bin);
  }
  const keys = [...bins.keys()].sort((a, b) => b - a);
  let link = keys[0] ?? PRIOR_MODEL.thresholds.link;
  // The lowest score at which the pairs linked (all those at or above it) are still estimated 99.5 % matches.
  let n = 0;
  let p = 0;
  for (const b of keys) {
    const bin = bins.get(b) as { n: number; p: number };
    n += bin.n;
    p += bin.p;
    if (p / n < LINK_PRECISION_TARGET) break;
    link = b;
  }
  // Never below the floor: names alone with a birth date on the commonest names (Mohamed, Fatima Zahra, Alaoui) score
  // about 20, and a lower link would merge namesakes born the same day.
  link = Math.max(link, MIN_LINK);
  let review = link;
  for (const b of keys) if (b < link && (bins.get(b)?.p ?? 0) / (bins.get(b)?.n ?? 1) >= 0.05) review = Math.min(review, b);
  const reviewShareAt = (t: number): number => new Set(scored.filter((s) => s.score >= t && s.score < link).map((s) => s.record)).size / Math.max(1, records);
  while (review < link && reviewShareAt(review) > maxReviewShare) review++;
  const linked = scored.filter((s) => s.score >= link);
  const expectedMatches = scored.reduce((n, s) => n + s.p, 0);
  return {
    link,
    review,
    errorRates: {
      linkPrecision: round(linked.reduce((n, s) => n + s.p, 0) / Math.max(1, linked.length)),
      linkRecall: round(linked.reduce((n, s) => n + s.p, 0) / Math.max(1e-9, expectedMatches)),
      reviewShare: round(reviewShareAt(review)),
    },
  };
}

export function calibrate(contributions: readonly Contribution[], options: CalibrationOptions): PersonModel {
  const prepared = prepare(contributions);
  const patterns = new Map<string, number>();
  const pairPatterns: string[] = [];
  for (const [a, b] of prepared.candidates) {
    const key = patternOf(comparisonLevels(prepared.fields[a] ?? {}, prepared.fields[b] ?? {}));
    pairPatterns.push(key);
    patterns.set(key, (patterns.get(key) ?? 0) + 1);
  }
  const randomPairs = options.randomPairs ?? 200_000;
  const u = estimateU(prepared, randomPairs, options.seed ?? 1);
  const { m, lambda, iterations, uBlocked } = estimateM(patterns, u, options.maxIterations ?? 100);
  const levels = levelsFrom(m, u);
  // Each pattern's match probability under the floored m (and the blocked pairs' own u): what the thresholds read.
  const floored = Object.fromEntries(COMPARISONS.map((c) => [c, Object.fromEntries(LEVELS[c].map((l) => [l, Math.max(M_FLOOR[c]?.[l] ?? 0.002, m[c][l] ?? 0)]))])) as Record<Comparison, Record<string, number>>;
  const posterior = new Map([...patterns.keys()].map((key) => [key, patternPosterior(key, floored, uBlocked, lambda)]));
  const draft: PersonModel = {
    ...PRIOR_MODEL,
    estimatedAt: (options.now ?? new Date()).toISOString(),
    data: options.data,
    pairs: prepared.candidates.length,
    randomPairs,
    iterations,
    lambda: round(lambda),
    levels,
    termFrequencies: termFrequencies(prepared.attributes),
    thresholds: { link: Number.POSITIVE_INFINITY, review: Number.POSITIVE_INFINITY },
  };
  const config = configFromModel(draft);
  const scored = prepared.candidates.map(([a, b], k) => ({ score: scorePersons(prepared.fields[a] ?? {}, prepared.fields[b] ?? {}, config).score, p: posterior.get(pairPatterns[k] ?? '') ?? 0, record: b }));
  const { errorRates, ...thresholds } = chooseThresholds(scored, contributions.length, options.maxReviewShare ?? 0.01);
  return { ...draft, thresholds, errorRates };
}

/** Debug aid for the docs: the bins the thresholds were chosen from (score → pairs, mean posterior). */
export function calibrationBins(contributions: readonly Contribution[], model: PersonModel): Array<{ bin: number; pairs: number; expected: number }> {
  const prepared = prepare(contributions);
  const config = configFromModel(model);
  const bins = new Map<number, { n: number; p: number }>();
  for (const [a, b] of prepared.candidates) {
    const s = scorePersons(prepared.fields[a] ?? {}, prepared.fields[b] ?? {}, config).score;
    const bin = bins.get(Math.floor(s)) ?? { n: 0, p: 0 };
    bin.n++;
    bin.p += matchProbability(s, model.lambda);
    bins.set(Math.floor(s), bin);
  }
  return [...bins.entries()].sort((x, y) => x[0] - y[0]).map(([bin, v]) => ({ bin, pairs: v.n, expected: v.p / v.n }));
}
