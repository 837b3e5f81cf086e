// npm run calibrate:persons -- [--file persons.ndjson | --persons N --seed S] [--out FILE] [--review N]: estimates the
// persons matching model (referentials/persons/calibrate.ts) and stores it, with its date, where the persons module
// reads it. The review threshold the calibration picks holds its review share at the sample's size only: the queue
// grows with the population (more namesakes born the same day), so the stored one comes from the engine's band at
// full scale (`npm run bench:referentials`, "engine review band"). The model written keeps the higher of the two
// unless --review says which to store.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateInMemory } from '../referentials/generator/generate.ts';
import { calibrate } from '../referentials/persons/calibrate.ts';
import type { Contribution } from '../referentials/persons/evaluate.ts';
import { MODEL_FILE } from '../referentials/persons/model.ts';

const { values } = parseArgs({ options: { file: { type: 'string' }, persons: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, 'random-pairs': { type: 'string' }, review: { type: 'string' } } });
let contributions: Contribution[];
let data: string;
if (values.file) {
  contributions = readFileSync(values.file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Contribution);
  data = `file ${values.file} (${contributions.length} records)`;
} else {
  const persons = Number(values.persons ?? 50_000);
  const seed = Number(values.seed ?? 7);
  if (!Number.isInteger(persons) || persons < 2 || !Number.isInteger(seed)) throw new Error('--persons and --seed are integers');
  contributions = generateInMemory({ seed, dupRate: 0.1, persons, companies: 0, vehicles: 0 }).records.persons;
  data = `generator: ${persons} persons, seed ${seed}, dup-rate 0.1 (${contributions.length} records)`;
}
const started = performance.now();
const model = calibrate(contributions, { data, ...(values['random-pairs'] ? { randomPairs: Number(values['random-pairs']) } : {}) });
const out = values.out ?? fileURLToPath(MODEL_FILE);
const calibratedReview = model.thresholds.review;
const previousReview = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { thresholds?: { review?: number } }).thresholds?.review : undefined;
if (values.review !== undefined) {
  const review = Number(values.review);
  if (!Number.isFinite(review) || review >= model.thresholds.link) throw new Error(`--review is a score below the link threshold (${model.thresholds.link})`);
  model.thresholds.review = review;
} else if (previousReview !== undefined && previousReview > calibratedReview && previousReview < model.thresholds.link) {
  model.thresholds.review = previousReview;
}
writeFileSync(out, `${JSON.stringify(model, null, 2)}\n`);
const t = model.thresholds;
process.stdout.write(
  `calibrated on ${data} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${model.pairs} candidate pairs, ${model.iterations} EM iterations, λ ${model.lambda}\n` +
    `thresholds link ${t.link}, review ${t.review}${t.review !== calibratedReview ? ` (the calibration's own pick at this sample: ${calibratedReview})` : ''}; estimated link precision ${model.errorRates.linkPrecision}, recall ${model.errorRates.linkRecall}, review share ${model.errorRates.reviewShare}\n` +
    `written to ${out}\n`,
);
