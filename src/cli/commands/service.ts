// `tabadol service ...`: how the hub reaches each provider service (a base URL or an adapter).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { cliActor } from '../../admin/actor.ts';
import { listBindings, setBinding } from '../../admin/bindings.ts';
import { AdminInputError } from '../../admin/errors.ts';
import { action, CliRefusalError, printJson, printLines, printTable, withConfigOption, withDatabase, type CliDeps } from '../run.ts';

type ConfigOpts = { config?: string };

// The API's field names, as the command line spells them.
const optionOf: Record<string, string> = { serviceId: 'SERVICE_ID', baseUrl: '--url', adapter: '--adapter', timeoutMs: '--timeout-ms' };

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
    .addOption(new Option('--adapter <name>', 'an adapter binding implemented in code').conflicts('url'));
  bind.action(
    action(async (serviceId: string, opts: ConfigOpts & { url?: string; adapter?: string; timeoutMs?: number }) => {
      if (opts.url === undefined && opts.adapter === undefined) bind.error('error: give --url URL or --adapter NAME', { exitCode: 2 });
      const config = deps.readConfig(opts.config);
      try {
        const bound = await withDatabase(config, 'PUT /admin/v1/bindings', (db) =>
          setBinding(db, { serviceId, baseUrl: opts.url, adapter: opts.adapter, timeoutMs: opts.timeoutMs, actor: cliActor() }),
        );
        printLines([`${bound.serviceId} → ${bound.kind === 'http' ? bound.baseUrl : `adapter ${bound.adapter}`} (timeout ${bound.timeoutMs} ms); running hubs use it from their next registry poll`]);
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
