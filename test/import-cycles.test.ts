// The code's import graph has no circles (issue 12 item 5): a module is understood from what it imports, never from
// what imports it back; and the core (src/) never reaches up into what composes it. Counts every relative import (type-only ones too: a type cycle is a design cycle).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const folders = ['src', 'referentials', 'adapters', 'bin'];

function sources(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sources(path));
    else if (/\.tsx?$/.test(path) && !path.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    if (spec && /\.tsx?$/.test(spec)) out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** Every cycle's smallest rotation, found by depth-first search from each file. */
export function importCycles(): string[][] {
  const files = folders.flatMap((f) => sources(join(root, f)));
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => files.includes(i))]));
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next)).map((f) => relative(root, f));
        const start = cycle.indexOf([...cycle].sort()[0] as string);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join(' → '), rotated);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return [...cycles.values()];
}

describe('imports', () => {
  it('form no circle in src/, referentials/, adapters/ and bin/', () => {
    expect(importCycles().map((c) => [...c, c[0]].join(' → '))).toEqual([]);
  });

  it('go down only: src/ imports nothing from referentials/, adapters/ or bin/ (bin/parts.ts composes them)', () => {
    const upward = sources(join(root, 'src')).flatMap((file) =>
      importsOf(file)
        .map((target) => relative(root, target))
        .filter((target) => /^(referentials|adapters|bin)\//.test(target))
        .map((target) => `${relative(root, file)} → ${target}`),
    );
    expect(upward).toEqual([]);
  });
});
