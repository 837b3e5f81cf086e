// Sync benchmark (npm run bench:sync, issue 14): a referential's changes pushed to three subscribers (HTTP simulators
// on this machine) by a hub on PostgreSQL + Redis, beside raw BullMQ (a no-op worker, as many jobs) in the same run;
// lag at a steady offered rate, with all subscribers up and with one down; and the pull side (the feed read by cursor)
// beside a raw SELECT of the feed. Options: --changes=100000 --rate=1000 --lag-seconds=10 --batch=100.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Redis } from 'ioredis';
import type { JWK } from 'jose';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { activateConvention } from '../src/conventions/store.ts';
import { readChanges } from '../src/golden/changes.ts';
import { hubSubsystems } from '../src/hub/bootstrap.ts';
import { toFolderName } from '../src/identity/ids.ts';
import { memberKeyResolver } from '../src/identity/key-resolvers.ts';
import { registerMember } from '../src/identity/members.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import type { PushBody } from '../src/sync/push.ts';
import { createSubscription, setSubscriptionState, type Subscription } from '../src/sync/subscriptions.ts';
import { FeedWriter } from '../test/helpers/change-feed.ts';
import { percentile, positiveInt, round1, round2, table } from './lib.ts';

const contractsDir = fileURLToPath(new URL('../contracts/', import.meta.url));
const subscriberId = 'MA/GOV/BENCH/sync-subscriber';
const purpose = 'bench-sync';
const actor = 'bench:sync';
const targets = { ratio: 0.3, lagP99Ms: 1000 };

interface Options {
  changes: number;
  rate: number;
  lagSeconds: number;
  batch: number;
}

function options(): Options {
  const { values } = parseArgs({ options: { changes: { type: 'string' }, rate: { type: 'string' }, 'lag-seconds': { type: 'string' }, batch: { type: 'string' } } });
  return {
    changes: positiveInt('changes', values.changes, 100_000),
    rate: positiveInt('rate', values.rate, 1000),
    lagSeconds: positiveInt('lag-seconds', values['lag-seconds'], 10),
    batch: positiveInt('batch', values.batch, 100),
  };
}

/** A subscriber simulator: answers 204 (or 503 while down), counts distinct deliveries, and keeps each one's lag. */
interface Simulator {
  url: string;
  down: boolean;
  /** Delivery ids received, per subscription. */
  received: Map<string, Set<string>>;
  /** Lag of each first arrival (ms from the change's commit to its arrival), while `recordLag`. */
  lags: number[];
  recordLag: boolean;
  close(): Promise<void>;
}

