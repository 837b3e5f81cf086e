// Exchange benchmark (npm run bench:exchange): pre-signed GET getFixed on (a) the simulator, (b) a bare proxy, (c) the hub on PostgreSQL + Redis; interleaved rounds, medians, CPU per exchange vs the signature floor.
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JSONWebKeySet } from 'jose';
import { loadClientIdentity, signRequest, verifyResponse, type ClientIdentity } from '../src/client/index.ts';
import { benchWorld, readyMarker } from './exchange-world.ts';
import { BenchChildren, cpuProfileArgs, median, parseLoadOptions, percentile, reportHeader, round1, round2, table, writeReport, type LoadArmSummary, type LoadOptions, type LoadRun } from './lib.ts';

type Arm = 'direct' | 'proxy' | 'hub';
type ServerKind = 'sim' | 'proxy' | 'hub';

const arms: readonly Arm[] = ['direct', 'proxy', 'hub'];
const armLabel: Record<Arm, string> = { direct: '(a) simulator direct', proxy: '(b) bare proxy', hub: '(c) hub pipeline' };

const targets = {
  /** c/b: the hub's throughput as a share of the bare proxy's. */
  minRatio: 0.3,
  /** Hub CPU per exchange, as a multiple of the floor (one ES256 verify + one ES256 sign + the bare proxy's CPU per request). */
  maxCpuFloorMultiple: 1.5,
  /** Hub p99 at most the bare proxy's p99 plus this many ms. */
  maxP99ExtraMs: 5,
};

const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';
const defaultRedisUrl = 'redis://127.0.0.1:6379';
const hubId = 'MA/GOV/HUB/core';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = dirname(benchDir);
const serverFile = join(benchDir, 'exchange-server.ts');
const resultsDir = join(benchDir, 'results');

type Options = LoadOptions;

interface Run extends LoadRun<Arm> {
  /** Responses received in the measured window, whatever their status. */
  responses: number;
  ok: number;
  /** Status code → count, for every response that was not 2xx (warm-up included). */
  refusals: Record<string, number>;
  /** CPU time (user + system) per completed response, in µs, of each server child; the arm's own server is `server`. */
  cpuUsPerRequest: { server: number; serverSystem: number; simulator: number; backends: number };
  /** Pre-signed requests that had to be sent twice because the pool ran out (the hub refuses them: 409). */
  poolReused: number;
}

interface ArmSummary extends LoadArmSummary {
  medianCpuUs: number;
  /** Of which in the kernel (system time). */
  medianSystemCpuUs: number;
  medianSimulatorCpuUs: number;
  medianBackendsCpuUs: number;
}

