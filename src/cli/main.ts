// The `tabadol` command line: runs the program that src/cli/program.ts builds.
import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // Commander has already printed the usage error (or the help that was asked for).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  throw err;
}
