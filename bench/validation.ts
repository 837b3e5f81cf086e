// `npm run bench:validation`: what check 14 costs on the hostile body of issue 11 (a resolve of N empty items, each
// failing three ways), against JSON.parse of the same body in the same run. Validation used to be quadratic in the
// number of errors (82/170/764/3,430 ms for 1k/2k/4k/8k items, 37 s for 30k); it must stay within a small multiple of
// the parse, whatever N. `--src DIR` measures another checkout's src/ (e.g. a worktree of an older commit).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as OpenApiService from '../src/exchange/openapi-service.ts';
import { parseBenchArgs, positiveInt } from './lib.ts';

const options = parseBenchArgs(process.argv.slice(2), { src: { type: 'string' }, items: { type: 'string' } }, [
  'usage: npm run bench:validation -- [--src DIR] [--items N,N,...]',
  "  --src    the src/ folder whose validation is measured (default this checkout's)",
  '  --items  the numbers of items of the bodies measured (default 1000,2000,4000,8000,30000)',
]);
const src = resolve(options.src ?? new URL('../src', import.meta.url).pathname);
const sizes = (options.items ?? '1000,2000,4000,8000,30000').split(',').map((n) => positiveInt('items', n, 0));
const { compileServiceOpenApi } = (await import(pathToFileURL(`${src}/exchange/openapi-service.ts`).href)) as typeof OpenApiService;

const contract = readFileSync(new URL('../contracts/MA.GOV.HUB.referentials/companies/openapi.yaml', import.meta.url), 'utf8');
const operation = compileServiceOpenApi(contract).match('POST', '/resolve');
if (!operation) throw new Error('no resolve operation in the companies contract');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const time = (fn: () => unknown, runs: number): number => {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return median(samples);
};

process.stdout.write(`${'items'.padStart(7)} ${'parse ms'.padStart(9)} ${'validate ms'.padStart(12)} ${'errors'.padStart(7)} ${'ratio'.padStart(7)}\n`);
for (const n of sizes) {
  const text = `{"items":[${Array.from({ length: n }, () => '{}').join(',')}]}`;
  const parseMs = time(() => JSON.parse(text), 5);
  const body = JSON.parse(text) as unknown;
  let errors = 0;
  // The old code takes seconds a run past a few thousand items: fewer runs there.
  const validateMs = time(() => {
    errors = operation.validateRequest({ pathParams: {}, query: new URLSearchParams(), headers: () => undefined, contentType: 'application/json', body }).length;
  }, n > 4000 ? 1 : 3);
  process.stdout.write(`${String(n).padStart(7)} ${parseMs.toFixed(1).padStart(9)} ${validateMs.toFixed(1).padStart(12)} ${String(errors).padStart(7)} ${(validateMs / parseMs).toFixed(1).padStart(7)}\n`);
}
