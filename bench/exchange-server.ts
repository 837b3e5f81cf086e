// Server child for bench/exchange.ts: the BTP simulator (sim), a bare Hono + undici pass-through proxy (proxy), or the hub with its bench world (hub); prints its port.
import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { Pool, type Dispatcher } from 'undici';
import { startBtpSimulator } from '../adapters/btp-qualification/simulator.ts';
import { btpServiceId, demoSubsystems } from '../adapters/demo/world.ts';
import { loadConfig } from '../src/config.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { activateConvention } from '../src/conventions/store.ts';
import { memberKeyResolver } from '../src/identity/key-resolvers.ts';
import { bindService } from '../src/exchange/bindings.ts';
import { toFolderName } from '../src/identity/ids.ts';
import { registerMember } from '../src/identity/members.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub } from '../src/runtime.ts';
import { benchWorld, readyMarker } from './exchange-world.ts';
import { exitWithParent } from './lib.ts';

const host = '127.0.0.1';
const actor = 'bench-exchange';
const contractsDir = fileURLToPath(new URL('../contracts/', import.meta.url));

interface Running {
  port: number;
  close(): Promise<void>;
}

function listen(fetch: Parameters<typeof serve>[0]['fetch']): Promise<ServerType> {
  return new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, port: 0, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}

async function startSimulator(): Promise<Running> {
  // No hub signature required: GET /bench/fixed then takes the simulator's fast path (bytes from memory).
  const simulator = await startBtpSimulator({ host });
  return { port: Number(new URL(simulator.url).port), close: () => simulator.close() };
}

// The hub's own list (src/exchange/pipeline.ts): hop-by-hop headers never go upstream.
const notForwarded = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect']);
const servicePrefix = `/x/v1/${btpServiceId}`;

/** Arm (b): the hub's HTTP stack (Hono on @hono/node-server, undici Pool with the Forwarder's settings) and none of its checks. */
async function startProxy(upstreamUrl: string): Promise<Running> {
  const upstream = new URL(upstreamUrl);
  const pool = new Pool(upstream.origin, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 5000 });
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.all(`${servicePrefix}/*`, async (c) => {
    const incoming = c.env.incoming;
    const target = incoming.url ?? c.req.path;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined && !notForwarded.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const method = c.req.method as Dispatcher.HttpMethod;
    const response = await pool.request({
      method,
      path: `${upstream.pathname === '/' ? '' : upstream.pathname}${target.slice(servicePrefix.length)}`,
      headers,
      body: method === 'GET' || method === 'HEAD' ? null : incoming,
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    const body = new Uint8Array(await response.body.arrayBuffer());
    const contentType = response.headers['content-type'];
    return c.body(body, response.statusCode as 200, typeof contentType === 'string' ? { 'content-type': contentType } : {});
  });
  const server = await listen(app.fetch);
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await closeServer(server);
      await pool.close();
    },
  };
}

async function newSubsystemKey(): Promise<{ privateJwk: JWK; publicJwks: { keys: JWK[] } }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = `bench-${(await calculateJwkThumbprint(publicJwk)).slice(0, 12)}`;
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' }, publicJwks: { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] } };
}

function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

function conventionYaml(): string {
  const w = benchWorld;
  return [
    '# Benchmark convention (bench/exchange.ts): the load generator may call getFixed; a quota so large that it is never reached, yet counted.',
    `id: ${toFolderName(w.provider)}.${w.service}--${toFolderName(w.consumer)}`,
    'version: 1',
    'title: Banc de mesure du hub (aucune donnée réelle)',
    `provider: ${w.provider}`,
    `service: ${w.service}`,
    `consumer: ${w.consumer}`,
    'purposes:',
    `  - code: ${w.purpose}`,
    '    description: Mesurer le coût du hub par échange sous charge.',
    '    legalBasis: Aucune (données fictives, banc de mesure).',
    'operations:',
    `  - operationId: ${w.operationId}`,
    '    fields:',
    ...w.fields.map((f) => `      - ${f}`),
    '    subjects:',
    '      - type: ice',
    '        in: response',
    '        name: ice',
    'quota:',
    '  count: 1000000000',
    '  windowSeconds: 60',
    `validFrom: "${day(-1)}"`,
    `validUntil: "${day(365)}"`,
    'logBodies: false',
    '',
  ].join('\n');
}

