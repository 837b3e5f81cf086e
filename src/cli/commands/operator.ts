// `tabadol operator ...`: the people who use the admin API; a token is shown once, at creation, and never logged.
import { Option, type Command } from 'commander';
import { cliActor } from '../../admin/actor.ts';
import { addOperator, listOperators, operatorRoles, revokeOperator, setOperatorPassword, type OperatorRole } from '../../identity/operators.ts';
import { maxPasswordLength, minPasswordLength } from '../../identity/passwords.ts';
import { action, CliRefusalError, printJson, printLines, printTable, withConfigOption, withDatabase, type CliDeps } from '../run.ts';

type ConfigOpts = { config?: string };

export function registerOperatorCommands(program: Command, deps: CliDeps): void {
  const operator = program.command('operator').description('operators of the admin API and the console (admin: everything; steward: referentials and review; auditor: reads and verification)');

  withConfigOption(operator.command('add'))
    .description('create an operator and print its token, once')
    .requiredOption('--name <name>', 'who it is')
    .addOption(new Option('--role <role>', 'what it may do').choices([...operatorRoles]).makeOptionMandatory())
    .action(
      action(async (opts: ConfigOpts & { name: string; role: OperatorRole }) => {
        const config = deps.readConfig(opts.config);
        if (!opts.name.trim()) throw new CliRefusalError(['--name: must not be empty']);
        const { operator: added, token } = await withDatabase(config, undefined, (db) => addOperator(db, { name: opts.name, role: opts.role, actor: cliActor() }));
        // Only stdout, never a log line: this is the one time the token exists outside the operator's hands.
        printLines([
          `operator ${added.id} (${added.name}, ${added.role}) added; its token:`,
          token,
          'Store this token now (in a password manager or secret store): it is shown only this once and cannot be recovered. Send it as "Authorization: Bearer <token>".',
        ]);
      }),
    );

  withConfigOption(operator.command('passwd').argument('<id>', 'the operator id (tabadol operator list)'))
    .description(`set the operator's console password, read from standard input (${minPasswordLength} to ${maxPasswordLength} characters; stored as a scrypt hash)`)
    .action(
      action(async (id: string, opts: ConfigOpts) => {
        const config = deps.readConfig(opts.config);
        // From stdin, never an argument: arguments show in `ps` and in shell history.
        const password = (await readStdin()).replace(/\r?\n$/, '');
        if (password.length < minPasswordLength || password.length > maxPasswordLength) {
          throw new CliRefusalError([`password: must be ${minPasswordLength} to ${maxPasswordLength} characters, read from standard input (e.g. printf '%s' "$PASSWORD" | tabadol operator passwd ${id})`]);
        }
        const set = await withDatabase(config, undefined, (db) => setOperatorPassword(db, { id, password, actor: cliActor() }));
        if (!set) throw new CliRefusalError([`id: no active operator ${id}`]);
        printLines([`operator ${id}: console password set (sign in at /console with the id ${id})`]);
      }),
    );

  withConfigOption(operator.command('list'))
    .description('list operators (never their tokens)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const operators = await withDatabase(config, undefined, (db) => listOperators(db));
        if (opts.json) return printJson(operators);
        printTable(
          ['ID', 'ROLE', 'STATUS', 'CREATED', 'NAME'],
          operators.map((o) => [o.id, o.role, o.revokedAt ? `revoked ${o.revokedAt.toISOString()}` : 'active', o.createdAt.toISOString(), o.name]),
        );
      }),
    );

  withConfigOption(operator.command('revoke').argument('<id>', 'the operator id (tabadol operator list)'))
    .description('revoke an operator: its token stops working at once')
    .action(
      action(async (id: string, opts: ConfigOpts) => {
        const config = deps.readConfig(opts.config);
        const revoked = await withDatabase(config, undefined, (db) => revokeOperator(db, { id, actor: cliActor() }));
        if (!revoked) throw new CliRefusalError([`id: no active operator ${id}`]);
        printLines([`operator ${id} revoked`]);
      }),
    );
}

/** Standard input, whole, bounded: a password is short, and a stream without end must not hold the command. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > 4096) throw new CliRefusalError(['password: standard input is longer than 4096 bytes']);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
