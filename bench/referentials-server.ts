// Server child for bench/referentials.ts: the hub as `tabadol serve` composes it with the referential services (no demo
// world, no outbox workers), plus a load-generator subsystem with a key and a signed, active convention for the persons
// service; prints `${referentialsReadyMarker} <port>` (bench/referentials-world.ts) once a signed call would pass.
//   usage: referentials-server.ts DATA_DIR QUEUE_PREFIX   (DATABASE_URL and REDIS_URL from the environment)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { generateMemberKeyPair } from '../src/admin/keys.ts';
import { hubSubsystems } from '../src/hub/bootstrap.ts';
import { toFolderName } from '../src/identity/ids.ts';
import { getMember, registerMember } from '../src/identity/members.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub, type Hub } from '../src/runtime.ts';
// The referentials' part of a hub (bin/parts.ts composes it with the adapters'): their bindings and their plug-in.
import { referentialParts } from '../referentials/services.ts';
import { referentialsBenchWorld, referentialsReadyMarker } from './referentials-world.ts';
import { awaitBenchWorld, benchConventionYaml, benchHubConfig, installBenchConvention } from './hub-child.ts';
import { serveBenchChild } from './lib.ts';

const actor = 'bench-referentials';

function conventionYaml(provider: string): string {
  const w = referentialsBenchWorld;
  return benchConventionYaml({
    comment: 'Benchmark convention (bench/referentials.ts): the load generator resolves and searches generated persons; a quota never reached, yet counted.',
    id: `bench-persons--${toFolderName(w.consumer)}`,
    title: 'Banc de mesure du référentiel des personnes (données générées)',
    provider,
    service: w.service,
    consumer: w.consumer,
    purpose: { code: w.purpose, description: 'Mesurer la résolution et la recherche du référentiel des personnes sous charge.', legalBasis: 'Aucune (données générées, banc de mesure).' },
    operations: [
      '  - operationId: getRecord',
      '  - operationId: getByKey',
      '    subjects:',
      '      - type: cin',
      '        in: path',
      '        name: keyValue',
      '  - operationId: getBySource',
      '  - operationId: resolveMany',
      '  - operationId: search',
    ],
  });
}

/** The consumer (its key written for the parent), and the bench convention signed by both parties and activated. */
async function setUpWorld(dataDir: string, hub: Hub, provider: string): Promise<void> {
  const { db, services } = hub;
  const w = referentialsBenchWorld;
  const consumer = await generateMemberKeyPair('ES256');
  await registerMember(db, { id: w.consumer, name: w.consumerName, jwks: consumer.publicJwks, actor });

  // The hub's referentials subsystem signs as provider with the hub's key, as the demo world does.
  const hubJwk = { ...(services.keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: services.keyring.current.kid, alg: 'ES256' };
  await installBenchConvention(hub, dataDir, { provider, service: w.service, consumer: w.consumer }, { yaml: conventionYaml(provider), providerJwk: hubJwk, consumerJwk: consumer.privateJwk as JWK, actor });
  mkdirSync(join(dataDir, 'bench'), { recursive: true });
  writeFileSync(w.consumerKeyFile(dataDir), `${JSON.stringify(consumer.privateJwk)}\n`, { mode: 0o600 });
}

async function startBenchHub(dataDir: string, queuePrefix: string): Promise<Hub> {
  const config = benchHubConfig(dataDir, 'the referentials bench', process.env['DATABASE_POOL_SIZE'] ? { DATABASE_POOL_SIZE: process.env['DATABASE_POOL_SIZE'] } : {});
  // No outbox workers: the import left one golden.changed row per contribution, and relaying them to Redis while we
  // measure would load the machine with work that is not the read path. The plug-ins are the referential services'.
  const parts = referentialParts();
  const hub = await startHub(config, { logger: createLogger(config.LOG_LEVEL), http: true, workers: false, referentials: parts.referentials, plugins: parts.plugins, adapters: parts.adapters, queuePrefix });
  try {
    if (hub.url === undefined) throw new Error('the hub started without an HTTP server');
    const { db } = hub;
    const w = referentialsBenchWorld;
    const provider = hubSubsystems(config.HUB_ID).referentials;
    // A data folder kept with the database (--reuse-db): the world set up by the run that loaded it is still there.
    const reused = existsSync(w.consumerKeyFile(dataDir)) && (await getMember(db, w.consumer)) !== undefined;
    if (!reused) await setUpWorld(dataDir, hub, provider);
    await awaitBenchWorld(hub, { provider, service: w.service, consumer: w.consumer });
    writeFileSync(w.hubFile(dataDir), `${JSON.stringify({ hubId: config.HUB_ID })}\n`);
    return hub;
  } catch (err) {
    await hub.close();
    throw err;
  }
}

const [dataDir, queuePrefix] = process.argv.slice(2);
if (!dataDir || !queuePrefix) {
  process.stderr.write('usage: referentials-server.ts DATA_DIR QUEUE_PREFIX\n');
  process.exit(2);
}
serveBenchChild('referentials-server', referentialsReadyMarker, async () => {
  const hub = await startBenchHub(dataDir, queuePrefix);
  return { port: Number(new URL(hub.url ?? '').port), close: () => hub.close() };
});