async function startSimulator(): Promise<Simulator> {
  const sim: Simulator = { url: '', down: false, received: new Map(), lags: [], recordLag: false, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (sim.down) return void res.writeHead(503).end();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PushBody;
      const now = Date.now();
      let seen = sim.received.get(body.subscription);
      if (!seen) sim.received.set(body.subscription, (seen = new Set()));
      for (const d of body.deliveries) {
        if (seen.has(d.id)) continue;
        seen.add(d.id);
        if (sim.recordLag) sim.lags.push(now - Date.parse(d.at));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sim.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/changes`;
  sim.close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return sim;
}

/** The subscriber, and a convention between it and the companies referential allowing listChanges (the hub signs as provider). */
async function benchWorld(hub: Hub, dataDir: string): Promise<void> {
  const { db, services } = hub;
  const { generateKeyPair, exportJWK } = await import('jose');
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const consumerJwk: JWK = { ...(await exportJWK(privateKey)), kid: 'bench-sync', alg: 'ES256', use: 'sig' };
  await registerMember(db, { id: subscriberId, name: 'Banc de mesure: abonné (aucune donnée réelle)', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench-sync', alg: 'ES256', use: 'sig' }] }, actor });
  const provider = hubSubsystems(hub.config.HUB_ID).referentials;
  const serviceDir = join(dataDir, 'contracts', toFolderName(provider), 'companies');
  mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
  copyFileSync(join(contractsDir, toFolderName(provider), 'companies', 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
  const yamlPath = join(serviceDir, 'conventions', `${toFolderName(subscriberId)}.yaml`);
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  writeFileSync(yamlPath, [
    `id: ${toFolderName(provider)}.companies--${toFolderName(subscriberId)}`, 'version: 1', 'title: Banc de mesure de la synchronisation',
    `provider: ${provider}`, 'service: companies', `consumer: ${subscriberId}`,
    'purposes:', `  - code: ${purpose}`, '    description: Mesurer la synchronisation.', '    legalBasis: Aucune (données fictives).',
    'operations:', '  - operationId: listChanges', '    fields:', '      - changes.record.attributes.ice', '      - changes.record.attributes.nameFr',
    'quota:', '  count: 1000000', '  windowSeconds: 60', `validFrom: "${day(-1)}"`, `validUntil: "${day(365)}"`, 'logBodies: false', '',
  ].join('\n'));
  const hubJwk: JWK = { ...(services.keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: services.keyring.current.kid, alg: 'ES256' };
  await signConvention(yamlPath, { signer: provider, privateJwk: hubJwk, role: 'provider', hubId: hub.config.HUB_ID });
  await signConvention(yamlPath, { signer: subscriberId, privateJwk: consumerJwk, role: 'consumer', hubId: hub.config.HUB_ID });
  await activateConvention(db, yamlPath, { keyring: services.keyring, resolveKey: memberKeyResolver(db), actor });
  await services.conventions.reload();
  if (!services.conventions.find(subscriberId, provider, 'companies')) throw new Error('the bench convention is not visible to the hub');
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Push throughput: `changes` written at once, delivered to every simulator; deliveries per second end to end. */
async function pushThroughput(hub: Hub, sims: Simulator[], subscribe: (url: string) => Promise<Subscription>, o: Options): Promise<{ deliveries: number; seconds: number; perSecond: number }> {
  const subs = await Promise.all(sims.map((s) => subscribe(s.url)));
  const feed = new FeedWriter(hub.db, { keys: 10_000, idPrefix: 'tput-' });
  const started = performance.now();
  for (let left = o.changes; left > 0; left -= 10_000) await feed.append(Math.min(10_000, left));
  await waitFor('every delivery', () => sims.every((s, i) => (s.received.get(subs[i]?.id ?? '')?.size ?? 0) >= o.changes), 30 * 60_000);
  const seconds = (performance.now() - started) / 1000;
  for (const sub of subs) await setSubscriptionState(hub.db, sub.id, 'ended', actor);
  const deliveries = o.changes * sims.length;
  return { deliveries, seconds, perSecond: deliveries / seconds };
}

/** Raw BullMQ on the same Redis: one queue per subscriber, as many no-op jobs as deliveries, a worker each (concurrency 1). */
async function rawBullmq(redisUrl: string, prefix: string, queues: number, jobsEach: number): Promise<{ jobs: number; seconds: number; perSecond: number }> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  let done = 0;
  const names = Array.from({ length: queues }, (_, i) => `raw-${i}`);
  const producers = names.map((name) => new BullQueue(name, { connection, prefix }));
  const workerConnections = names.map(() => new Redis(redisUrl, { maxRetriesPerRequest: null }));
  const workers = names.map((name, i) => new BullWorker(name, async () => undefined, { connection: workerConnections[i] as Redis, prefix, concurrency: 1, removeOnComplete: { count: 0 } }));
  for (const w of workers) w.on('completed', () => done++);
  const started = performance.now();
  await Promise.all(producers.map(async (q) => {
    for (let sent = 0; sent < jobsEach; sent += 1000) await q.addBulk(Array.from({ length: Math.min(1000, jobsEach - sent) }, (_, i) => ({ name: 'noop', data: { n: sent + i } })));
  }));
  await waitFor('the raw jobs', () => done >= queues * jobsEach, 30 * 60_000);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(producers.map((q) => q.obliterate({ force: true }).then(() => q.close())));
  connection.disconnect();
  for (const c of workerConnections) c.disconnect();
  return { jobs: queues * jobsEach, seconds, perSecond: (queues * jobsEach) / seconds };
}

/** Lag at a steady offered rate: changes written every 50 ms for `lagSeconds`; each first arrival's lag, per simulator. */
async function lagAtRate(hub: Hub, sims: Simulator[], live: Simulator[], subscribe: (url: string) => Promise<Subscription>, o: Options, idPrefix: string): Promise<Array<{ p50: number; p99: number; n: number }>> {
  const subs = await Promise.all(sims.map((s) => subscribe(s.url)));
  for (const s of sims) {
    s.lags = [];
    s.recordLag = true;
  }
  const feed = new FeedWriter(hub.db, { keys: 5000, idPrefix });
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((o.rate * tickMs) / 1000));
  const ticks = Math.round((o.lagSeconds * 1000) / tickMs);
  const started = performance.now();
  for (let t = 0; t < ticks; t++) {
    await feed.append(perTick);
    const wait = started + (t + 1) * tickMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await waitFor('the live subscribers to catch up', () => live.every((s) => (s.received.get(subs[sims.indexOf(s)]?.id ?? '')?.size ?? 0) >= perTick * ticks), 10 * 60_000);
  for (const s of sims) s.recordLag = false;
  for (const sub of subs) await setSubscriptionState(hub.db, sub.id, 'ended', actor);
  return sims.map((s) => {
    const sorted = Float64Array.from(s.lags).sort();
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: sorted.length };
  });
}

/** Pull: the whole feed read by cursor (readChanges, 1,000 at a time) against the same rows and columns by a raw SELECT; each twice, alternating, best of two. */
async function pull(hub: Hub, databaseUrl: string, schema: string): Promise<{ changes: number; cursorPerSecond: number; rawPerSecond: number }> {
  const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema},public` });
  await client.connect();
  const byCursor = async () => {
    let read = 0;
    const started = performance.now();
    for (let since = 0; ;) {
      const page = await readChanges(hub.db, { since, limit: 1000 });
      if (page.changes.length === 0) break;
      read += page.changes.length;
      since = page.next;
    }
    return { read, perSecond: read / ((performance.now() - started) / 1000) };
  };
  const raw = async () => {
    let read = 0;
    const started = performance.now();
    for (let after = 0; ;) {
      const { rows } = await client.query<{ position: string }>(
        'SELECT position, referential, golden_id, version, type, payload, created_at FROM ref_changes WHERE position > $1 ORDER BY position LIMIT 1000',
        [after],
      );
      if (rows.length === 0) break;
      read += rows.length;
      after = Number(rows.at(-1)?.position);
    }
    return read / ((performance.now() - started) / 1000);
  };
  let rawBest = 0;
  let cursorBest = { read: 0, perSecond: 0 };
  for (let round = 0; round < 2; round++) {
    rawBest = Math.max(rawBest, await raw());
    const c = await byCursor();
    if (c.perSecond > cursorBest.perSecond) cursorBest = c;
  }
  await client.end();
  return { changes: cursorBest.read, cursorPerSecond: cursorBest.perSecond, rawPerSecond: rawBest };
}

