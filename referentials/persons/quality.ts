// Matching quality on generated data: precision and recall by class of record or pair, by script mode, for the review
// band, and the calibration plot (the model's expected match rate against the observed one per score bin).

import { generateInMemory } from '../generator/generate.ts';
import type { ScriptMode, TruthRow } from '../generator/common.ts';
import { matchProbability } from './calibrate.ts';
import { matchPersons, pairwiseQuality, type MatchRun } from './evaluate.ts';
import { personsModule } from './module.ts';
import { PERSON_MODEL, PERSON_THRESHOLDS } from './score.ts';

export interface ClassQuality {
  cls: string;
  /** True pairs with a record of this class: how many linked, how many sent to review. */
  truePairs: number;
  linked: number;
  inReview: number;
  recall: number;
  /** Distinct pairs of this class (twins, sons, namesakes: the person and the one before): how many merged. */
  distinctPairs?: number;
  merged?: number;
}

export interface ModeQuality {
  mode: ScriptMode;
  records: number;
  precision: number;
  recall: number;
  /** Records waiting in review, as a share of persons; true pairs whose later record went to review with its partner proposed. */
  reviews: number;
  reviewShare: number;
  /** Share of the review proposals (record, candidate) that are the same person; true pairs left in review. */
  reviewPrecision: number;
  reviewTruePairs: number;
  /** Records in review with a candidate one uncertain field from a link (src/golden/tie.ts `near-link`), and the true pairs among those candidates. */
  nearLink: number;
  nearLinkTrue: number;
  /** Of `nearLink`, the records in review only for it (no candidate at or above review): what the rule adds to the queue. */
  nearLinkOnly: number;
  ties: number;
  /** Clusters merged by a bridging record: one joining its cluster by CIN or by score that also scores at link against another (as the engine does). */
  bridged: number;
  /**
   * True pairs whose two records share nothing a link may rest on besides the names (no CIN, birth date, commune or
   * address on both sides): invariant 6 forbids linking them, so recall cannot exceed `recallCeiling`.
   */
  namesOnlyPairs: number;
  recallCeiling: number;
  /** The review band read at each threshold from the model's review threshold to link − 1 (ties and near-link pairs always in review). */
  reviewBand: Array<{ threshold: number; reviews: number; share: number; truePairs: number }>;
  classes: ClassQuality[];
  calibration: Array<{ bin: number; pairs: number; expected: number; observed: number }>;
}

const DISTINCT_CLASSES = ['twin', 'son', 'namesake'] as const;

/** Generates `persons` persons in one script mode, matches them in memory and measures. */
export function measureMode(mode: ScriptMode, persons: number, seed: number, options: { misses?: (missed: MissedPair[]) => void } = {}): ModeQuality {
  const { records, truth } = generateInMemory({ seed, dupRate: 0.1, persons, companies: 0, vehicles: 0, scriptMode: mode });
  const run = matchPersons(records.persons, PERSON_THRESHOLDS);
  options.misses?.(missedPairs(run, truth, run.profiles));
  return measure(mode, run, truth, persons);
}