interface Server {
  kind: ServerKind;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Children, temporary folders, the bench database and Redis keys: everything is removed on the way out.

const children = new BenchChildren('bench:exchange');
const started: Server[] = [];

/** Stops the hub first (it flushes its message log), then the others, then drops the database and the Redis keys. */
async function stopAll(): Promise<void> {
  for (const server of [...started].sort((x, y) => (x.kind === 'hub' ? -1 : y.kind === 'hub' ? 1 : 0))) {
    await server.stop().catch(() => undefined); // a server that fails to stop is killed by stopAll below
  }
  await children.stopAll();
}

// ---------------------------------------------------------------------------------------------------------------
// Options

function parseOptions(argv: string[]): Options {
  return parseLoadOptions(argv, {
    command: 'bench:exchange',
    defaults: { duration: 10, connections: 32, rounds: 3, warmup: 2 },
    connections: 'keep-alive connections, the same for every arm',
    rounds: 'interleaved rounds of a, b, c',
    cpuProf: 'write V8 CPU profiles of the proxy and hub children to bench/results/profiles/exchange-<arm>-<time>/',
    more: [
      'environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a fresh database is created beside it and dropped),',
      '             REDIS_URL (default redis://127.0.0.1:6379; a unique key prefix, removed at the end)',
    ],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Server children

async function startServer(kind: ServerKind, args: string[], options: Options, env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const nodeArgs = options.cpuProf && kind !== 'sim' ? cpuProfileArgs(resultsDir, `exchange-${kind}`) : [];
  const child = await children.startServer({ label: kind, file: serverFile, args: [kind, ...args], marker: readyMarker, cwd: rootDir, env, nodeArgs });
  const server: Server = { kind, port: child.port, pid: child.pid, stop: child.stop };
  started.push(server);
  return server;
}

// ---------------------------------------------------------------------------------------------------------------
// CPU accounting from /proc (user + system time of every thread of a process)

const clockTicks = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** CPU time used so far by a process (all its threads), user and system, in µs (resolution 1/CLK_TCK s); 0 when it is gone. */
function processCpu(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields that matter come after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 (utime) and 15 (stime) of proc(5), counted from 3 (state) here.
    return { user: (Number(fields[11]) / clockTicks) * 1e6, system: (Number(fields[12]) / clockTicks) * 1e6 };
  } catch {
    return { user: 0, system: 0 };
  }
}

function processCpuUs(pid: number): number {
  const { user, system } = processCpu(pid);
  return user + system;
}

/** The PostgreSQL and Redis server processes on this machine (shared with whatever else uses them: informative only). */
function backendPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'postgres' || comm.startsWith('redis-server')) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function backendsCpuUs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// The signature floor: one ES256 verification plus one ES256 signature with node:crypto, in CPU time.

interface Floor {
  verifyUs: number;
  signUs: number;
  iterations: number;
}

function measureFloor(iterations = 4000): Floor {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // A signing input the size of a real request JWS (header.payload, base64url).
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'bench-0123456789ab', typ: 'tabadol-request+jwt' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({ iss: benchWorld.consumer, aud: hubId, htm: 'GET', htu: benchWorld.exchangePath, pur: benchWorld.purpose, iat: 1_800_000_000, jti: '6f1c2f4e-8a4b-4c1e-9d7a-2b3c4d5e6f70', bdh: '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU' }),
  ).toString('base64url');
  const input = Buffer.from(`${header}.${payload}`);
  const signature = cryptoSign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const cpuUs = (fn: () => void, n: number): number => {
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / n;
  };
  const doSign = () => {
    cryptoSign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  };
  const doVerify = () => {
    if (!cryptoVerify('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('floor: the signature does not verify');
  };
  cpuUs(doSign, iterations / 10);
  cpuUs(doVerify, iterations / 10);
  return { signUs: cpuUs(doSign, iterations), verifyUs: cpuUs(doVerify, iterations), iterations };
}

// ---------------------------------------------------------------------------------------------------------------
// Pre-signed requests

type SignedHeaders = Record<string, string>;

/** Signs n requests as the bench consumer, exactly as src/client does, each with its own jti and a fresh iat. */
async function signPool(identity: ClientIdentity, n: number): Promise<SignedHeaders[]> {
  const pool: SignedHeaders[] = [];
  const batch = 512;
  for (let i = 0; i < n; i += batch) {
    const signed = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () => signRequest({ identity, hubId, method: 'GET', target: benchWorld.exchangePath, purpose: benchWorld.purpose })),
    );
    for (const s of signed) pool.push(s.headers);
  }
  return pool;
}

/** Hands out pre-signed headers in order; past the end it starts again (the hub then refuses the replays: counted). */
class RequestPool {
  private next = 0;
  reused = 0;

  constructor(private readonly headers: SignedHeaders[]) {
    if (headers.length === 0) throw new Error('an empty request pool');
  }

  take(): SignedHeaders {
    const i = this.next++;
    if (i >= this.headers.length) this.reused++;
    return this.headers[i % this.headers.length] as SignedHeaders;
  }

  get used(): number {
    return this.next;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements

interface LoadResult {
  latencies: number[];
  statuses: Map<number, number>;
  result: autocannon.Result;
}

async function load(url: string, path: string, pool: RequestPool, connections: number, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const setupClient = (client: autocannon.Client): void => {
    client.on('response', (status: number, _bytes: number, durationMs: number) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) latencies.push(durationMs);
    });
  };
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    setupClient,
    // Each request is built from the next pre-signed headers: nothing is signed while the load runs.
    requests: [{ method: 'GET', path, setupRequest: (request: autocannon.Request) => ({ ...request, headers: { ...request.headers, ...pool.take() } }) }],
  });
  return { latencies, statuses, result };
}

