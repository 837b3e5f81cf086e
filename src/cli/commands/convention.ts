// `tabadol convention ...`: sign as a party, verify, activate (the hub countersigns), revoke, list.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { JWK } from 'jose';
import { cliActor } from '../../admin/actor.ts';
import { activateConventionFile, verifyConventionFile } from '../../admin/conventions.ts';
import { signConvention, type ConventionVerification } from '../../conventions/signing.ts';
import { listConventions, revokeConvention, type ConventionStatus } from '../../conventions/store.ts';
import { action, CliRefusalError, printJson, printLines, printTable, readJsonFile, withConfigOption, withDatabase, type CliDeps } from '../run.ts';
import { signingKeyring, verifyingKeyring } from './keyring.ts';

type ConfigOpts = { config?: string };

function parseVersion(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

function signatureLines(verification: Pick<ConventionVerification, 'signatures'>): string[] {
  return verification.signatures.map(
    (s) => `  ${s.ok ? 'ok     ' : 'FAILED '} ${s.role ?? '?'} ${s.signer ?? '?'} kid ${s.kid ?? '?'} ${s.alg ?? '?'}${s.reason ? `: ${s.reason}` : ''}`,
  );
}

// Long because it declares one command group (each command: its options and a few lines of action), as commander wants.
export function registerConventionCommands(program: Command, deps: CliDeps): void {
  const convention = program.command('convention').description('signed data-exchange agreements between a provider service and a consumer');

  withConfigOption(convention.command('sign').argument('<file.yaml>', 'contracts/<provider>/<service>/conventions/<consumer>.yaml'))
    .description("sign a convention as its provider or consumer: adds that party's signature to the .jws beside it")
    .requiredOption('--as <id>', 'the signing subsystem (the provider or the consumer)')
    .requiredOption('--key <private.jwk>', "the signer's private JWK (tabadol keys generate); its kid must be registered")
    .option('--restart', 'discard signatures over an earlier content of the YAML or OpenAPI (every party signs again)')
    .action(
      action(async (file: string, opts: ConfigOpts & { as: string; key: string; restart?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const privateJwk = readJsonFile('--key', opts.key);
        if (typeof privateJwk !== 'object' || privateJwk === null || Array.isArray(privateJwk)) throw new CliRefusalError([`--key ${opts.key}: is not a JWK (a JSON object)`]);
        const signed = await signConvention(file, { signer: opts.as, privateJwk: privateJwk as JWK, restart: opts.restart ?? false, hubId: config.HUB_ID });
        printLines([
          `signed as ${signed.role} ${opts.as} with key ${signed.kid} (${signed.alg})${signed.restarted ? '; the earlier signatures were discarded' : ''}`,
          `${signed.jwsPath} now holds: ${signed.signers.map((s) => `${s.role ?? '?'} ${s.signer ?? '?'}`).join(', ')}`,
        ]);
      }),
    );

  withConfigOption(convention.command('verify').argument('<file.yaml>', 'the convention YAML (its .jws and ../../openapi.yaml beside it)'))
    .description("verify a convention's YAML, OpenAPI digest and signatures")
    .option('--json', 'machine-readable output')
    .action(
      action(async (file: string, opts: ConfigOpts & { json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const keyring = await verifyingKeyring(config);
        const verification = await withDatabase(config, 'POST /admin/v1/conventions/verify', (db) => verifyConventionFile(db, file, { hubId: config.HUB_ID, keyring }));
        if (opts.json) printJson(verification);
        else {
          const c = verification.convention;
          printLines([`${c ? `convention ${c.id} version ${c.version}: ${c.consumer} → ${c.provider}/${c.service}` : file}`, ...signatureLines(verification)]);
        }
        if (!verification.ok) throw new CliRefusalError([`${file} does not verify:`, ...verification.problems.map((p) => `- ${p}`)]);
        if (!opts.json) printLines(['verified: the YAML, the OpenAPI digest and the parties\' signatures all check out']);
      }),
    );

  withConfigOption(convention.command('activate').argument('<file.yaml>', 'the convention YAML, signed by its provider and consumer'))
    .description('activate a convention: the hub verifies it, countersigns it (written to the .jws) and enforces it')
    .action(
      action(async (file: string, opts: ConfigOpts) => {
        const config = deps.readConfig(opts.config);
        const keyring = await signingKeyring(config);
        const result = await withDatabase(config, 'POST /admin/v1/conventions/activate', (db) => activateConventionFile(db, file, { keyring, actor: cliActor() }));
        printLines([
          `activated ${result.id} version ${result.version}${result.superseded === null ? '' : ` (supersedes version ${result.superseded})`}`,
          `countersigned by ${keyring.hubId} with key ${keyring.current.kid}: ${result.jwsPath}`,
          'running hubs enforce it from their next registry poll',
        ]);
      }),
    );

  withConfigOption(convention.command('revoke').argument('<id>', 'the convention id'))
    .description('revoke a convention (its active version, or the one given)')
    .option('--version <n>', 'a particular version', parseVersion)
    .requiredOption('--reason <reason>', 'why (kept with the convention and in the audit trail)')
    .action(
      action(async (id: string, opts: ConfigOpts & { version?: number; reason: string }) => {
        const config = deps.readConfig(opts.config);
        const revoked = await withDatabase(config, 'POST /admin/v1/conventions/revoke', (db) => revokeConvention(db, { id, version: opts.version, reason: opts.reason, actor: cliActor() }));
        printLines([`revoked ${revoked.id} version ${revoked.version}; running hubs stop enforcing it at their next registry poll`]);
      }),
    );

  withConfigOption(convention.command('list'))
    .description('list stored conventions, every version')
    .addOption(new Option('--status <status>', 'only this status').choices(['active', 'superseded', 'revoked']))
    .option('--consumer <id>', 'only this consumer')
    .option('--provider <id>', 'only this provider')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { status?: ConventionStatus; consumer?: string; provider?: string; json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const conventions = await withDatabase(config, 'GET /admin/v1/conventions', (db) => listConventions(db, { status: opts.status, consumer: opts.consumer, provider: opts.provider }));
        if (opts.json) return printJson(conventions);
        printTable(
          ['ID', 'VERSION', 'STATUS', 'CONSUMER', 'SERVICE'],
          conventions.map((c) => [c.id, String(c.version), c.status, c.consumer, `${c.provider}/${c.service}`]),
        );
      }),
    );
}
