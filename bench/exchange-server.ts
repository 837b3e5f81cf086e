// Server child for bench/exchange.ts: the BTP simulator (sim), a bare Hono + undici pass-through proxy (proxy), or the hub with its bench world (hub); prints its port.
import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { Pool, type Dispatcher } from 'undici';
import { startBtpSimulator } from '../adapters/btp-qualification/simulator.ts';
import { btpServiceId, demoSubsystems } from '../adapters/demo/world.ts';
import { bindService } from '../src/exchange/bindings.ts';
import { newForwardKeyId } from '../src/exchange/forward-proof.ts';
import { toFolderName } from '../src/identity/ids.ts';
import { registerMember } from '../src/identity/members.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub } from '../src/runtime.ts';
import { benchWorld, readyMarker } from './exchange-world.ts';
import { awaitBenchWorld, benchConventionYaml, benchHubConfig, installBenchConvention } from './hub-child.ts';
import { serveBenchChild } from './lib.ts';

const host = '127.0.0.1';
const actor = 'bench-exchange';

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

function conventionYaml(): string {
  const w = benchWorld;
  return benchConventionYaml({
    comment: 'Benchmark convention (bench/exchange.ts): the load generator may call getFixed; a quota so large that it is never reached, yet counted.',
    id: `${toFolderName(w.provider)}.${w.service}--${toFolderName(w.consumer)}`,
    title: 'Banc de mesure du hub (aucune donnée réelle)',
    provider: w.provider,
    service: w.service,
    consumer: w.consumer,
    purpose: { code: w.purpose, description: 'Mesurer le coût du hub par échange sous charge.', legalBasis: 'Aucune (données fictives, banc de mesure).' },
    operations: [
      `  - operationId: ${w.operationId}`,
      '    fields:',
      ...w.fields.map((f) => `      - ${f}`),
      '    subjects:',
      '      - type: ice',
      '        in: response',
      '        name: ice',
    ],
  });
}

/** Arm (c): the hub as `tabadol serve` composes it (HTTP and workers, no plug-ins), on DATABASE_URL and REDIS_URL, with its bench world. */
async function startBenchHub(dataDir: string, simulatorUrl: string, queuePrefix: string): Promise<Running> {
  const config = benchHubConfig(dataDir, 'the hub arm');
  const hub = await startHub(config, { logger: createLogger(config.LOG_LEVEL), http: true, workers: true, plugins: [], queuePrefix });
  try {
    if (hub.url === undefined) throw new Error('the hub started without an HTTP server');
    const { db } = hub;
    const w = benchWorld;
    const provider = await newSubsystemKey();
    const consumer = await newSubsystemKey();
    const providerName = demoSubsystems.find((s) => s.id === w.provider)?.name ?? w.provider;
    await registerMember(db, { id: w.provider, name: providerName, jwks: provider.publicJwks, actor });
    await registerMember(db, { id: w.consumer, name: w.consumerName, jwks: consumer.publicJwks, actor });

    await installBenchConvention(hub, dataDir, w, { yaml: conventionYaml(), providerJwk: provider.privateJwk, consumerJwk: consumer.privateJwk, actor });
    // The forward proof a high-volume binding would use (HS256, docs/decisions.md §24); BENCH_FORWARD_PROOF=es256 measures the default.
    const forwardProof = process.env['BENCH_FORWARD_PROOF'] === 'es256' ? {} : { forwardProof: { alg: 'HS256' as const, keyId: newForwardKeyId() } };
    await bindService(db, { serviceId: w.serviceId, binding: { kind: 'http', baseUrl: simulatorUrl, timeoutMs: 5000, ...forwardProof }, actor });
    await awaitBenchWorld(hub, w);
    // BENCH_LOG_WRITE=transaction: every log batch written as before issue 19's one-statement path (BEGIN with the
    // lock and the head's read, INSERT, COMMIT), for a before/after on the same code; MessageLog falls back to it by
    // itself when another writer moved the head, and this holds it there.
    if (process.env['BENCH_LOG_WRITE'] === 'transaction') (hub.services.log as unknown as { slowFlushes: number }).slowFlushes = Number.POSITIVE_INFINITY;
    writeFileSync(w.consumerKeyFile(dataDir), `${JSON.stringify(consumer.privateJwk)}\n`, { mode: 0o600 });
    return { port: Number(new URL(hub.url).port), close: () => hub.close() };
  } catch (err) {
    await hub.close();
    throw err;
  }
}

const [arm, ...args] = process.argv.slice(2);
const start =
  arm === 'sim' ? () => startSimulator()
  : arm === 'proxy' && args[0] ? () => startProxy(args[0] ?? '')
  : arm === 'hub' && args[0] && args[1] && args[2] ? () => startBenchHub(args[0] ?? '', args[1] ?? '', args[2] ?? '')
  : undefined;
if (!start) {
  process.stderr.write('usage: exchange-server.ts sim | proxy UPSTREAM_URL | hub DATA_DIR SIMULATOR_URL QUEUE_PREFIX\n');
  process.exit(2);
}
serveBenchChild(`exchange-server (${arm})`, readyMarker, start);