interface Bench {
  options: Options;
  identity: ClientIdentity;
  servers: Record<ServerKind, Server>;
  /** Headers reused in a loop by (a) and (b), which check nothing; (c) gets a fresh pool for every run. */
  sharedPool: SignedHeaders[];
  backendPids: number[];
}

function armTarget(bench: Bench, arm: Arm): { url: string; path: string; server: Server } {
  const server = arm === 'direct' ? bench.servers.sim : arm === 'proxy' ? bench.servers.proxy : bench.servers.hub;
  return { url: `http://127.0.0.1:${server.port}`, path: arm === 'direct' ? benchWorld.providerPath : benchWorld.exchangePath, server };
}

async function measure(bench: Bench, arm: Arm, round: number, poolSize: number): Promise<Run> {
  const { options } = bench;
  const { url, path, server } = armTarget(bench, arm);
  const pool = new RequestPool(arm === 'hub' ? await signPool(bench.identity, poolSize) : bench.sharedPool);
  const refusals: Record<string, number> = {};
  const countRefusals = (statuses: Map<number, number>) => {
    for (const [status, count] of statuses) if (status < 200 || status >= 300) refusals[String(status)] = (refusals[String(status)] ?? 0) + count;
  };

  const warm = await load(url, path, pool, options.connections, options.warmup);
  countRefusals(warm.statuses);

  const simPid = bench.servers.sim.pid;
  const cpuBefore = { server: processCpu(server.pid), sim: processCpuUs(simPid), backends: backendsCpuUs(bench.backendPids), loadgen: process.cpuUsage() };
  const startedAt = process.hrtime.bigint();
  const measured = await load(url, path, pool, options.connections, options.duration);
  const elapsedUs = Number(process.hrtime.bigint() - startedAt) / 1000;
  const loadgen = process.cpuUsage(cpuBefore.loadgen);
  const serverCpu = processCpu(server.pid);
  const serverSystemUs = serverCpu.system - cpuBefore.server.system;
  const serverUs = serverCpu.user - cpuBefore.server.user + serverSystemUs;
  const simUs = processCpuUs(simPid) - cpuBefore.sim;
  const backendsUs = backendsCpuUs(bench.backendPids) - cpuBefore.backends;
  countRefusals(measured.statuses);

  const { result } = measured;
  const responses = [...measured.statuses.values()].reduce((a, b) => a + b, 0);
  const ok = result['2xx'];
  const sorted = Float64Array.from(measured.latencies).sort();
  const perRequest = (us: number) => (responses > 0 ? round1(us / responses) : Number.NaN);
  return {
    round,
    arm,
    // Completed 2xx responses over the measured window: refusals and failures do not count as throughput.
    rps: ok / result.duration,
    p50Ms: round2(percentile(sorted, 0.5)),
    p99Ms: round2(percentile(sorted, 0.99)),
    responses,
    ok,
    non2xx: result.non2xx,
    refusals,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuUsPerRequest: { server: perRequest(serverUs), serverSystem: perRequest(serverSystemUs), simulator: perRequest(simUs), backends: perRequest(arm === 'direct' ? 0 : backendsUs) },
    loadgenCpu: (loadgen.user + loadgen.system) / elapsedUs,
    // (a) and (b) loop over a shared pool by design (they check nothing): only the hub's reuse means anything.
    poolReused: arm === 'hub' ? pool.reused : 0,
  };
}

