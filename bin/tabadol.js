#!/usr/bin/env node
// The `tabadol` command: runs the TypeScript sources through tsx's loader (no build step to forget).
// It runs the CLI for a hub composed in bin/parts.ts (the composition root: referentials, adapters, the demo world).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// `import` streams files of millions of rows in bounded chunks; V8 left to itself grows its old space lazily to twice
// what the chunks need. A heap cap keeps the importer's peak RSS near its working set (300 MB for 200,000 persons
// against 516 MB uncapped). 384 MB rather than 256: with the tighter cap V8 marked the heap almost without pause,
// beside PostgreSQL on the same cores (1,120,703 persons: 248 s and 226 s of importer CPU at 256 MB, 242 s and 218 s
// at 384 MB; peak RSS 398 and 430 MB). An operator's own --max-old-space-size wins.
const heapSet = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-old-space-size'));
if (process.argv[2] === 'import' && !heapSet) {
  const run = spawnSync(process.execPath, ['--max-old-space-size=384', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(run.status ?? (run.signal ? 1 : 0));
}

register();
const { defaultHubParts } = await import('./parts.ts');
const { runCli } = await import('../src/cli/main.ts');
await runCli(defaultHubParts());
