// The README's list of commands is the one a newcomer reads: it must name every command the program has, and only
// those, with their positional arguments and required options.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/program.ts';

interface Listed {
  path: string;
  positionals: number;
  options: string[];
}

/** The commands the program runs: its leaves, by their full path (`member keys add`). */
function leaves(command: Command, path: string[] = []): Array<{ path: string; command: Command }> {
  if (command.commands.length === 0) return [{ path: path.join(' '), command }];
  return command.commands.flatMap((sub) => leaves(sub, [...path, sub.name()]));
}

/** The README's one canonical list: the first sh block under "## Commands", a `tabadol ...` line per command. */
function readmeCommands(readme: string): Listed[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Commands\n'));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no sh block under "## Commands"');
  return block
    .split('\n')
    .filter((line) => line.startsWith('tabadol '))
    .map((line) => {
      const tokens = (line.split('#')[0] ?? '').trim().split(/\s+/).slice(1);
      const words = [];
      while (tokens[0] !== undefined && /^[a-z][a-z-]*$/.test(tokens[0])) words.push(tokens.shift());
      const firstOption = tokens.findIndex((t) => t.startsWith('--') || t.startsWith('['));
      return {
        path: words.join(' '),
        positionals: (firstOption < 0 ? tokens : tokens.slice(0, firstOption)).length,
        options: tokens.flatMap((t) => /--[a-z][a-z-]*/.exec(t)?.[0] ?? []),
      };
    });
}

const listed = readmeCommands(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
const program = leaves(buildProgram());

describe("README.md's command list", () => {
  it('names every command of the program, once, and no other', () => {
    expect(listed.map((c) => c.path).sort()).toEqual(program.map((c) => c.path).sort());
  });

  it.each(program.map((c) => [c.path, c.command] as const))('shows `%s` with its arguments and required options, and only options it has', (path, command) => {
    const entry = listed.find((c) => c.path === path);
    expect(entry, path).toBeDefined();
    expect(entry?.positionals, `${path}: positional arguments`).toBe(command.registeredArguments.length);
    const has = command.options.map((o) => o.long);
    for (const option of entry?.options ?? []) expect(has, `${path} ${option}`).toContain(option);
    for (const required of command.options.filter((o) => o.mandatory)) expect(entry?.options, `${path}: required ${required.long}`).toContain(required.long);
  });

  it('is right that every command but `keys generate` takes --config', () => {
    for (const { path, command } of program) {
      expect(command.options.some((o) => o.long === '--config'), path).toBe(path !== 'keys generate');
    }
  });
});