function summarize(runs: Run[], arm: Arm): ArmSummary {
  const mine = runs.filter((r) => r.arm === arm);
  return {
    medianRps: median(mine.map((r) => r.rps)),
    medianP50Ms: round2(median(mine.map((r) => r.p50Ms))),
    medianP99Ms: round2(median(mine.map((r) => r.p99Ms))),
    medianCpuUs: round1(median(mine.map((r) => r.cpuUsPerRequest.server))),
    medianSystemCpuUs: round1(median(mine.map((r) => r.cpuUsPerRequest.serverSystem))),
    medianSimulatorCpuUs: round1(median(mine.map((r) => r.cpuUsPerRequest.simulator))),
    medianBackendsCpuUs: round1(median(mine.map((r) => r.cpuUsPerRequest.backends))),
    runs: mine.map((r) => Math.round(r.rps)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Set-up: a fresh database, a Redis prefix, the three servers, and one checked call on each arm.

async function createDatabase(adminUrl: string): Promise<string> {
  const name = `tabadol_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  children.onCleanup(async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function removeRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

/** One call per arm before any load: a 200 with the expected body, and for the hub a response signature that verifies. */
async function checkArms(bench: Bench): Promise<Record<Arm, number>> {
  const bytes = {} as Record<Arm, number>;
  const jwksResponse = await fetch(`http://127.0.0.1:${bench.servers.hub.port}/.well-known/jwks.json`);
  const jwks = (await jwksResponse.json()) as JSONWebKeySet;
  for (const arm of arms) {
    const { url, path } = armTarget(bench, arm);
    const { headers, jti } = await signRequest({ identity: bench.identity, hubId, method: 'GET', target: benchWorld.exchangePath, purpose: benchWorld.purpose });
    const res = await fetch(`${url}${path}`, { headers });
    const body = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(body);
    if (res.status !== 200) throw new Error(`${armLabel[arm]}: GET ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    const parsed = JSON.parse(text) as { description?: unknown; padding?: unknown; qualifications?: Array<{ qualification?: { libelle?: unknown } }> };
    if (arm === 'hub') {
      await verifyResponse({ jwks, hubId, clientId: benchWorld.consumer, requestSignature: headers['tabadol-signature'] ?? '', jti, status: res.status, signature: res.headers.get('tabadol-signature'), body });
      if (parsed.description !== undefined || parsed.qualifications?.[0]?.qualification?.libelle !== undefined || parsed.padding === undefined) {
        throw new Error(`the hub's answer is not minimised to the convention's fields: ${text.slice(0, 300)}`);
      }
      if (!res.headers.get('tabadol-log-id')) throw new Error('the hub answered without Tabadol-Log-Id');
    } else if (parsed.description === undefined) {
      throw new Error(`${armLabel[arm]}: not the simulator's fixed answer: ${text.slice(0, 300)}`);
    }
    bytes[arm] = body.byteLength;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const databaseUrl = process.env['DATABASE_URL'] || defaultDatabaseUrl;
  const redisUrl = process.env['REDIS_URL'] || defaultRedisUrl;
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  process.stdout.write(
    `bench:exchange  GET ${benchWorld.operationId} (${benchWorld.serviceId})  ${options.connections} connections, keep-alive, ${options.warmup} s warm-up + ${options.duration} s per run, ${options.rounds} round${options.rounds === 1 ? '' : 's'} (a, b, c interleaved)\n` +
      `node ${process.version}, ${cpus().length} × ${cpuModel}; hub on PostgreSQL + Redis; load generator, simulator, proxy, hub, PostgreSQL and Redis share the machine\n\n`,
  );

  // The floor first, on a quiet machine (nothing started yet).
  const floor = measureFloor();
  process.stdout.write(`signature floor (node:crypto, CPU time, ${floor.iterations} each): ES256 verify ${floor.verifyUs.toFixed(1)} µs + ES256 sign ${floor.signUs.toFixed(1)} µs = ${(floor.verifyUs + floor.signUs).toFixed(1)} µs\n`);

  const benchDatabaseUrl = await createDatabase(databaseUrl);
  const queuePrefix = `tabadol-bench-${randomBytes(6).toString('hex')}`;
  children.onCleanup(async () => {
    await removeRedisKeys(redisUrl, queuePrefix);
  });
  const dataDir = children.tempDir('tabadol-bench-exchange-');

  const sim = await startServer('sim', [], options);
  const simUrl = `http://127.0.0.1:${sim.port}`;
  const [proxy, hub] = await Promise.all([
    startServer('proxy', [simUrl], options),
    startServer('hub', [dataDir, simUrl, queuePrefix], options, { ...process.env, DATABASE_URL: benchDatabaseUrl, REDIS_URL: redisUrl }),
  ]);
  const identity = await loadClientIdentity(benchWorld.consumer, benchWorld.consumerKeyFile(dataDir));
  const bench: Bench = {
    options,
    identity,
    servers: { sim, proxy, hub },
    sharedPool: await signPool(identity, 20_000),
    backendPids: backendPids(),
  };
  const answerBytes = await checkArms(bench);
  process.stdout.write(
    `servers: simulator pid ${sim.pid}, proxy pid ${proxy.pid}, hub pid ${hub.pid} (database ${new URL(benchDatabaseUrl).pathname.slice(1)}, Redis prefix ${queuePrefix})\n` +
      `answer bytes: (a) ${answerBytes.direct}, (b) ${answerBytes.proxy}, (c) ${answerBytes.hub} (minimised to the convention's fields, signed)\n\n`,
  );

  const runs: Run[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const arm of arms) {
      // The hub's pool must cover warm-up and run without a single reuse: sized from the fastest the hub (or, before it
      // ran, the bare proxy, which does strictly less) has gone, with a margin.
      const hubRuns = runs.filter((r) => r.arm === 'hub').map((r) => r.rps);
      const proxyRuns = runs.filter((r) => r.arm === 'proxy' && r.round === round).map((r) => r.rps);
      const expectedRps = hubRuns.length > 0 ? Math.max(...hubRuns) * 1.5 : Math.max(...proxyRuns, 1000) * 1.2;
      const poolSize = Math.ceil(expectedRps * (options.warmup + options.duration)) + 2000;
      const run = await measure(bench, arm, round, poolSize);
      runs.push(run);
      const failures = Object.entries(run.refusals).map(([status, n]) => `${n} × ${status}`);
      process.stdout.write(
        `  round ${round} ${arm.padEnd(6)} ${Math.round(run.rps).toString().padStart(6)} rps  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  ` +
          `server cpu ${run.cpuUsPerRequest.server.toFixed(1)} µs/req (system ${run.cpuUsPerRequest.serverSystem.toFixed(1)}; simulator ${run.cpuUsPerRequest.simulator.toFixed(1)})  loadgen cpu ${Math.round(run.loadgenCpu * 100)}%` +
          (failures.length + run.errors + run.timeouts > 0 ? `  NON-2XX ${failures.join(', ') || 0}, errors ${run.errors}, timeouts ${run.timeouts}` : '') +
          (arm === 'hub' && run.poolReused > 0 ? `  (pre-signed pool ran out: ${run.poolReused} requests replayed)` : '') +
          '\n',
      );
    }
  }

  const summary = { direct: summarize(runs, 'direct'), proxy: summarize(runs, 'proxy'), hub: summarize(runs, 'hub') };
  const ratioCB = summary.hub.medianRps / summary.proxy.medianRps;
  const ratioCA = summary.hub.medianRps / summary.direct.medianRps;
  const floorUs = floor.verifyUs + floor.signUs + summary.proxy.medianCpuUs;
  const cpuMultiple = summary.hub.medianCpuUs / floorUs;
  const p99Limit = summary.proxy.medianP99Ms + targets.maxP99ExtraMs;
  const failures = runs.reduce((n, r) => n + Object.values(r.refusals).reduce((a, b) => a + b, 0) + r.errors + r.timeouts, 0);

  process.stdout.write(
    '\n' +
      table(
        ['arm', 'median rps', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'of which system', 'simulator µs/req', 'runs (rps)'],
        arms.map((arm) => {
          const s = summary[arm];
          return [armLabel[arm], Math.round(s.medianRps).toString(), s.medianP50Ms.toFixed(2), s.medianP99Ms.toFixed(2), s.medianCpuUs.toFixed(1), s.medianSystemCpuUs.toFixed(1), s.medianSimulatorCpuUs.toFixed(1), s.runs.join(', ')];
        }),
      ) +
      '\n\n' +
      `c/b = ${ratioCB.toFixed(2)}   c/a = ${ratioCA.toFixed(2)}   b/a = ${(summary.proxy.medianRps / summary.direct.medianRps).toFixed(2)}\n` +
      `floor = ES256 verify ${floor.verifyUs.toFixed(1)} µs + ES256 sign ${floor.signUs.toFixed(1)} µs + proxy (b) CPU ${summary.proxy.medianCpuUs.toFixed(1)} µs/req = ${floorUs.toFixed(1)} µs\n` +
      `hub CPU per exchange = ${summary.hub.medianCpuUs.toFixed(1)} µs = ${cpuMultiple.toFixed(2)} × floor` +
      ` (PostgreSQL + Redis, machine-wide: ${summary.hub.medianBackendsCpuUs.toFixed(1)} µs per exchange more)\n\n`,
  );
  if (failures > 0) process.stdout.write(`WARNING: ${failures} non-2xx responses, connection errors or timeouts (see NON-2XX above); the figures are suspect.\n`);
  if (runs.some((r) => r.loadgenCpu > 0.9)) process.stdout.write('note: the load generator was near one full core in some runs; that arm may be capped by it.\n');
  if (options.cpuProf) process.stdout.write('note: --cpu-prof slows the profiled children (proxy, hub); use these figures for the profile, not against the targets.\n');

  const verdicts = [
    { name: `c/b >= ${targets.minRatio}`, value: `${ratioCB.toFixed(2)}`, pass: ratioCB >= targets.minRatio },
    {
      name: `hub CPU per exchange <= ${targets.maxCpuFloorMultiple} × floor (${(targets.maxCpuFloorMultiple * floorUs).toFixed(1)} µs)`,
      value: `${summary.hub.medianCpuUs.toFixed(1)} µs = ${cpuMultiple.toFixed(2)} × floor`,
      pass: cpuMultiple <= targets.maxCpuFloorMultiple,
    },
    { name: `hub p99 <= (b) p99 + ${targets.maxP99ExtraMs} ms (${p99Limit.toFixed(2)} ms)`, value: `${summary.hub.medianP99Ms.toFixed(2)} ms`, pass: summary.hub.medianP99Ms <= p99Limit },
  ];
  process.stdout.write('targets:\n');
  for (const v of verdicts) process.stdout.write(`  ${v.pass ? 'PASS ' : 'UNDER'}  ${v.name}: ${v.value}\n`);

  const report = {
    ...reportHeader('exchange-getFixed'),
    backends: 'PostgreSQL (fresh database) + Redis (unique prefix)',
    options: { ...options, pipelining: 1, keepAlive: true, loadGenerator: 'autocannon, pre-signed requests (signRequest), one unique jti per request to the hub', operation: benchWorld.operationId, fields: benchWorld.fields },
    answerBytes,
    floor: { verifyUs: round1(floor.verifyUs), signUs: round1(floor.signUs), proxyCpuUs: summary.proxy.medianCpuUs, totalUs: round1(floorUs) },
    summary: {
      direct: { ...summary.direct, medianRps: Math.round(summary.direct.medianRps) },
      proxy: { ...summary.proxy, medianRps: Math.round(summary.proxy.medianRps) },
      hub: { ...summary.hub, medianRps: Math.round(summary.hub.medianRps) },
      ratioCB: Number(ratioCB.toFixed(4)),
      ratioCA: Number(ratioCA.toFixed(4)),
      hubCpuFloorMultiple: Number(cpuMultiple.toFixed(3)),
      failures,
    },
    targets: {
      ratioCB: { target: targets.minRatio, value: Number(ratioCB.toFixed(4)), pass: verdicts[0]?.pass ?? false },
      hubCpu: { target: `<= ${targets.maxCpuFloorMultiple} × floor`, limitUs: round1(targets.maxCpuFloorMultiple * floorUs), valueUs: summary.hub.medianCpuUs, pass: verdicts[1]?.pass ?? false },
      hubP99: { target: `<= proxy p99 + ${targets.maxP99ExtraMs} ms`, limitMs: round2(p99Limit), valueMs: summary.hub.medianP99Ms, pass: verdicts[2]?.pass ?? false },
    },
    runs: runs.map((r) => ({ ...r, rps: Math.round(r.rps), loadgenCpu: Number(r.loadgenCpu.toFixed(3)) })),
  };
  const file = writeReport(resultsDir, 'exchange', report);
  process.stdout.write(`results written to ${relative(process.cwd(), file)}\n`);
}

children.run(main, stopAll);