export function measure(mode: ScriptMode, run: MatchRun, truth: readonly TruthRow[], persons: number): ModeQuality {
  const entities = truth.map((t) => t.entityId);
  const q = pairwiseQuality(run.clusters, entities);
  const byEntity = new Map<string, number[]>();
  entities.forEach((e, i) => byEntity.set(e, [...(byEntity.get(e) ?? []), i]));
  const reviewed = (a: number, b: number): boolean => (run.reviews.get(b)?.some((c) => run.clusters[c] === run.clusters[a]) ?? false) || (run.reviews.get(a)?.some((c) => run.clusters[c] === run.clusters[b]) ?? false);
  const classes = new Map<string, ClassQuality>();
  const cq = (cls: string): ClassQuality => {
    const known = classes.get(cls);
    if (known) return known;
    const fresh: ClassQuality = { cls, truePairs: 0, linked: 0, inReview: 0, recall: 0 };
    classes.set(cls, fresh);
    return fresh;
  };
  let reviewTrue = 0;
  let namesOnly = 0;
  for (const members of byEntity.values()) {
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const [a, b] = [members[x] as number, members[y] as number];
        const linked = run.clusters[a] === run.clusters[b];
        const review = !linked && reviewed(a, b);
        if (sharesNamesOnly(run.profiles[a], run.profiles[b])) namesOnly++;
        if (review) reviewTrue++;
        const vs = new Set([...(truth[a]?.variations ?? []), ...(truth[b]?.variations ?? [])].filter((v) => !(DISTINCT_CLASSES as readonly string[]).includes(v)));
        for (const v of ['all', ...vs]) {
          const c = cq(v);
          c.truePairs++;
          if (linked) c.linked++;
          if (review) c.inReview++;
        }
      }
    }
  }
  // Hard distinct pairs: each record of a twin, son or namesake against each record of the person before it.
  const entityIndex = (e: string): number => Number(e.slice(e.lastIndexOf('-') + 1)) - 1;
  const recordsOf = new Map<number, number[]>();
  entities.forEach((e, i) => recordsOf.set(entityIndex(e), [...(recordsOf.get(entityIndex(e)) ?? []), i]));
  for (const cls of DISTINCT_CLASSES) {
    const c = cq(cls);
    c.distinctPairs = 0;
    c.merged = 0;
  }
  for (const [index, members] of recordsOf) {
    const relation = truth[members[0] ?? 0]?.variations.find((v) => (DISTINCT_CLASSES as readonly string[]).includes(v));
    if (!relation) continue;
    const c = cq(relation);
    for (const a of members) {
      for (const b of recordsOf.get(index - 1) ?? []) {
        c.distinctPairs = (c.distinctPairs ?? 0) + 1;
        if (run.clusters[a] === run.clusters[b]) c.merged = (c.merged ?? 0) + 1;
      }
    }
  }
  for (const c of classes.values()) c.recall = c.truePairs === 0 ? 1 : c.linked / c.truePairs;
  // Calibration: candidate pairs per one-point score bin, the model's match probability against the truth.
  const bins = new Map<number, { n: number; expected: number; observed: number }>();
  for (const p of run.pairs) {
    const b = Math.max(-10, Math.min(40, Math.floor(p.score)));
    const bin = bins.get(b) ?? { n: 0, expected: 0, observed: 0 };
    bin.n++;
    bin.expected += matchProbability(p.score, PERSON_MODEL.lambda);
    if (entities[p.a] === entities[p.b]) bin.observed++;
    bins.set(b, bin);
  }
  let reviewProposals = 0;
  let reviewRight = 0;
  let nearLink = 0;
  let nearLinkTrue = 0;
  let nearLinkOnly = 0;
  for (const [i, list] of run.reviews) {
    reviewProposals += list.length;
    reviewRight += list.filter((c) => entities[c] === entities[i]).length;
    const reasons = run.reviewReasons.get(i) ?? [];
    if (reasons.includes('near-link')) nearLink++;
    if (reasons.includes('near-link') && (run.reviewScores.get(i) ?? []).every((x) => x < PERSON_THRESHOLDS.review)) nearLinkOnly++;
    nearLinkTrue += list.filter((c, k) => reasons[k] === 'near-link' && entities[c] === entities[i]).length;
  }
  return {
    mode,
    records: truth.length,
    precision: q.precision,
    recall: q.recall,
    reviews: run.reviews.size,
    reviewShare: run.reviews.size / persons,
    reviewPrecision: reviewProposals === 0 ? 1 : reviewRight / reviewProposals,
    reviewTruePairs: reviewTrue,
    nearLink,
    nearLinkTrue,
    nearLinkOnly,
    ties: run.ties,
    bridged: run.bridged,
    namesOnlyPairs: namesOnly,
    reviewBand: reviewBand(run, entities, persons),
    recallCeiling: q.truePairs === 0 ? 1 : 1 - namesOnly / q.truePairs,
    classes: [...classes.values()].sort((x, y) => (x.cls === 'all' ? -1 : y.cls === 'all' ? 1 : x.cls < y.cls ? -1 : 1)),
    calibration: [...bins.entries()].sort((x, y) => x[0] - y[0]).map(([bin, v]) => ({ bin, pairs: v.n, expected: v.expected / v.n, observed: v.observed / v.n })),
  };
}

/** Open reviews and the true pairs they hold had the review threshold been higher (the same links: a review links nothing). */
function reviewBand(run: MatchRun, entities: readonly string[], persons: number): ModeQuality['reviewBand'] {
  const out: ModeQuality['reviewBand'] = [];
  for (let t = PERSON_THRESHOLDS.review; t < PERSON_THRESHOLDS.link; t++) {
    let reviews = 0;
    let truePairs = 0;
    for (const [i, list] of run.reviews) {
      const scores = run.reviewScores.get(i) ?? [];
      const reasons = run.reviewReasons.get(i) ?? [];
      const kept = list.filter((_, k) => run.tied.has(i) || reasons[k] === 'near-link' || (scores[k] ?? -Infinity) >= t);
      if (kept.length === 0) continue;
      reviews++;
      // True pairs: each proposed earlier record of the same person whose cluster the record is not in.
      truePairs += kept.filter((c) => entities[c] === entities[i] && run.clusters[c] !== run.clusters[i]).length;
    }
    out.push({ threshold: t, reviews, share: reviews / persons, truePairs });
  }
  return out;
}

/** The fields besides names a link may rest on: when no one of them is on both records, only the names are compared. */
const EVIDENCE_FIELDS = ['cin', 'birthDate', 'commune', 'addressCommune', 'address'] as const;

function sharesNamesOnly(a: Readonly<Record<string, string | null>> | undefined, b: Readonly<Record<string, string | null>> | undefined): boolean {
  return !EVIDENCE_FIELDS.some((f) => Boolean(a?.[f]) && Boolean(b?.[f]));
}

