// npm run gen:referentials -- --persons N --companies N --vehicles N --dup-rate R --seed S --out DIR [--format ndjson|csv]

import { parseArgs } from 'node:util';
import { DEFAULT_GENERATOR_OPTIONS, generateToDirectory } from '../referentials/generator/generate.ts';

function number(name: string, text: string | undefined, fallback: number, check: (n: number) => boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || !check(value)) {
    console.error(`--${name}: '${text}' is not valid`);
    process.exit(2);
  }
  return value;
}

const { values } = parseArgs({
  options: {
    persons: { type: 'string' }, companies: { type: 'string' }, vehicles: { type: 'string' },
    'dup-rate': { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' },
  },
});

const whole = (n: number): boolean => Number.isInteger(n) && n >= 0;
const options = {
  persons: number('persons', values.persons, DEFAULT_GENERATOR_OPTIONS.persons, whole),
  companies: number('companies', values.companies, DEFAULT_GENERATOR_OPTIONS.companies, whole),
  vehicles: number('vehicles', values.vehicles, DEFAULT_GENERATOR_OPTIONS.vehicles, whole),
  dupRate: number('dup-rate', values['dup-rate'], DEFAULT_GENERATOR_OPTIONS.dupRate, (n) => n >= 0 && n <= 1),
  seed: number('seed', values.seed, DEFAULT_GENERATOR_OPTIONS.seed, whole),
};
const format = values.format ?? 'ndjson';
if (format !== 'ndjson' && format !== 'csv') {
  console.error(`--format: '${format}' is not ndjson or csv`);
  process.exit(2);
}
const out = values.out ?? 'data/generated';

const started = Date.now();
const summary = await generateToDirectory(options, out, format);
console.log(`generated into ${out} (${format}, seed ${options.seed}, dup-rate ${options.dupRate}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const [referential, c] of Object.entries(summary)) {
  const share = c.records === 0 ? 0 : c.duplicates / c.records;
  console.log(`  ${referential}: ${c.entities} entities, ${c.records} records, ${c.duplicates} duplicates (${(share * 100).toFixed(1)} % of records)`);
  console.log(`    by source: ${Object.entries(c.bySource).map(([s, n]) => `${s} ${n}`).join(', ')}`);
  if (Object.keys(c.byVariation).length > 0) console.log(`    variations: ${Object.entries(c.byVariation).map(([s, n]) => `${s} ${n}`).join(', ')}`);
}
console.log(`  ground truth: ${out}/ground-truth.${format === 'csv' ? 'csv' : 'ndjson'}`);
