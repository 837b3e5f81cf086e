// `tabadol log ...`: verify the message log's hash chain and signed checkpoints; purge it by retention date.
import { InvalidArgumentError, type Command } from 'commander';
import { cliActor } from '../../admin/actor.ts';
import { AdminInputError } from '../../admin/errors.ts';
import { parsePurgeDate, purgeLogAudited } from '../../admin/log.ts';
import { LogPurgeError, verifyLog, type CheckpointKeys } from '../../message-log/index.ts';
import { action, CliRefusalError, printJson, printLines, withConfigOption, withDatabase, type CliDeps } from '../run.ts';
import { verifyingKeyring } from './keyring.ts';

type ConfigOpts = { config?: string };

function parseSeq(value: string): string {
  if (!/^\d{1,19}$/.test(value)) throw new InvalidArgumentError('must be a seq (a positive integer)');
  return value;
}

function parseDate(value: string): Date {
  try {
    return parsePurgeDate(value);
  } catch (err) {
    if (err instanceof AdminInputError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

// Without hub keys no checkpoint can be trusted: each one is then reported, rather than skipped.
const noKeys: CheckpointKeys = { verifyKey: () => undefined };

export function registerLogCommands(program: Command, deps: CliDeps): void {
  const log = program.command('log').description('the message log of exchanges');

  withConfigOption(log.command('verify'))
    .description("verify the log's hash chain and the hub's signed checkpoints")
    .option('--from <seq>', 'start at the nearest valid checkpoint at or before this seq', parseSeq)
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { from?: string; json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const keys = (await verifyingKeyring(config)) ?? noKeys;
        const result = await withDatabase(config, 'GET /admin/v1/log/verify', (db) => verifyLog(db, keys, { fromSeq: opts.from }));
        const range = result.firstSeq === undefined ? '' : ` (seq ${result.firstSeq} to ${result.lastSeq ?? result.firstSeq})`;
        if (opts.json) printJson(result);
        else printLines([`${result.rowsChecked} row(s)${range} and ${result.checkpointsChecked} checkpoint(s) checked`]);
        if (!result.ok) {
          throw new CliRefusalError([`the message log is not intact (${result.problems.length} problem(s)):`, ...result.problems.map((p) => `- seq ${p.seq} ${p.kind}: ${p.detail}`)]);
        }
        if (!opts.json) printLines(['the log is intact']);
      }),
    );

  withConfigOption(log.command('purge'))
    .description('delete rows older than a date, up to the last signed checkpoint before it (run log verify first)')
    .requiredOption('--before <date>', 'ISO 8601 date, e.g. 2024-01-01', parseDate)
    .action(
      action(async (opts: ConfigOpts & { before: Date }) => {
        const config = deps.readConfig(opts.config);
        try {
          const result = await withDatabase(config, 'POST /admin/v1/log/purge', (db) => purgeLogAudited(db, { before: opts.before, actor: cliActor() }));
          printLines([
            `purged ${result.deleted} row(s)`,
            result.anchor ? `the log now starts after checkpoint seq ${result.anchor.seq}` : 'the log starts at its beginning (no checkpoint before that date)',
          ]);
        } catch (err) {
          if (err instanceof LogPurgeError) throw new CliRefusalError([err.message]);
          throw err;
        }
      }),
    );
}
