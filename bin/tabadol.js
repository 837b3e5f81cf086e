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
//
// The C library's allocator, left to itself, maps a large block (a chunk's query text, the driver's buffers) on its own
// and unmaps it when freed, and gives the top of its heap back: every chunk then faults its pages in anew. Kept
// (the bench's PostgreSQL server is given the same settings), an import of 111,880 persons took 25 % fewer page faults
// and 0.9 s less system time, its peak RSS 20 MB higher (docs/decisions.md §36). An operator's own GLIBC_TUNABLES win.
const importMallocTunables = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=536870912:glibc.malloc.top_pad=67108864';
if (process.argv[2] === 'import' && !heapSet) {
  const env = process.env.GLIBC_TUNABLES === undefined ? { ...process.env, GLIBC_TUNABLES: importMallocTunables } : process.env;
  const run = spawnSync(process.execPath, ['--max-old-space-size=384', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(run.status ?? (run.signal ? 1 : 0));
}

register();
const { defaultHubParts } = await import('./parts.ts');
const { runCli } = await import('../src/cli/main.ts');
await runCli(defaultHubParts());
