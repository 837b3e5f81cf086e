// The `tabadol` command line: runs the program that src/cli/program.ts builds, for a hub of the parts that bin/ composes.
import { CommanderError } from 'commander';
import type { HubParts } from '../plugins.ts';
import { buildProgram } from './program.ts';

export async function runCli(parts: HubParts): Promise<void> {
  try {
    await buildProgram(parts).parseAsync(process.argv);
  } catch (err) {
    // Commander has already printed the usage error (or the help that was asked for).
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  }
}
