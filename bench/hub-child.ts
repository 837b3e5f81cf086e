// What the benches' hub children (bench/exchange-server.ts, bench/referentials-server.ts) share: their configuration,
// the bench convention beside the service's real OpenAPI, signed by both parties and activated, and the wait until
// the hub's registry shows the bench world.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { loadConfig, type Config } from '../src/config.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { activateConvention } from '../src/conventions/store.ts';
import { toFolderName } from '../src/identity/ids.ts';
import { memberKeyResolver } from '../src/identity/key-resolvers.ts';
import type { Hub } from '../src/runtime.ts';

const contractsDir = fileURLToPath(new URL('../contracts/', import.meta.url));

/** A bench hub's configuration: on DATABASE_URL and REDIS_URL (`who` needs both), any free port, quiet, no demo. */
export function benchHubConfig(dataDir: string, who: string, extra: Record<string, string> = {}): Config {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DEMO: 'off',
    DATABASE_URL: process.env['DATABASE_URL'],
    REDIS_URL: process.env['REDIS_URL'],
    ...extra,
  });
  if (!config.DATABASE_URL || !config.REDIS_URL) throw new Error(`${who} needs DATABASE_URL and REDIS_URL`);
  return config;
}

/** A date `offsetDays` from today, as a convention writes it (YYYY-MM-DD). */
function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** What differs between the benches' conventions; the rest (one purpose, a quota never reached, a year) is the same. */
export interface BenchConvention {
  comment: string;
  id: string;
  title: string;
  provider: string;
  service: string;
  consumer: string;
  purpose: { code: string; description: string; legalBasis: string };
  /** The `operations:` entries, as YAML lines. */
  operations: readonly string[];
}

/** A bench convention's YAML: valid from yesterday for a year, with a quota so large that it is never reached, yet counted. */
export function benchConventionYaml(c: BenchConvention): string {
  return [
    `# ${c.comment}`,
    `id: ${c.id}`,
    'version: 1',
    `title: ${c.title}`,
    `provider: ${c.provider}`,
    `service: ${c.service}`,
    `consumer: ${c.consumer}`,
    'purposes:',
    `  - code: ${c.purpose.code}`,
    `    description: ${c.purpose.description}`,
    `    legalBasis: ${c.purpose.legalBasis}`,
    'operations:',
    ...c.operations,
    'quota:',
    '  count: 1000000000',
    '  windowSeconds: 60',
    `validFrom: "${day(-1)}"`,
    `validUntil: "${day(365)}"`,
    'logBodies: false',
    '',
  ].join('\n');
}

/** A bench world: who calls which service of which provider. */
export interface BenchParties {
  provider: string;
  service: string;
  consumer: string;
}

/**
 * The bench convention `yaml`, written under DATA_DIR/bench/contracts beside a copy of the service's real OpenAPI (its
 * bytes are what the convention signs), signed by the provider and the consumer, and activated.
 */
export async function installBenchConvention(
  hub: Hub,
  dataDir: string,
  parties: BenchParties,
  convention: { yaml: string; providerJwk: JWK; consumerJwk: JWK; actor: string },
): Promise<void> {
  const { db, services, config } = hub;
  const serviceDir = join(dataDir, 'bench', 'contracts', toFolderName(parties.provider), parties.service);
  mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
  copyFileSync(join(contractsDir, toFolderName(parties.provider), parties.service, 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
  const yamlPath = join(serviceDir, 'conventions', `${toFolderName(parties.consumer)}.yaml`);
  writeFileSync(yamlPath, convention.yaml);
  await signConvention(yamlPath, { signer: parties.provider, privateJwk: convention.providerJwk, role: 'provider', hubId: config.HUB_ID });
  await signConvention(yamlPath, { signer: parties.consumer, privateJwk: convention.consumerJwk, role: 'consumer', hubId: config.HUB_ID });
  await activateConvention(db, yamlPath, { keyring: services.keyring, resolveKey: memberKeyResolver(db), actor: convention.actor });
}

/**
 * Reloads the hub's registry until it shows the consumer, the service's binding and the convention: a reload already
 * under way when the world was written may have read the old registry. Gives up after 50 tries, 100 ms apart.
 */
export async function awaitBenchWorld(hub: Hub, parties: BenchParties): Promise<void> {
  const { services } = hub;
  const serviceId = `${parties.provider}/${parties.service}`;
  for (let attempt = 0; ; attempt++) {
    await services.directory.reload();
    await services.conventions.reload();
    if (services.directory.client(parties.consumer) && services.directory.binding(serviceId) && services.conventions.find(parties.consumer, parties.provider, parties.service)) return;
    if (attempt >= 50) throw new Error('the bench world (consumer, binding, convention) is not visible to the hub after 5 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
