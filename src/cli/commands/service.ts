// `tabadol service ...`: how the hub reaches each provider service (a base URL or an adapter).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { cliActor } from '../../admin/actor.ts';
import { listBindings, setBinding } from '../../admin/bindings.ts';
import { AdminInputError } from '../../admin/errors.ts';
import { deriveForwardKey } from '../../exchange/forward-proof.ts';
import { verifyingKeyring } from './keyring.ts';
import { action, CliRefusalError, printJson, printLines, printTable, withConfigOption, withDatabase, type CliDeps } from '../run.ts';

type ConfigOpts = { config?: string };

// The API's field names, as the command line spells them.
const optionOf: Record<string, string> = { serviceId: 'SERVICE_ID', baseUrl: '--url', adapter: '--adapter', timeoutMs: '--timeout-ms', forwardProof: '--forward-proof', rotateForwardKey: '--rotate-forward-key' };

function parseTimeout(value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > 300_000) throw new InvalidArgumentError('must be milliseconds between 1 and 300000');
  return Number(value);
}

export function registerServiceCommands(program: Command, deps: CliDeps): void {
  const service = program.command('service').description("provider services' bindings");

  const bind = withConfigOption(service.command('bind').argument('<service-id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE'))
    .description('bind a service to a base URL (REST) or an adapter')
    .addOption(new Option('--url <url>', 'the base URL of a REST service').conflicts('adapter'))
    .option('--timeout-ms <n>', 'how long the hub waits for the provider (default 10000)', parseTimeout)
    .addOption(new Option('--adapter <name>', 'an adapter binding implemented in code').conflicts('url'))
    .addOption(new Option('--forward-proof <alg>', "how the hub proves its calls to the provider: es256 (the hub's key, default) or hs256 (a key of this binding's own, shown here)").choices(['es256', 'hs256']))
    .option('--rotate-forward-key', 'with hs256: a new key (the provider must be given it)');
  bind.action(
    action(async (serviceId: string, opts: ConfigOpts & { url?: string; adapter?: string; timeoutMs?: number; forwardProof?: 'es256' | 'hs256'; rotateForwardKey?: boolean }) => {
      if (opts.url === undefined && opts.adapter === undefined) bind.error('error: give --url URL or --adapter NAME', { exitCode: 2 });
      const config = deps.readConfig(opts.config);
      try {
        const bound = await withDatabase(config, 'PUT /admin/v1/bindings', (db) =>
          setBinding(db, { serviceId, baseUrl: opts.url, adapter: opts.adapter, timeoutMs: opts.timeoutMs, forwardProof: opts.forwardProof, rotateForwardKey: opts.rotateForwardKey, actor: cliActor() }),
        );
        printLines([`${bound.serviceId} → ${bound.kind === 'http' ? bound.baseUrl : `adapter ${bound.adapter}`} (timeout ${bound.timeoutMs} ms, forward proof ${bound.forwardProof ?? 'es256'}); running hubs use it from their next registry poll`]);
        if (bound.forwardKeyId) printLines(await forwardKeyLines(config, bound.serviceId, bound.forwardKeyId));
      } catch (err) {
        if (err instanceof AdminInputError) throw new CliRefusalError([`${optionOf[err.location] ?? err.location}: ${err.message}`]);
        throw err;
      }
    }),
  );

  withConfigOption(service.command('list'))
    .description('list service bindings')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const bindings = await withDatabase(config, 'GET /admin/v1/bindings', (db) => listBindings(db));
        if (opts.json) return printJson(bindings);
        printTable(['SERVICE', 'KIND', 'TIMEOUT', 'TARGET'], bindings.map((b) => [b.serviceId, b.kind, `${b.timeoutMs} ms`, b.baseUrl ?? b.adapter ?? '']));
      }),
    );
}

/**
 * The binding's HS256 key, for the provider's operator to install (the hub derives it from its key file and the key
 * id; the database holds only the id). Printed where the hub's key file is; elsewhere, where to run the command.
 */
async function forwardKeyLines(config: ReturnType<CliDeps['readConfig']>, serviceId: string, keyId: string): Promise<string[]> {
  const keyring = await verifyingKeyring(config);
  if (!keyring) return [`forward key ${keyId}: the hub's key file is not on this host; run this command again where it is to show the key`];
  return [
    `forward key id:  ${keyId}`,
    `forward key:     ${deriveForwardKey(keyring.subjectKey, serviceId, keyId).toString('base64url')}`,
    'give both to the provider (its verifier checks the HS256 Tabadol-Hub-Signature with them); keep the key secret',
  ];
}
