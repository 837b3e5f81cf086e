// `tabadol member ...`: register members and subsystems, rotate and revoke their keys, disable and enable, list and show.
import type { Command } from 'commander';
import { cliActor } from '../../admin/actor.ts';
import { addMemberKeys, getMember, listMembers, MemberError, registerMember, revokeMemberKey, setMemberStatus, type Member } from '../../identity/members.ts';
import { action, CliRefusalError, printJson, printLines, printTable, readJsonFile, withConfigOption, withDatabase, type CliDeps } from '../run.ts';

type ConfigOpts = { config?: string };

function describe(member: Member): string[] {
  return [
    `${member.id} (${member.kind}) ${member.status}: ${member.name}`,
    `  registered ${member.createdAt.toISOString()}`,
    ...member.keys.map((k) => `  key ${k.kid} ${k.alg} ${k.status}${k.revokedAt ? ` since ${k.revokedAt.toISOString()}` : ''}`),
  ];
}

/** A refusal about the JWK set names the file it came from: `--jwks k1/public.jwks: keys.0: contains private key material…`. */
async function naming<T>(jwksFile: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof MemberError && /^jwks(\.|$)/.test(err.location)) {
      const within = err.location.replace(/^jwks\.?/, '');
      throw new CliRefusalError([`--jwks${jwksFile === undefined ? '' : ` ${jwksFile}`}: ${within ? `${within}: ` : ''}${err.message}`]);
    }
    throw err;
  }
}

// Long because it declares one command group (each command: its options and a few lines of action), as commander wants.
export function registerMemberCommands(program: Command, deps: CliDeps): void {
  const member = program.command('member').description('members and subsystems, with their public keys');

  withConfigOption(member.command('add').argument('<id>', 'member INSTANCE/CLASS/CODE or subsystem INSTANCE/CLASS/CODE/SUBSYSTEM'))
    .description('register a member, or a subsystem with its public keys')
    .requiredOption('--name <name>', 'its name, as people know it')
    .option('--jwks <file>', 'the public JWK set (tabadol keys generate writes public.jwks); required for a subsystem')
    .action(
      action(async (id: string, opts: ConfigOpts & { name: string; jwks?: string }) => {
        const config = deps.readConfig(opts.config);
        const jwks = opts.jwks === undefined ? undefined : readJsonFile('--jwks', opts.jwks);
        const added = await naming(opts.jwks, () => withDatabase(config, 'POST /admin/v1/members', (db) => registerMember(db, { id, name: opts.name, jwks, actor: cliActor() })));
        printLines([`registered ${added.id} (${added.kind})${added.keys.length ? ` with key(s) ${added.keys.map((k) => k.kid).join(', ')}` : ''}`]);
      }),
    );

  const keys = member.command('keys').description("a member's or subsystem's keys: add (before rotating) and revoke");
  withConfigOption(keys.command('add').argument('<id>', 'member or subsystem id'))
    .description('add public keys from a JWK set')
    .requiredOption('--jwks <file>', 'the public JWK set')
    .action(
      action(async (id: string, opts: ConfigOpts & { jwks: string }) => {
        const config = deps.readConfig(opts.config);
        const jwks = readJsonFile('--jwks', opts.jwks);
        const updated = await naming(opts.jwks, () => withDatabase(config, 'POST /admin/v1/members/keys', (db) => addMemberKeys(db, { id, jwks, actor: cliActor() })));
        printLines([`${updated.id} now has active key(s) ${updated.keys.filter((k) => k.status === 'active').map((k) => k.kid).join(', ')}`]);
      }),
    );
  withConfigOption(keys.command('revoke').argument('<id>', 'member or subsystem id'))
    .description('revoke a key: requests signed with it stop verifying; conventions it signed before stay valid unless --compromised')
    .requiredOption('--kid <kid>', 'the key id')
    .option('--reason <reason>', 'why (kept in the audit trail)')
    .option('--compromised', 'the key leaked: also stop enforcing the conventions it signed, until they are signed again')
    .action(
      action(async (id: string, opts: ConfigOpts & { kid: string; reason?: string; compromised?: boolean }) => {
        const config = deps.readConfig(opts.config);
        await withDatabase(config, 'POST /admin/v1/members/keys/revoke', (db) =>
          revokeMemberKey(db, { id, kid: opts.kid, reason: opts.reason, compromised: opts.compromised ?? false, actor: cliActor() }),
        );
        printLines([
          `revoked key ${opts.kid} of ${id}${opts.compromised ? ' as compromised: the conventions it signed are suspended until signed again' : ''}; running hubs stop accepting it within their next registry poll`,
        ]);
      }),
    );

  for (const [name, status, summary] of [
    ['disable', 'disabled', 'disable a member (and its subsystems) or a subsystem'],
    ['enable', 'active', 'enable it again'],
  ] as const) {
    const command = withConfigOption(member.command(name).argument('<id>', 'member or subsystem id')).description(summary);
    if (status === 'disabled') command.option('--reason <reason>', 'why (kept in the audit trail)');
    command.action(
      action(async (id: string, opts: ConfigOpts & { reason?: string }) => {
        const config = deps.readConfig(opts.config);
        await withDatabase(config, 'POST /admin/v1/members/status', (db) => setMemberStatus(db, { id, status, reason: opts.reason, actor: cliActor() }));
        printLines([`${id} is ${status}`]);
      }),
    );
  }

  withConfigOption(member.command('list'))
    .description('list members and subsystems')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const members = await withDatabase(config, 'GET /admin/v1/members', (db) => listMembers(db));
        if (opts.json) return printJson(members);
        printTable(
          ['ID', 'KIND', 'STATUS', 'ACTIVE KEYS', 'NAME'],
          members.map((m) => [m.id, m.kind, m.status, m.keys.filter((k) => k.status === 'active').map((k) => k.kid).join(',') || '-', m.name]),
        );
      }),
    );

  withConfigOption(member.command('show').argument('<id>', 'member or subsystem id'))
    .description('show a member or subsystem with its keys')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string, opts: ConfigOpts & { json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const found = await withDatabase(config, 'GET /admin/v1/members', (db) => getMember(db, id));
        if (!found) throw new CliRefusalError([`id: no member or subsystem ${id}`]);
        if (opts.json) return printJson(found);
        printLines(describe(found));
      }),
    );
}
