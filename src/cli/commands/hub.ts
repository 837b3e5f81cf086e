// `tabadol hub ...`: the hub's own signing keys (rotation, public JWK set); no database needed.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { hubKeyPath, HubKeyring, loadOrCreateHubKeys, rotateHubKey } from '../../identity/hub-keys.ts';
import { action, CliRefusalError, printJson, printLines, withConfigOption, type CliDeps } from '../run.ts';

type ConfigOpts = { config?: string };

export function registerHubCommands(program: Command, deps: CliDeps): void {
  const hub = program.command('hub').description("the hub's own signing keys");

  withConfigOption(hub.command('rotate-key'))
    .description('add a new current signing key; the previous one is retired but stays listed to verify earlier signatures')
    .action(
      action(async (opts: ConfigOpts) => {
        const config = deps.readConfig(opts.config);
        const where = { dataDir: config.DATA_DIR, hubKeyFile: config.HUB_KEY_FILE };
        const rotated = await rotateHubKey(where);
        printLines([
          `new signing key: ${rotated.kid}`,
          `retired: ${rotated.retired.length ? rotated.retired.join(', ') : 'none'} (still listed in the JWKS, marked tabadol.retired)`,
          `Running hub processes sign with the new key from their next restart; every process must use the same key file (HUB_KEY_FILE, here ${hubKeyPath(where)}).`,
        ]);
      }),
    );

  withConfigOption(hub.command('jwks'))
    .description("print the hub's public JWK set (as served at /.well-known/jwks.json)")
    .action(
      action(async (opts: ConfigOpts) => {
        const config = deps.readConfig(opts.config);
        const where = { dataDir: config.DATA_DIR, hubKeyFile: config.HUB_KEY_FILE };
        // Printing keys must not create them: that is the first start's job (or rotate-key's).
        if (!existsSync(hubKeyPath(where))) throw new CliRefusalError([`no hub keys at ${hubKeyPath(where)} yet: they are created when the hub first starts (or by tabadol hub rotate-key)`]);
        printJson(new HubKeyring(config.HUB_ID, await loadOrCreateHubKeys(where)).jwks());
      }),
    );
}
