// Writes openapi.yaml from the routes (`npm run openapi`); with --check, fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildOpenApiDocument } from '../src/http/openapi.ts';

const target = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
const generated = `# Generated from the routes by \`npm run openapi\`; do not edit by hand (CI fails on any difference).\n${stringify(buildOpenApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false })}`;

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // Missing counts as different.
  }
  if (committed !== generated) {
    process.stderr.write('openapi.yaml is out of date with the routes: run `npm run openapi` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('openapi.yaml matches the routes.\n');
} else {
  writeFileSync(target, generated);
  process.stdout.write(`wrote ${target}\n`);
}