export const SCRIPT_MODES: readonly ScriptMode[] = ['sources', 'both', 'cross', 'latin'];

/** The report lines: one table of modes, one of classes by mode, the calibration plot (text). */
export function formatQuality(modes: readonly ModeQuality[]): string {
  const f = (x: number | undefined, d = 4): string => (x === undefined ? '' : x.toFixed(d));
  const lines = [`persons matching by script mode (in memory; thresholds link ${PERSON_THRESHOLDS.link}, review ${PERSON_THRESHOLDS.review}; model of ${PERSON_MODEL.estimatedAt.slice(0, 10)})`];
  lines.push(
    '| mode | records | precision | recall | recall ceiling (names-only pairs) | open reviews | share of persons | review precision | near-link reviews (true pairs; below review) | ties to review | clusters merged by a bridging record |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const m of modes) {
    lines.push(`| ${m.mode} | ${m.records} | ${f(m.precision)} | ${f(m.recall)} | ${f(m.recallCeiling)} (${m.namesOnlyPairs}) | ${m.reviews} | ${f(m.reviewShare * 100, 2)} % | ${f(m.reviewPrecision, 3)} | ${m.nearLink} (${m.nearLinkTrue} true; ${m.nearLinkOnly} below) | ${m.ties} | ${m.bridged} |`);
  }
  lines.push('', 'the review band at higher review thresholds (the same links; ties and near-link pairs in review at any): open reviews, share of persons, true pairs proposed');
  lines.push(`| review threshold | ${modes.map((m) => m.mode).join(' | ')} |`, `|---|${modes.map(() => '---').join('|')}|`);
  for (const [k, band] of (modes[0]?.reviewBand ?? []).entries()) {
    lines.push(`| ${band.threshold} | ${modes.map((m) => { const b = m.reviewBand[k]; return b ? `${b.reviews} (${f(b.share * 100, 2)} %, ${b.truePairs} true)` : ''; }).join(' | ')} |`);
  }
  lines.push('', 'by class (recall of true pairs with a record of the class; hard distinct pairs: merged of pairs)');
  const classes = [...new Set(modes.flatMap((m) => m.classes.map((c) => c.cls)))];
  lines.push(`| class | ${modes.map((m) => m.mode).join(' | ')} |`, `|---|${modes.map(() => '---').join('|')}|`);
  for (const cls of classes) {
    const cells = modes.map((m) => {
      const c = m.classes.find((x) => x.cls === cls);
      if (!c) return '';
      if (c.distinctPairs !== undefined) return `${c.merged} merged of ${c.distinctPairs}`;
      return `${f(c.recall, 3)} (${c.linked}/${c.truePairs}, review ${c.inReview})`;
    });
    lines.push(`| ${cls} | ${cells.join(' | ')} |`);
  }
  const first = modes[0];
  if (first) {
    lines.push('', `calibration (${first.mode}): score bin | candidate pairs | expected match rate | observed`);
    lines.push('| bin | pairs | expected | observed |', '|---|---|---|---|');
    for (const b of first.calibration) if (b.pairs >= 5) lines.push(`| ${b.bin} | ${b.pairs} | ${f(b.expected, 3)} | ${f(b.observed, 3)} |`);
  }
  return lines.join('\n');
}

/** One true pair the matcher did not link: its classes, its score and weights (or no score: blocking never proposed it). */
export interface MissedPair {
  classes: string[];
  score: number | undefined;
  review: boolean;
  weights: Record<string, number> | undefined;
  a: Record<string, unknown>;
  b: Record<string, unknown>;
}

/** The true pairs a run left apart, for `--misses`: what each record held and how the score saw it. */
export function missedPairs(run: MatchRun, truth: readonly TruthRow[], profiles: ReadonlyArray<Readonly<Record<string, string | null>>>): MissedPair[] {
  const byEntity = new Map<string, number[]>();
  truth.forEach((t, i) => byEntity.set(t.entityId, [...(byEntity.get(t.entityId) ?? []), i]));
  const scored = new Map<string, number>();
  for (const p of run.pairs) scored.set(`${p.a}:${p.b}`, p.score);
  const out: MissedPair[] = [];
  const fieldsOf = (i: number): Record<string, string | null> => ({ ...profiles[i] });
  for (const members of byEntity.values()) {
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const [a, b] = [members[x] as number, members[y] as number];
        if (run.clusters[a] === run.clusters[b]) continue;
        const review = (run.reviews.get(b)?.some((c) => run.clusters[c] === run.clusters[a]) ?? false) || (run.reviews.get(a)?.some((c) => run.clusters[c] === run.clusters[b]) ?? false);
        const classes = [...new Set([...(truth[a]?.variations ?? []), ...(truth[b]?.variations ?? [])])];
        const s = scored.get(`${a}:${b}`);
        out.push({ classes, score: s, review, weights: s === undefined ? undefined : personsModule.score?.(fieldsOf(a), fieldsOf(b)).weights, a: fieldsOf(a), b: fieldsOf(b) });
      }
    }
  }
  return out;
}