async function main(): Promise<void> {
  const o = options();
  const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const tag = randomBytes(4).toString('hex');
  const schema = `bench_sync_${tag}`;
  const prefix = `bsync${tag}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tabadol-bench-sync-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DEMO: 'off', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, SYNC_TICK_MS: '20', SYNC_BACKOFF_MAX_SECONDS: '2', SYNC_CIRCUIT_SECONDS: '1' });
  const hub = await startHub(config, { logger: createLogger(config.LOG_LEVEL), http: false, workers: true, plugins: [], schema, queuePrefix: prefix });
  const sims = await Promise.all([startSimulator(), startSimulator(), startSimulator()]);
  try {
    await benchWorld(hub, dataDir);
    const subscribe = (url: string) =>
      createSubscription({ db: hub.db, findConvention: (c, p, s) => hub.services.conventions.find(c, p, s), referentials: ['companies'] }, { subscriber: subscriberId, referential: 'companies', purpose, mode: 'push', target: url, batchSize: o.batch, actor });
    process.stderr.write(`bench:sync: ${o.changes} changes to ${sims.length} subscribers (batches of ${o.batch}) on ${config.DATABASE_URL ? 'PostgreSQL' : '?'} + Redis\n`);
    const push = await pushThroughput(hub, sims, subscribe, o);
    process.stderr.write(`  push: ${Math.round(push.perSecond)} deliveries/s\n`);
    const raw = await rawBullmq(redisUrl, prefix, sims.length, o.changes);
    process.stderr.write(`  raw BullMQ: ${Math.round(raw.perSecond)} jobs/s\n`);
    const allUp = await lagAtRate(hub, sims, sims, subscribe, o, 'lag-');
    const [s1, s2, s3] = sims as [Simulator, Simulator, Simulator];
    s3.down = true;
    const oneDown = await lagAtRate(hub, sims, [s1, s2], subscribe, o, 'lagd-');
    s3.down = false;
    const pulled = await pull(hub, databaseUrl, schema);
    const ratio = push.perSecond / raw.perSecond;
    const ms = (v: number) => `${Math.round(v)} ms`;
    console.log(table(['arm', 'figure', 'detail'], [
      ['push, end to end', `${Math.round(push.perSecond)} deliveries/s`, `${push.deliveries} in ${round1(push.seconds)} s`],
      ['raw BullMQ, no-op worker', `${Math.round(raw.perSecond)} jobs/s`, `${raw.jobs} in ${round1(raw.seconds)} s`],
      ['ratio push / raw', `${round2(ratio)}`, `target ≥ ${targets.ratio}`],
      ...allUp.map((l, i) => [`lag at ${o.rate}/s, all up, subscriber ${i + 1}`, `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}`, `${l.n} deliveries; target p99 ≤ ${targets.lagP99Ms} ms`]),
      ...oneDown.slice(0, 2).map((l, i) => [`lag at ${o.rate}/s, subscriber 3 down, subscriber ${i + 1}`, `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}`, `${l.n} deliveries`]),
      ['pull, by cursor (readChanges)', `${Math.round(pulled.cursorPerSecond)} changes/s`, `${pulled.changes} changes`],
      ['pull, raw SELECT of the feed', `${Math.round(pulled.rawPerSecond)} changes/s`, `ratio ${round2(pulled.cursorPerSecond / pulled.rawPerSecond)}`],
    ]));
    const results = { at: new Date().toISOString(), options: o, push, raw, ratio, lagAllUp: allUp, lagOneDown: oneDown, pull: pulled };
    mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    writeFileSync(fileURLToPath(new URL('./results/sync.json', import.meta.url)), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    for (const s of sims) await s.close();
    await hub.close();
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    const redis = new Redis(redisUrl);
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      if ((cursor = next) === '0') break;
    }
    redis.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  // A library's handle left open (a socket in its pool) must not keep a finished benchmark running.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
