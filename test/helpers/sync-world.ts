// Sync in an exchange world (test/exchange/harness.ts): a convention that lets a subscriber follow a referential's
// changes, and subscribers that are real HTTP servers the test controls (answer, delay, refuse), verifying each push.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { activateConvention } from '../../src/conventions/store.ts';
import { signConvention } from '../../src/conventions/signing.ts';
import { memberKeyResolver } from '../../src/identity/key-resolvers.ts';
import type { PushBody, PushedChange } from '../../src/sync/push.ts';
import type { Consumer, ExchangeWorld } from '../exchange/harness.ts';
import { referentialsSubsystem } from './referential-world.ts';

/** Activates a convention between the referentials and `consumer` for listChanges (the subscription's operation). */
export async function allowSubscription(world: ExchangeWorld, consumer: Consumer, options: { referential: string; purpose: string; fields?: string[] }): Promise<void> {
  const keyring = world.hubs[0]?.services.keyring;
  if (!keyring) throw new Error('no hub');
  const hubKey: JWK = { ...(keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: keyring.current.kid, alg: 'ES256' };
  const path = world.writeConvention({
    provider: referentialsSubsystem,
    service: options.referential,
    consumer: consumer.id,
    purposes: [{ code: options.purpose, description: 'keeps its copy current', legalBasis: 'test' }],
    operations: [{ operationId: 'listChanges', ...(options.fields ? { fields: options.fields } : {}) }],
  });
  await signConvention(path, { signer: referentialsSubsystem, privateJwk: hubKey, role: 'provider', hubId: world.hubId, restart: true });
  await signConvention(path, { signer: consumer.id, privateJwk: consumer.keys[0]?.privateJwk as JWK, role: 'consumer', hubId: world.hubId, restart: true });
  await activateConvention(world.db, path, { keyring, resolveKey: memberKeyResolver(world.db), actor: 'test' });
  await world.sync();
}

export interface ReceivedPush {
  body: PushBody;
  headers: Record<string, string | string[] | undefined>;
  claims: Record<string, unknown>;
}

/** What the subscriber does with a push: answer a status (after a delay), by default 204. */
export type SubscriberBehaviour = (body: PushBody) => { status: number; delayMs?: number };

export interface TestSubscriber {
  url: string;
  /** Every push accepted (2xx), in arrival order. */
  accepted: ReceivedPush[];
  /** Pushes answered with a non-2xx status. */
  refused: number;
  /** Changes accepted, in arrival order (duplicates included). */
  changes(): PushedChange[];
  behave(behaviour: SubscriberBehaviour): void;
  /** Resolves when `predicate` holds over what was accepted (checked after each push). */
  until(predicate: (s: TestSubscriber) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A subscriber server that verifies the hub's signature of each push (and refuses with 401 when it does not verify). */
export async function startSubscriber(world: ExchangeWorld): Promise<TestSubscriber> {
  const jwks = createLocalJWKSet(await world.jwks());
  let behaviour: SubscriberBehaviour = () => ({ status: 204 });
  const waiters = new Set<() => void>();
  const subscriber: TestSubscriber = {
    url: '',
    accepted: [],
    refused: 0,
    changes: () => subscriber.accepted.flatMap((p) => p.body.deliveries),
    behave: (b) => {
      behaviour = b;
    },
    until: (predicate, what, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(subscriber)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`subscriber: timed out waiting for ${what} (accepted ${subscriber.changes().length} changes, refused ${subscriber.refused} pushes)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let claims: Record<string, unknown>;
    try {
      const verified = await compactVerify(String(req.headers['tabadol-signature']), jwks);
      claims = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
      if (verified.protectedHeader.typ !== 'tabadol-delivery+jwt') throw new Error('typ');
      const { createHash } = await import('node:crypto');
      if (claims.bdh !== createHash('sha256').update(text).digest('base64url')) throw new Error('bdh');
    } catch {
      subscriber.refused++;
      res.writeHead(401).end();
      return;
    }
    const body = JSON.parse(text) as PushBody;
    const { status, delayMs } = behaviour(body);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (status >= 200 && status < 300) subscriber.accepted.push({ body, headers: req.headers, claims });
    else subscriber.refused++;
    res.writeHead(status).end();
    for (const check of [...waiters]) check();
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  subscriber.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/changes`;
  return subscriber;
}
