// The hub's golden-record services in an exchange world (test/exchange/harness.ts): bound to their in-process
// adapters, with a convention that lets one consumer call every operation under one purpose and declares no subjects.
import type { JWK } from 'jose';
import { goldenAdapter } from '../../referentials/services.ts';
import { goldenService } from '../../referentials/golden-service.ts';
import { referentialModules } from '../../referentials/index.ts';
import { activateConvention } from '../../src/conventions/store.ts';
import { memberKeyResolver } from '../../src/identity/key-resolvers.ts';
import { signConvention } from '../../src/conventions/signing.ts';
import type { Consumer, ExchangeWorld } from '../exchange/harness.ts';

export const referentialsSubsystem = 'MA/GOV/HUB/referentials';
export const goldenOperations = ['getRecord', 'getHistory', 'getByKey', 'getBySource', 'resolveMany', 'search', 'listChanges', 'contribute', 'submitBatch', 'getBatch'];

export async function openReferentials(world: ExchangeWorld, consumer: Consumer, purpose: string, names: readonly string[] = ['persons', 'companies', 'vehicles']): Promise<void> {
  const keyring = world.hubs[0]?.services.keyring;
  if (!keyring) throw new Error('no hub');
  const hubKey: JWK = { ...(keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: keyring.current.kid, alg: 'ES256' };
  for (const name of names) {
    const module = referentialModules.find((m) => m.name === name);
    if (!module) throw new Error(`no referential ${name}`);
    world.loadAdapter(goldenAdapter(name), goldenService(module, world.db));
    await world.bind(`${referentialsSubsystem}/${name}`, { kind: 'adapter', adapter: goldenAdapter(name), timeoutMs: 10_000 });
    const path = world.writeConvention({
      provider: referentialsSubsystem,
      service: name,
      consumer: consumer.id,
      purposes: [{ code: purpose, description: 'test', legalBasis: 'test' }],
      operations: goldenOperations.map((operationId) => ({ operationId })),
    });
    await signConvention(path, { signer: referentialsSubsystem, privateJwk: hubKey, role: 'provider', hubId: world.hubId, restart: true });
    await signConvention(path, { signer: consumer.id, privateJwk: consumer.keys[0]?.privateJwk as JWK, role: 'consumer', hubId: world.hubId, restart: true });
    await activateConvention(world.db, path, { keyring, resolveKey: memberKeyResolver(world.db), actor: 'test' });
  }
  await world.sync();
}
