// Server child for bench/referentials.ts: the hub as `tabadol serve` composes it with the referential services (no demo
// world, no outbox workers), plus a load-generator subsystem with a key and a signed, active convention for the persons
// service; prints `${referentialsReadyMarker} <port>` (bench/referentials-world.ts) once a signed call would pass.
//   usage: referentials-server.ts DATA_DIR QUEUE_PREFIX   (DATABASE_URL and REDIS_URL from the environment)
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { generateMemberKeyPair } from '../src/admin/keys.ts';
import { loadConfig } from '../src/config.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { activateConvention } from '../src/conventions/store.ts';
import { memberKeyResolver } from '../src/identity/key-resolvers.ts';
import { hubSubsystems } from '../src/hub/bootstrap.ts';
import { toFolderName } from '../src/identity/ids.ts';
import { getMember, registerMember } from '../src/identity/members.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub, type Hub } from '../src/runtime.ts';
// The referentials' part of a hub (bin/parts.ts composes it with the adapters'): their bindings and their plug-in.
import { referentialParts } from '../referentials/services.ts';
import { referentialsBenchWorld, referentialsReadyMarker } from './referentials-world.ts';
import { exitWithParent } from './lib.ts';

const host = '127.0.0.1';
const actor = 'bench-referentials';
const contractsDir = fileURLToPath(new URL('../contracts/', import.meta.url));

function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

function conventionYaml(provider: string): string {
  const w = referentialsBenchWorld;
  return [
    '# Benchmark convention (bench/referentials.ts): the load generator resolves and searches generated persons; a quota never reached, yet counted.',
    `id: bench-persons--${toFolderName(w.consumer)}`,
    'version: 1',
    'title: Banc de mesure du référentiel des personnes (données générées)',
    `provider: ${provider}`,
    `service: ${w.service}`,
    `consumer: ${w.consumer}`,
    'purposes:',
    `  - code: ${w.purpose}`,
    '    description: Mesurer la résolution et la recherche du référentiel des personnes sous charge.',
    '    legalBasis: Aucune (données générées, banc de mesure).',
    'operations:',
    '  - operationId: getRecord',
    '  - operationId: getByKey',
    '    subjects:',
    '      - type: cin',
    '        in: path',
    '        name: keyValue',
    '  - operationId: getBySource',
    '  - operationId: resolveMany',
    '  - operationId: search',
    'quota:',
    '  count: 1000000000',
    '  windowSeconds: 60',
    `validFrom: "${day(-1)}"`,
    `validUntil: "${day(365)}"`,
    'logBodies: false',
    '',
  ].join('\n');
}

/** The consumer (its key written for the parent), and the bench convention signed by both parties and activated. */
async function setUpWorld(dataDir: string, hub: Hub, provider: string): Promise<void> {
  const { db, services, config } = hub;
  const w = referentialsBenchWorld;
  const consumer = await generateMemberKeyPair('ES256');
  await registerMember(db, { id: w.consumer, name: w.consumerName, jwks: consumer.publicJwks, actor });

  // The service's real OpenAPI (its bytes are what the convention signs), a bench convention beside it; the hub's
  // referentials subsystem signs as provider with the hub's key, as the demo world does.
  const serviceDir = join(dataDir, 'bench', 'contracts', toFolderName(provider), w.service);
  mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
  copyFileSync(join(contractsDir, toFolderName(provider), w.service, 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
  const yamlPath = join(serviceDir, 'conventions', `${toFolderName(w.consumer)}.yaml`);
  writeFileSync(yamlPath, conventionYaml(provider));
  const hubJwk = { ...(services.keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: services.keyring.current.kid, alg: 'ES256' };
  await signConvention(yamlPath, { signer: provider, privateJwk: hubJwk, role: 'provider', hubId: config.HUB_ID });
  await signConvention(yamlPath, { signer: w.consumer, privateJwk: consumer.privateJwk as JWK, role: 'consumer', hubId: config.HUB_ID });
  await activateConvention(db, yamlPath, { keyring: services.keyring, resolveKey: memberKeyResolver(db), actor });
  mkdirSync(join(dataDir, 'bench'), { recursive: true });
  writeFileSync(w.consumerKeyFile(dataDir), `${JSON.stringify(consumer.privateJwk)}\n`, { mode: 0o600 });
}

async function startBenchHub(dataDir: string, queuePrefix: string): Promise<Hub> {
  const config = loadConfig({
    PORT: '0',
    HOST: host,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DEMO: 'off',
    DATABASE_URL: process.env['DATABASE_URL'],
    REDIS_URL: process.env['REDIS_URL'],
    ...(process.env['DATABASE_POOL_SIZE'] ? { DATABASE_POOL_SIZE: process.env['DATABASE_POOL_SIZE'] } : {}),
  });
  if (!config.DATABASE_URL || !config.REDIS_URL) throw new Error('the referentials bench needs DATABASE_URL and REDIS_URL');
  // No outbox workers: the import left one golden.changed row per contribution, and relaying them to Redis while we
  // measure would load the machine with work that is not the read path. The plug-ins are the referential services'.
  const parts = referentialParts();
  const hub = await startHub(config, { logger: createLogger(config.LOG_LEVEL), http: true, workers: false, referentials: parts.referentials, plugins: parts.plugins, adapters: parts.adapters, queuePrefix });
  try {
    if (hub.url === undefined) throw new Error('the hub started without an HTTP server');
    const { db, services } = hub;
    const w = referentialsBenchWorld;
    const provider = hubSubsystems(config.HUB_ID).referentials;
    // A data folder kept with the database (--reuse-db): the world set up by the run that loaded it is still there.
    const reused = existsSync(w.consumerKeyFile(dataDir)) && (await getMember(db, w.consumer)) !== undefined;
    if (!reused) await setUpWorld(dataDir, hub, provider);
    const serviceId = `${provider}/${w.service}`;
    for (let attempt = 0; ; attempt++) {
      await services.directory.reload();
      await services.conventions.reload();
      if (services.directory.client(w.consumer) && services.directory.binding(serviceId) && services.conventions.find(w.consumer, provider, w.service)) break;
      if (attempt >= 50) throw new Error('the bench world (consumer, binding, convention) is not visible to the hub after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    writeFileSync(w.hubFile(dataDir), `${JSON.stringify({ hubId: config.HUB_ID })}\n`);
    return hub;
  } catch (err) {
    await hub.close();
    throw err;
  }
}

async function main(): Promise<void> {
  const [dataDir, queuePrefix] = process.argv.slice(2);
  if (!dataDir || !queuePrefix) {
    process.stderr.write('usage: referentials-server.ts DATA_DIR QUEUE_PREFIX\n');
    process.exit(2);
  }
  const hub = await startBenchHub(dataDir, queuePrefix);
  exitWithParent('referentials-server', () => hub.close());
  process.stdout.write(`${referentialsReadyMarker} ${new URL(hub.url ?? '').port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`referentials-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
