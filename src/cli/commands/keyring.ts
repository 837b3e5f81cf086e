// The hub keyring as admin commands need it: to countersign (created like a first start would), or only to verify.
import { existsSync } from 'node:fs';
import type { Config } from '../../config.ts';
import { hubKeyPath, HubKeyring, loadOrCreateHubKeys } from '../../identity/hub-keys.ts';

const where = (config: Config) => ({ dataDir: config.DATA_DIR, hubKeyFile: config.HUB_KEY_FILE });

/** For signing as the hub: the keys the hub processes use, created on first use exactly as `tabadol serve` would. */
export async function signingKeyring(config: Config): Promise<HubKeyring> {
  return new HubKeyring(config.HUB_ID, await loadOrCreateHubKeys(where(config)));
}

/** For verifying only: undefined when there are no hub keys yet (a read must not create them). */
export async function verifyingKeyring(config: Config): Promise<HubKeyring | undefined> {
  return existsSync(hubKeyPath(where(config))) ? signingKeyring(config) : undefined;
}