/** Arm (c): the hub as `tabadol serve` composes it (HTTP and workers, no plug-ins), on DATABASE_URL and REDIS_URL, with its bench world. */
async function startBenchHub(dataDir: string, simulatorUrl: string, queuePrefix: string): Promise<Running> {
  const config = loadConfig({
    PORT: '0',
    HOST: host,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DEMO: 'off',
    DATABASE_URL: process.env['DATABASE_URL'],
    REDIS_URL: process.env['REDIS_URL'],
  });
  if (!config.DATABASE_URL || !config.REDIS_URL) throw new Error('the hub arm needs DATABASE_URL and REDIS_URL');
  const hub = await startHub(config, { logger: createLogger(config.LOG_LEVEL), http: true, workers: true, plugins: [], queuePrefix });
  try {
    if (hub.url === undefined) throw new Error('the hub started without an HTTP server');
    const { db, services } = hub;
    const w = benchWorld;
    const provider = await newSubsystemKey();
    const consumer = await newSubsystemKey();
    const providerName = demoSubsystems.find((s) => s.id === w.provider)?.name ?? w.provider;
    await registerMember(db, { id: w.provider, name: providerName, jwks: provider.publicJwks, actor });
    await registerMember(db, { id: w.consumer, name: w.consumerName, jwks: consumer.publicJwks, actor });

    // The service's real OpenAPI (its bytes are what the convention signs), a bench convention beside it.
    const serviceDir = join(dataDir, 'bench', 'contracts', toFolderName(w.provider), w.service);
    mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
    copyFileSync(join(contractsDir, toFolderName(w.provider), w.service, 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
    const yamlPath = join(serviceDir, 'conventions', `${toFolderName(w.consumer)}.yaml`);
    writeFileSync(yamlPath, conventionYaml());
    await signConvention(yamlPath, { signer: w.provider, privateJwk: provider.privateJwk, role: 'provider', hubId: config.HUB_ID });
    await signConvention(yamlPath, { signer: w.consumer, privateJwk: consumer.privateJwk, role: 'consumer', hubId: config.HUB_ID });
    await activateConvention(db, yamlPath, { keyring: services.keyring, resolveKey: memberKeyResolver(db), actor });
    await bindService(db, { serviceId: w.serviceId, binding: { kind: 'http', baseUrl: simulatorUrl, timeoutMs: 5000 }, actor });
    // A reload already under way when we wrote may have read the old registry: reload until the world is visible.
    for (let attempt = 0; ; attempt++) {
      await services.directory.reload();
      await services.conventions.reload();
      if (services.directory.client(w.consumer) && services.directory.binding(w.serviceId) && services.conventions.find(w.consumer, w.provider, w.service)) break;
      if (attempt >= 50) throw new Error('the bench world (consumer, binding, convention) is not visible to the hub after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    writeFileSync(w.consumerKeyFile(dataDir), `${JSON.stringify(consumer.privateJwk)}\n`, { mode: 0o600 });
    return { port: Number(new URL(hub.url).port), close: () => hub.close() };
  } catch (err) {
    await hub.close();
    throw err;
  }
}

async function main(): Promise<void> {
  const [arm, ...args] = process.argv.slice(2);
  let running: Running;
  if (arm === 'sim') running = await startSimulator();
  else if (arm === 'proxy' && args[0]) running = await startProxy(args[0]);
  else if (arm === 'hub' && args[0] && args[1] && args[2]) running = await startBenchHub(args[0], args[1], args[2]);
  else {
    process.stderr.write('usage: exchange-server.ts sim | proxy UPSTREAM_URL | hub DATA_DIR SIMULATOR_URL QUEUE_PREFIX\n');
    process.exit(2);
  }

  exitWithParent(`exchange-server (${arm})`, () => running.close());

  process.stdout.write(`${readyMarker} ${running.port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`exchange-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
