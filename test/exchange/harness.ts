// The exchange world for the protocol tests: the BTP simulator (requiring the hub's forward signature), a hub started
// in this process (startHub) or N real `tabadol serve` processes, on ONE Postgres schema (or one PGlite dir) and one
// Redis prefix (processes: one Redis database) with ONE hub key file, consumers with generated keys, the demo
// conventions signed and activated, and helpers to write, sign and activate more conventions, bind services, sign raw
// requests and verify the hub's answers.
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getGlobalDispatcher } from 'undici';
import { parse as parseYaml, stringify } from 'yaml';
import {
  calculateJwkThumbprint,
  CompactSign,
  compactVerify,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { TabadolClient, type ClientIdentity } from '../../src/client/index.ts';
import { loadConfig } from '../../src/config.ts';
import { activateConvention, type ActivationResult } from '../../src/conventions/store.ts';
import { memberKeyResolver } from '../../src/identity/key-resolvers.ts';
import { signConvention } from '../../src/conventions/signing.ts';
import { bindService, type AdapterBinding, type ServiceBinding } from '../../src/exchange/bindings.ts';
import { hubSubsystems } from '../../src/hub/bootstrap.ts';
import { loadOrCreateHubKeys } from '../../src/identity/hub-keys.ts';
import { toFolderName } from '../../src/identity/ids.ts';
import { addMemberKeys, registerMember } from '../../src/identity/members.ts';
import type { HubParts, HubPlugin } from '../../src/plugins.ts';
import { startHub, type Hub } from '../../src/runtime.ts';
import type { Db } from '../../src/storage/db.ts';
import { HubKeyring } from '../../src/identity/hub-keys.ts';
import { openDatabase } from '../../src/storage/index.ts';
import { demoIces } from '../../adapters/btp-qualification/data.ts';
import { startBtpSimulator, type BtpSimulator } from '../../adapters/btp-qualification/simulator.ts';
import { captureLogger } from '../helpers/hub.ts';
import { dropSchema, freshDataDir, uniqueSchema } from '../helpers/db.ts';
import { testDatabaseUrl, testRedisUrl } from '../helpers/env.ts';
import { startServe, type RunningHub } from '../helpers/process.ts';
import { deletePrefix, leaseRedisDb, uniquePrefix, type RedisDbLease } from '../helpers/queues.ts';
import { waitFor } from '../helpers/wait.ts';

export const hubId = 'MA/GOV/HUB/core';
export const provider = 'MA/GOV/METLE/qualification-btp';
export const btpService = `${provider}/classification`;
export const mefId = 'MA/GOV/MEF/marches-publics';
export const miId = 'MA/GOV/MI/collectivites-territoriales';
export const noConventionId = 'MA/GOV/TEST/no-convention';
export const portalId = 'MA/GOV/ADD/portail-citoyen';
export const transparencyProvider = hubSubsystems(hubId).transparency;
export const mefPurpose = 'public-procurement-eligibility';
export const miPurpose = 'communal-procurement-eligibility';
export const portalPurpose = 'citizen-access-report';

const repoContracts = fileURLToPath(new URL('../../contracts/', import.meta.url));
export const btpOpenapiPath = join(repoContracts, 'MA.GOV.METLE.qualification-btp', 'classification', 'openapi.yaml');

export type KeyAlg = 'ES256' | 'EdDSA';

export interface MemberKey {
  kid: string;
  alg: KeyAlg;
  /** Private JWK with kid and alg (what `tabadol keys generate` writes). */
  privateJwk: JWK;
  /** Public JWK with kid, alg and use. */
  publicJwk: JWK;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export async function generateMemberKey(alg: KeyAlg, kidPrefix = 'k'): Promise<MemberKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const bare = await exportJWK(publicKey);
  const kid = `${kidPrefix}-${(await calculateJwkThumbprint(bare)).slice(0, 12)}`;
  const publicJwk: JWK = { ...bare, kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateJwk, publicJwk, privateKey, publicKey };
}

export function identityOf(id: string, key: MemberKey): ClientIdentity {
  return { id, kid: key.kid, alg: key.alg, privateKey: key.privateKey };
}

export interface Consumer {
  id: string;
  /** Every key registered for it, in order (the first one signs its conventions). */
  keys: MemberKey[];
  /** The identity of its first key. */
  identity: ClientIdentity;
  /** A jose-based TabadolClient on hub `hub` (default the first), signing with `key` (default the first). */
  client(hub?: number, key?: MemberKey): TabadolClient;
}

export interface ConventionSpec {
  id?: string;
  version?: number;
  provider?: string;
  /** The service code (default classification); its OpenAPI is copied from the BTP one when missing. */
  service?: string;
  consumer: string;
  purposes?: Array<{ code: string; description: string; legalBasis: string }>;
  operations?: Array<{ operationId: string; fields?: string[]; subjects?: Array<{ type: string; in: 'path' | 'query' | 'response'; name: string }> }>;
  quota?: { count: number; windowSeconds: number };
  validFrom?: string;
  validUntil?: string;
  logBodies?: boolean;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given (no URL normalisation). */
  target: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface SignOverrides {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** Remove these claims from the payload. */
  omit?: string[];
}

export interface SignedRequest extends RawRequest {
  headers: Record<string, string>;
  jti: string;
  signature: string;
}

export interface ResponseClaims {
  iss: string;
  aud?: string;
  jti: string;
  rqh?: string;
  sts: number;
  bdh: string;
  iat: number;
}

export interface StubServer {
  url: string;
  close(): Promise<void>;
}

export interface ExchangeWorld {
  hubId: string;
  /** The hub started in this process (empty when the hubs are processes). */
  hubs: Hub[];
  /** The `tabadol serve` processes (empty when the hub runs in this process). */
  processes: RunningHub[];
  urls: string[];
  /** The hubs' database (every hub shares its schema). */
  db: Db;
  simulator: BtpSimulator;
  /** The temp copy of contracts/ where conventions are written and signed. */
  contractsDir: string;
  hubKeyFile: string;
  dataDirs: string[];
  schema: string | undefined;
  queuePrefix: string | undefined;
  /** Each hub's log lines, as they come (a process's stdout). */
  logs: string[][];
  mef: Consumer;
  mi: Consumer;
  noConvention: Consumer;
  portal: Consumer;
  providerKey: MemberKey;
  /** Registers a subsystem with a fresh key (or the given public JWKs). */
  registerConsumer(id: string, alg?: KeyAlg, keys?: MemberKey[]): Promise<Consumer>;
  /** Adds a key to a registered subsystem (rotation); returns it. */
  addKey(consumer: Consumer, alg?: KeyAlg): Promise<MemberKey>;
  /** Writes a convention YAML (and the service's OpenAPI when missing); returns its path. */
  writeConvention(spec: ConventionSpec): string;
  /** Provider and consumer sign (restarting earlier signatures), then the hub activates through hub `via`'s database. */
  activate(yamlPath: string, options?: { via?: number; sync?: boolean }): Promise<ActivationResult>;
  /** writeConvention + activate. */
  addConvention(spec: ConventionSpec, options?: { via?: number; sync?: boolean }): Promise<ActivationResult>;
  bind(serviceId: string, binding: ServiceBinding): Promise<void>;
  /** Loads an adapter binding in every hub of the world (each hub holds its own; not with hub processes). */
  loadAdapter(name: string, binding: AdapterBinding): void;
  /**
   * Returns once every hub enforces every registry change committed before the call: a hub in this process reloads
   * its directory and conventions now; a hub process is waited for (see syncProcesses).
   */
  sync(): Promise<void>;
  /** A signed request as the protocol says, with optional overrides of the header and claims (jose). */
  sign(identity: ClientIdentity, request: { method: string; target: string; purpose: string; body?: string | Buffer; clientHeader?: string }, overrides?: SignOverrides): Promise<SignedRequest>;
  send(request: RawRequest, hub?: number): Promise<RawAnswer>;
  /** Verifies the hub's signature of an answer with the hub's JWKS and returns its claims (throws when it does not verify). */
  verifyAnswer(answer: RawAnswer, requestSignature?: string): Promise<ResponseClaims>;
  jwks(hub?: number): Promise<JSONWebKeySet>;
  /** A local HTTP server acting as a provider, closed with the world. */
  stubProvider(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<StubServer>;
  /** A URL on 127.0.0.1 where nothing listens. */
  closedPortUrl(): Promise<string>;
  /** The message_log row of a seq. */
  logRow(seq: string): Promise<LogRow | undefined>;
  close(): Promise<void>;
}

export interface LogRow {
  seq: string;
  request_id: string;
  client: string | null;
  service: string | null;
  operation: string | null;
  purpose: string | null;
  status: number;
  problem: string | null;
}

export interface WorldOptions {
  storage: 'pg' | 'pglite';
  redis: boolean;
  /**
   * Run the hub as this many real `tabadol serve` processes (PostgreSQL and Redis only), as an operator runs them,
   * composed by bin/parts.ts. Without it, one hub started in this process, whose services a test may reach.
   */
  processes?: number;
  /** How long each hub process may take to say it listens (default startServe's minute; a supervisor starts its children one after another). */
  startTimeoutMs?: number;
  /** Hub plugins to start (default none: the referential services are bound only when their plugin is given; not with processes). */
  plugins?: readonly HubPlugin[];
  /** Adapter bindings every hub starts with (default none but the hub's own transparency service; not with processes). */
  adapters?: HubParts['adapters'];
  /** The referentials every hub serves (default none; the referential services' plug-in binds theirs). */
  referentials?: HubParts['referentials'];
  /** More configuration for every hub (BODY_TIMEOUT_SECONDS…). */
  env?: Record<string, string>;
  /** Level of the captured hub logs (default warn). */
  logLevel?: string;
  /** Run the workers (outbox relay, consumers, the sync engine) in every hub (default false). */
  workers?: boolean;
  /** In-process receivers of pushed changes (sync), by adapter name. */
  deliveryHandlers?: HubParts['deliveryHandlers'];
  /** Sync adapters (src/sync/adapter.ts) run by every hub that runs workers. */
  syncAdapters?: HubParts['syncAdapters'];
}

export const sha256b64u = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('base64url');

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A hub process's stdout as lines, kept as they arrive (a hub in this process logs to a captured logger instead). */
function followLines(hub: RunningHub): string[] {
  const lines: string[] = [];
  let partial = '';
  hub.child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  return lines;
}

/** DATABASE_URL for a process confined to a schema, as openPgDb's `schema` does for a pool in this process. */
function urlOnSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema},public`);
  return parsed.toString();
}

export async function startExchangeWorld(options: WorldOptions): Promise<ExchangeWorld> {
  const asProcesses = options.processes !== undefined;
  const processCount = options.processes ?? 1;
  if (processCount < 1) throw new Error('processes must be at least 1');
  if (asProcesses && (options.storage !== 'pg' || !options.redis)) throw new Error('hub processes share PostgreSQL and Redis: storage pg and redis only');
  if (asProcesses && (options.plugins || options.adapters)) throw new Error('a hub process is composed by bin/parts.ts: no plug-ins or adapter bindings of the test');

  const root = mkdtempSync(join(tmpdir(), 'tabadol-exchange-'));
  const toRemove: string[] = [root];
  const keysDir = join(root, 'hub-keys');
  const hubKeys = await loadOrCreateHubKeys({ dataDir: keysDir });
  const hubKeyFile = join(keysDir, 'hub-keys.json');
  const schema = options.storage === 'pg' ? uniqueSchema() : undefined;
  // `tabadol serve` keys Redis under 'tabadol' always: its processes get a Redis database of their own instead.
  let redisLease: RedisDbLease | undefined;
  const queuePrefix = asProcesses ? 'tabadol' : options.redis ? uniquePrefix() : undefined;

  const contractsDir = join(root, 'contracts');
  cpSync(repoContracts, contractsDir, { recursive: true });

  const hubs: Hub[] = [];
  const running: RunningHub[] = [];
  const logs: string[][] = [];
  const dataDirs: string[] = [];
  const servers: Server[] = [];
  let simulator: BtpSimulator | undefined;
  let processDb: Db | undefined;

  const startOne = async (index: number): Promise<Hub> => {
    const dataDir = options.storage === 'pglite' ? freshDataDir() : join(root, `hub-${index}`);
    if (options.storage === 'pglite') toRemove.push(dataDir);
    dataDirs.push(dataDir);
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      HUB_ID: hubId,
      DATA_DIR: dataDir,
      HUB_KEY_FILE: hubKeyFile,
      DEMO: 'off',
      LOG_LEVEL: 'warn',
      ...(options.storage === 'pg' ? { DATABASE_URL: testDatabaseUrl } : {}),
      ...(options.redis ? { REDIS_URL: testRedisUrl } : {}),
      ...options.env,
    });
    const { logger, lines } = captureLogger(options.logLevel ?? 'warn');
    logs.push(lines);
    return startHub(config, { logger, http: true, workers: options.workers ?? false, plugins: options.plugins ?? [], adapters: options.adapters ?? {}, referentials: options.referentials ?? [], deliveryHandlers: options.deliveryHandlers ?? {}, syncAdapters: options.syncAdapters ?? [], registryPollMs: 100, ...(schema ? { schema } : {}), ...(queuePrefix ? { queuePrefix } : {}) });
  };

  const startProcess = async (index: number, redisUrl: string): Promise<RunningHub> => {
    const dataDir = join(root, `hub-${index}`);
    dataDirs[index] = dataDir;
    const hub = await startServe({
      HOST: '127.0.0.1',
      HUB_ID: hubId,
      DATA_DIR: dataDir,
      HUB_KEY_FILE: hubKeyFile,
      DATABASE_URL: urlOnSchema(testDatabaseUrl, schema ?? ''),
      REDIS_URL: redisUrl,
      LOG_LEVEL: options.logLevel ?? 'warn',
      ...options.env,
    }, options.startTimeoutMs);
    running[index] = hub;
    logs[index] = followLines(hub);
    return hub;
  };

  const cleanup = async (): Promise<void> => {
    for (const hub of [...hubs].reverse()) await hub.close().catch(() => undefined);
    // A hub process that does not stop cleanly on SIGTERM is a failure to report (after the rest is cleaned up).
    const unclean: string[] = [];
    for (const hub of [...running].reverse().filter((h) => h !== undefined)) {
      const { code } = await hub.stop('SIGTERM');
      if (code !== 0) unclean.push(`hub process ${hub.url} exited with ${code}: ${hub.stderr()}`);
    }
    await processDb?.close().catch(() => undefined);
    await simulator?.close().catch(() => undefined);
    for (const server of servers) await closeServer(server);
    if (schema) await dropSchema(schema);
    if (redisLease) await redisLease.release('tabadol');
    else if (queuePrefix) await deletePrefix(queuePrefix);
    for (const dir of toRemove) rmSync(dir, { recursive: true, force: true });
    if (unclean.length > 0) throw new Error(unclean.join('\n'));
  };

  try {
    if (asProcesses) {
      redisLease = await leaseRedisDb();
      // Whatever a run that died left there (a quota counter lives a day) must not count in this one.
      await deletePrefix('tabadol', redisLease.url);
      // The schema created and migrated from here; the processes find it ready, on their search_path.
      processDb = await openDatabase({ databaseUrl: testDatabaseUrl, dataDir: '', schema });
      const redisUrl = redisLease.url;
      // Started together, as an operator's processes are; the simulator checks forward signatures with the first one's JWKS.
      const started = await Promise.allSettled(Array.from({ length: processCount }, (_, index) => startProcess(index, redisUrl)));
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      simulator = await startBtpSimulator({ requireHubSignature: true, hubJwksUrl: `${(running[0] as RunningHub).url}/.well-known/jwks.json`, hubId });
    } else {
      // The hub, then the simulator that checks its forward signature against that hub's JWKS.
      hubs.push(await startOne(0));
      const first = hubs[0] as Hub;
      simulator = await startBtpSimulator({ requireHubSignature: true, hubJwksUrl: `${first.url ?? ''}/.well-known/jwks.json`, hubId });
    }
  } catch (err) {
    await cleanup().catch(() => undefined); // the start's own error is the one to report
    throw err;
  }
  const db = processDb ?? (hubs[0] as Hub).db;
  const urls = asProcesses ? running.map((h) => h.url) : hubs.map((h) => h.url ?? '');
  // The hub's keyring: the same key file as every hub's.
  const keyring = asProcesses ? new HubKeyring(hubId, hubKeys) : (hubs[0] as Hub).services.keyring;
  const actor = 'exchange-harness';

  const signingKeys = new Map<string, JWK>();
  // The hub's own providers (transparency, referentials) sign their conventions with the hub's key.
  const hubSigningKey: JWK = { ...(keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: keyring.current.kid, alg: 'ES256' };
  signingKeys.set(transparencyProvider, hubSigningKey);
  signingKeys.set(hubSubsystems(hubId).referentials, hubSigningKey);

  const makeConsumer = (id: string, keys: MemberKey[]): Consumer => {
    const primary = keys[0];
    if (!primary) throw new Error(`${id} has no key`);
    const consumer: Consumer = {
      id,
      keys,
      identity: identityOf(id, primary),
      client(hub = 0, key = primary) {
        return new TabadolClient({ hubUrl: urls[hub] ?? '', hubId, identity: identityOf(id, key) });
      },
    };
    return consumer;
  };

  let sentinels = 0;
  /**
   * A hub process reloads its views when its poll (every second) sees registry_version move, and shows nothing of that
   * from outside. So a sentinel is committed after the caller's changes (a new consumer, a new service bound to the
   * simulator, a convention between them) and each process is called as that consumer until it answers 200. That answer
   * needs the consumer in the process's client directory, the binding in its bindings and the convention in its
   * conventions: each of these reads saw the sentinel, so each ran after the caller's changes had committed.
   */
  const syncProcesses = async (): Promise<void> => {
    sentinels += 1;
    const service = `sync-${sentinels}`;
    const sentinel = await registerConsumer(`MA/GOV/TEST/sync-${sentinels}`);
    await bindService(db, { serviceId: `${provider}/${service}`, binding: { kind: 'http', baseUrl: simulator?.url ?? '', timeoutMs: 5000 }, actor });
    await activate(writeConvention({ consumer: sentinel.id, service }), { sync: false });
    for (const [index, url] of urls.entries()) {
      await waitFor(
        async () => {
          const request = await sign(sentinel.identity, { method: 'GET', target: `/x/v1/${provider}/${service}/companies/${demoIces.qualified}/classification`, purpose: mefPurpose });
          return (await send(request, index)).status === 200;
        },
        `hub process ${url} to enforce the registry as of ${service}`,
        { everyMs: 100 },
      );
    }
  };

  const sync = async (): Promise<void> => {
    if (asProcesses) return syncProcesses();
    for (const hub of hubs) {
      await hub.services.directory.reload();
      await hub.services.conventions.reload();
    }
  };

  const registerConsumer = async (id: string, alg: KeyAlg = 'ES256', given?: MemberKey[]): Promise<Consumer> => {
    const keys = given ?? [await generateMemberKey(alg, toFolderName(id).split('.').at(-1) ?? 'k')];
    await registerMember(db, { id, name: `test subsystem ${id}`, jwks: { keys: keys.map((k) => k.publicJwk) }, actor });
    const primary = keys[0];
    if (primary) signingKeys.set(id, primary.privateJwk);
    return makeConsumer(id, keys);
  };

  const writeConvention = (spec: ConventionSpec): string => {
    const providerId = spec.provider ?? provider;
    const service = spec.service ?? 'classification';
    const serviceDir = join(contractsDir, toFolderName(providerId), service);
    mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
    if (!existsSync(join(serviceDir, 'openapi.yaml'))) copyFileSync(btpOpenapiPath, join(serviceDir, 'openapi.yaml'));
    const doc = {
      id: spec.id ?? `${toFolderName(providerId)}.${service}--${toFolderName(spec.consumer)}`,
      version: spec.version ?? 1,
      title: `test convention for ${spec.consumer}`,
      provider: providerId,
      service,
      consumer: spec.consumer,
      purposes: spec.purposes ?? [{ code: mefPurpose, description: 'test purpose', legalBasis: 'test legal basis' }],
      operations: spec.operations ?? [{ operationId: 'getCompanyClassification', subjects: [{ type: 'ice', in: 'path', name: 'ice' }] }],
      quota: spec.quota ?? { count: 1000, windowSeconds: 60 },
      validFrom: spec.validFrom ?? '2026-01-01',
      validUntil: spec.validUntil ?? '2099-12-31',
      logBodies: spec.logBodies ?? false,
    };
    const path = join(serviceDir, 'conventions', `${toFolderName(spec.consumer)}.yaml`);
    // Every string double-quoted: dates stay strings for any YAML 1.2 parser (the protocol says: write them quoted).
    writeFileSync(path, stringify(doc, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }));
    return path;
  };

  const activate = async (yamlPath: string, opts: { via?: number; sync?: boolean } = {}): Promise<ActivationResult> => {
    const doc = parseYaml(readFileSync(yamlPath, 'utf8')) as { provider: string; consumer: string };
    for (const [signer, role] of [
      [doc.provider, 'provider'],
      [doc.consumer, 'consumer'],
    ] as const) {
      const privateJwk = signingKeys.get(signer);
      if (!privateJwk) throw new Error(`the harness has no key for ${signer}`);
      await signConvention(yamlPath, { signer, privateJwk, role, hubId, restart: true });
    }
    // Every hub shares one database and one key file: `via` names the hub whose pool commits it, in this process.
    const viaDb = asProcesses ? db : (hubs[opts.via ?? 0] as Hub).db;
    const result = await activateConvention(viaDb, yamlPath, { keyring, resolveKey: memberKeyResolver(viaDb), actor });
    if (opts.sync ?? true) await sync();
    return result;
  };

  const bind = async (serviceId: string, binding: ServiceBinding): Promise<void> => {
    await bindService(db, { serviceId, binding, actor });
    await sync();
  };

  const send = async (request: RawRequest, hub = 0): Promise<RawAnswer> => {
    const origin = urls[hub];
    if (!origin) throw new Error(`no hub ${hub}`);
    const res = await getGlobalDispatcher().request({
      origin,
      path: request.target,
      method: request.method as 'GET',
      headers: request.headers ?? {},
      body: request.body ?? null,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const text = body.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers, body, text, json };
  };

  const sign = async (
    identity: ClientIdentity,
    request: { method: string; target: string; purpose: string; body?: string | Buffer; clientHeader?: string },
    overrides: SignOverrides = {},
  ): Promise<SignedRequest> => {
    const jti = randomUUID();
    const claims: Record<string, unknown> = {
      iss: identity.id,
      aud: hubId,
      htm: request.method.toUpperCase(),
      htu: request.target,
      pur: request.purpose,
      iat: Math.floor(Date.now() / 1000),
      jti,
      bdh: sha256b64u(request.body ?? ''),
      ...overrides.claims,
    };
    for (const name of overrides.omit ?? []) delete claims[name];
    const header = { alg: identity.alg, kid: identity.kid, typ: 'tabadol-request+jwt', ...overrides.header };
    const signature = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader(header as { alg: string })
      .sign(identity.privateKey);
    return {
      method: request.method,
      target: request.target,
      ...(request.body !== undefined ? { body: request.body } : {}),
      headers: {
        'tabadol-client': request.clientHeader ?? identity.id,
        'tabadol-purpose': request.purpose,
        'tabadol-signature': signature,
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      jti: typeof claims.jti === 'string' ? claims.jti : jti,
      signature,
    };
  };

  const jwks = async (hub = 0): Promise<JSONWebKeySet> => (await send({ method: 'GET', target: '/.well-known/jwks.json' }, hub)).json as JSONWebKeySet;

  const verifyAnswer = async (answer: RawAnswer, requestSignature?: string): Promise<ResponseClaims> => {
    const signature = answer.headers['tabadol-signature'];
    if (!signature) throw new Error(`the answer (${answer.status}) has no Tabadol-Signature`);
    const { payload, protectedHeader } = await compactVerify(signature, createLocalJWKSet(await jwks()), { algorithms: ['ES256', 'EdDSA'] });
    if (protectedHeader.typ !== 'tabadol-response+jwt') throw new Error(`response typ is ${String(protectedHeader.typ)}`);
    const claims = JSON.parse(new TextDecoder().decode(payload)) as ResponseClaims;
    const problems: string[] = [];
    if (claims.iss !== hubId) problems.push(`iss ${claims.iss}`);
    if (claims.sts !== answer.status) problems.push(`sts ${claims.sts} ≠ ${answer.status}`);
    if (claims.bdh !== sha256b64u(answer.body)) problems.push('bdh does not match the body');
    if (claims.jti !== answer.headers['tabadol-request-id']) problems.push('jti ≠ Tabadol-Request-Id');
    if (requestSignature !== undefined && claims.rqh !== sha256b64u(requestSignature)) problems.push('rqh does not bind the request');
    if (typeof claims.iat !== 'number') problems.push('no iat');
    if (problems.length > 0) throw new Error(`the hub's answer does not verify: ${problems.join('; ')}`);
    return claims;
  };

  const stubProvider = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<StubServer> => {
    const server = createServer(handler);
    servers.push(server);
    const url = await listen(server);
    return { url, close: () => closeServer(server) };
  };

  const closedPortUrl = async (): Promise<string> => {
    const server = createServer();
    const url = await listen(server);
    await closeServer(server);
    return url;
  };

  const logRow = async (seq: string): Promise<LogRow | undefined> =>
    (await db.query<LogRow>('SELECT seq, request_id, client, service, operation, purpose, status, problem FROM message_log WHERE seq = $1', [seq])).rows[0];

  let world: ExchangeWorld | undefined;
  try {
    const providerKey = await generateMemberKey('ES256', 'metle');
    await registerMember(db, { id: provider, name: 'METLE qualification BTP (test)', jwks: { keys: [providerKey.publicJwk] }, actor });
    signingKeys.set(provider, providerKey.privateJwk);
    const mef = await registerConsumer(mefId, 'ES256');
    const mi = await registerConsumer(miId, 'EdDSA');
    const noConvention = await registerConsumer(noConventionId, 'ES256');
    const portal = await registerConsumer(portalId, 'ES256');
    // The demo conventions as committed (MEF, MI, and the citizen portal's transparency one), signed and activated.
    for (const [providerFolder, service, consumer] of [
      ['MA.GOV.METLE.qualification-btp', 'classification', mefId],
      ['MA.GOV.METLE.qualification-btp', 'classification', miId],
      ['MA.GOV.HUB.transparency', 'accesses', portalId],
    ] as const) {
      await activate(join(contractsDir, providerFolder, service, 'conventions', `${toFolderName(consumer)}.yaml`), { sync: false });
    }
    await bindService(db, { serviceId: btpService, binding: { kind: 'http', baseUrl: simulator.url, timeoutMs: 5000 }, actor });
    await sync();

    world = {
      hubId,
      hubs,
      processes: running,
      urls,
      db,
      simulator,
      contractsDir,
      hubKeyFile,
      dataDirs,
      schema,
      queuePrefix,
      logs,
      mef,
      mi,
      noConvention,
      portal,
      providerKey,
      registerConsumer,
      async addKey(consumer, alg = 'ES256') {
        const key = await generateMemberKey(alg, `rot${consumer.keys.length}`);
        await addMemberKeys(db, { id: consumer.id, jwks: { keys: [key.publicJwk] }, actor });
        consumer.keys.push(key);
        await sync();
        return key;
      },
      writeConvention,
      activate,
      async addConvention(spec, opts) {
        return activate(writeConvention(spec), opts);
      },
      bind,
      loadAdapter(name, binding) {
        if (asProcesses) throw new Error('an adapter binding lives in its hub process: not with hub processes (bind an HTTP service instead)');
        for (const hub of hubs) hub.services.adapters.register(name, binding);
      },
      sync,
      sign,
      send,
      verifyAnswer,
      jwks,
      stubProvider,
      closedPortUrl,
      logRow,
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
  return world;
}
