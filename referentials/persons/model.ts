// The persons matching model: m and u per comparison level, term frequencies of names and the thresholds, as the
// calibration (calibrate.ts, `npm run calibrate:persons`) estimated them and stored them with their date in
// weights.json. Vetoes are not estimated: they are policy (invariant 6), set in score.ts.

import { readFileSync } from 'node:fs';

/** m: P(level | same person); u: P(level | different persons). The weight of a level is log2(m/u). */
export interface LevelProbabilities {
  m: number;
  u: number;
}

/** The estimated levels of each comparison (a veto level is absent: its weight is fixed in score.ts). */
export interface EstimatedLevels {
  cin: { agree: LevelProbabilities };
  firstName: { exact: LevelProbabilities; variant: LevelProbabilities; lookalike: LevelProbabilities };
  lastName: { exact: LevelProbabilities; similar: LevelProbabilities };
  birthDate: { exact: LevelProbabilities; swap: LevelProbabilities; typo: LevelProbabilities };
  commune: { agree: LevelProbabilities; disagree: LevelProbabilities };
  addressCommune: { agree: LevelProbabilities; disagree: LevelProbabilities };
  address: { agree: LevelProbabilities; disagree: LevelProbabilities };
  sex: { agree: LevelProbabilities; disagree: LevelProbabilities };
}

export interface PersonModel {
  /** When the model was estimated (ISO), and from what data. */
  estimatedAt: string;
  data: string;
  /** Candidate pairs the EM ran over, random pairs u was counted on, its iterations, and the match share it found. */
  pairs: number;
  randomPairs: number;
  iterations: number;
  lambda: number;
  levels: EstimatedLevels;
  /** Share of records bearing each name class (name-table.ts ids), given names and family names apart. */
  termFrequencies: { given: Record<string, number>; family: Record<string, number> };
  thresholds: { link: number; review: number };
  /** The estimated error rates the thresholds were chosen from (see calibrate.ts, chooseThresholds). */
  errorRates: { linkPrecision: number; linkRecall: number; reviewShare: number };
}

/**
 * The hand-set model the calibration starts from (and the one used when weights.json is absent): u values are rough
 * population frequencies, m values the agreement rates between sources for one person. The link threshold is just
 * above the most a pair can score on names and places without a birth date, a CIN or the same address line.
 */
export const PRIOR_MODEL: PersonModel = {
  estimatedAt: '1970-01-01T00:00:00.000Z',
  data: 'hand-set prior (no calibration)',
  pairs: 0,
  randomPairs: 0,
  iterations: 0,
  lambda: 0.05,
  levels: {
    cin: { agree: { m: 0.98, u: 1e-6 } },
    firstName: { exact: { m: 0.85, u: 0.02 }, variant: { m: 0.1, u: 0.01 }, lookalike: { m: 0.01, u: 0.01 } },
    lastName: { exact: { m: 0.85, u: 0.01 }, similar: { m: 0.12, u: 0.01 } },
    birthDate: { exact: { m: 0.95, u: 1 / 22_000 }, swap: { m: 0.01, u: 1 / 50_000 }, typo: { m: 0.02, u: 1 / 5_000 } },
    commune: { agree: { m: 0.9, u: 0.02 }, disagree: { m: 0.1, u: 0.98 } },
    addressCommune: { agree: { m: 0.6, u: 0.02 }, disagree: { m: 0.4, u: 0.98 } },
    address: { agree: { m: 0.5, u: 1e-4 }, disagree: { m: 0.5, u: 1 } },
    sex: { agree: { m: 0.98, u: 0.5 }, disagree: { m: 0.02, u: 0.5 } },
  },
  termFrequencies: { given: {}, family: {} },
  thresholds: { link: 24, review: 10 },
  errorRates: { linkPrecision: Number.NaN, linkRecall: Number.NaN, reviewShare: Number.NaN },
};

export const MODEL_FILE = new URL('./weights.json', import.meta.url);

/** The stored model (weights.json, written by the calibration), else the prior. */
export function loadPersonModel(): PersonModel {
  let text: string;
  try {
    text = readFileSync(MODEL_FILE, 'utf8');
  } catch {
    return PRIOR_MODEL;
  }
  return JSON.parse(text) as PersonModel;
}
