// HTTP benchmark (npm run bench:http): GET /healthz rps through the hub's full middleware stack vs a bare Hono app, interleaved rounds, ratio hub/bare.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { awaitReadyPort, childStopper, median, percentile, positiveInt, round2, table } from './lib.ts';

type Arm = 'bare' | 'hub';

interface Options {
  duration: number;
  connections: number;
  rounds: number;
  warmup: number;
  cpuProf: boolean;
}

interface Run {
  round: number;
  arm: Arm;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU the load generator (this process) used during the measured run, as a share of one core. */
  loadgenCpu: number;
}

interface ArmSummary {
  medianRps: number;
  medianP50Ms: number;
  medianP99Ms: number;
  runs: number[];
}

/** Must match the marker printed by bench/http-server.ts. */
const readyMarker = 'TABADOL_BENCH_READY';
const target = 0.8;
const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = dirname(benchDir);
const serverFile = join(benchDir, 'http-server.ts');
const resultsDir = join(benchDir, 'results');

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** Last resort, synchronous (it also runs from the 'exit' event): kill what is left, remove the hubs' data folders. */
function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Asks every server to stop (SIGTERM), waits up to 5 s, then kills what is left. */
async function stopAll(): Promise<void> {
  const alive = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.race([
    Promise.all(
      alive.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    ),
    new Promise<void>((resolve) => setTimeout(resolve, 5000).unref()),
  ]);
  killAll();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench:http: ${signal}, stopping the servers\n`);
    void stopAll().finally(() => process.exit(130));
  });
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      [
        'usage: npm run bench:http -- [--duration S] [--connections N] [--rounds N] [--warmup S] [--cpu-prof]',
        '  --duration     seconds measured per run (default 5)',
        '  --connections  keep-alive connections (default 32)',
        '  --rounds       interleaved bare/hub rounds (default 3)',
        '  --warmup       seconds of unmeasured load before each run (default 1)',
        '  --cpu-prof     write V8 CPU profiles of the server children to bench/results/profiles/<arm>-<time>/',
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  return {
    duration: positiveInt('duration', values.duration, 5),
    connections: positiveInt('connections', values.connections, 32),
    rounds: positiveInt('rounds', values.rounds, 3),
    warmup: positiveInt('warmup', values.warmup, 1),
    cpuProf: values['cpu-prof'],
  };
}

interface Server {
  port: number;
  stop(): Promise<void>;
}

/** Starts bench/http-server.ts in a child process of its own, so the load generator never shares its event loop. */
function startServer(arm: Arm, options: Options): Promise<Server> {
  const nodeArgs = ['--import', 'tsx'];
  if (options.cpuProf) {
    // One folder per server: V8 writes a profile per thread (the main one is the largest; tsx's loader runs in another).
    const dir = join(resultsDir, 'profiles', `${arm}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const serverArgs: string[] = [arm];
  let dataDir: string | undefined;
  if (arm === 'hub') {
    dataDir = mkdtempSync(join(tmpdir(), 'tabadol-bench-'));
    tempDirs.add(dataDir);
    serverArgs.push(dataDir);
  }
  const child = spawn(process.execPath, [...nodeArgs, serverFile, ...serverArgs], {
    cwd: rootDir,
    env: process.env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    children.delete(child);
    if (dataDir !== undefined) {
      rmSync(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    }
  });

  const stop = childStopper(child, exited);
  return awaitReadyPort(child, arm, readyMarker, stop).then((port) => ({ port, stop }));
}

async function checkHealthz(url: string, arm: Arm): Promise<void> {
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200 || !body.includes('"ok"')) throw new Error(`${arm}: GET /healthz answered ${res.status} ${body}`);
}

async function measure(arm: Arm, round: number, options: Options): Promise<Run> {
  const server = await startServer(arm, options);
  try {
    const url = `http://127.0.0.1:${server.port}/healthz`;
    await checkHealthz(url, arm);
    await autocannon({ url, connections: options.connections, duration: options.warmup, pipelining: 1 });
    // autocannon's own histogram keeps whole milliseconds; keep each 2xx latency (a float, in ms) for finer percentiles.
    const latencies: number[] = [];
    const setupClient = (client: autocannon.Client): void => {
      client.on('response', (status: number, _bytes: number, durationMs: number) => {
        if (status >= 200 && status < 300) latencies.push(durationMs);
      });
    };
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const result = await autocannon({ url, connections: options.connections, duration: options.duration, pipelining: 1, setupClient });
    const elapsedUs = Number(process.hrtime.bigint() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const sorted = Float64Array.from(latencies).sort();
    const run: Run = {
      round,
      arm,
      // Completed 2xx responses over the measured window: failures do not count as throughput.
      rps: result['2xx'] / result.duration,
      p50Ms: round2(percentile(sorted, 0.5)),
      p99Ms: round2(percentile(sorted, 0.99)),
      requests: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      loadgenCpu: (cpu.user + cpu.system) / elapsedUs,
    };
    return run;
  } finally {
    await server.stop();
  }
}

function summarize(runs: Run[], arm: Arm): ArmSummary {
  const mine = runs.filter((r) => r.arm === arm);
  return {
    medianRps: median(mine.map((r) => r.rps)),
    medianP50Ms: round2(median(mine.map((r) => r.p50Ms))),
    medianP99Ms: round2(median(mine.map((r) => r.p99Ms))),
    runs: mine.map((r) => Math.round(r.rps)),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  const backends = `${process.env['DATABASE_URL'] ? 'postgres (DATABASE_URL)' : 'embedded PGlite'}, ${process.env['REDIS_URL'] ? 'redis (REDIS_URL)' : 'in-process queue'}`;
  process.stdout.write(
    `bench:http  GET /healthz  ${options.connections} connections, keep-alive, ${options.warmup} s warm-up + ${options.duration} s per run, ${options.rounds} rounds (bare, hub interleaved)\n` +
      `node ${process.version}, ${cpus().length} × ${cpuModel}; hub on ${backends}\n\n`,
  );

  const runs: Run[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const arm of ['bare', 'hub'] as const) {
      const run = await measure(arm, round, options);
      runs.push(run);
      process.stdout.write(
        `  round ${round} ${arm.padEnd(4)} ${Math.round(run.rps).toString().padStart(7)} rps  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  loadgen cpu ${Math.round(run.loadgenCpu * 100)}%` +
          (run.non2xx + run.errors > 0 ? `  (non-2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts})` : '') +
          '\n',
      );
    }
  }

  const bare = summarize(runs, 'bare');
  const hub = summarize(runs, 'hub');
  const ratio = hub.medianRps / bare.medianRps;
  const failures = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);

  process.stdout.write(
    '\n' +
      table(
        ['arm', 'median rps', 'p50 ms', 'p99 ms', 'runs (rps)'],
        [bare, hub].map((s, i) => [i === 0 ? 'bare' : 'hub', Math.round(s.medianRps).toString(), s.medianP50Ms.toFixed(2), s.medianP99Ms.toFixed(2), s.runs.join(', ')]),
      ) +
      '\n\n',
  );
  if (failures > 0) process.stdout.write(`WARNING: ${failures} non-2xx responses or connection errors; the figures are suspect.\n`);
  if (runs.some((r) => r.loadgenCpu > 0.9)) {
    process.stdout.write('note: the load generator was near one full core in some runs; the bare figure may be capped by it (the ratio is then flattered).\n');
  }
  const verdict = ratio >= target ? 'meets target' : `UNDER TARGET by ${((target - ratio) * 100).toFixed(1)} points`;
  process.stdout.write(`ratio hub/bare = ${ratio.toFixed(2)} (target >= ${target}) ${verdict}\n`);

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'http.json');
  const report = {
    benchmark: 'http-healthz',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: { model: cpuModel, count: cpus().length },
    backends,
    options: { ...options, pipelining: 1, keepAlive: true, path: '/healthz', loadGenerator: 'autocannon' },
    summary: {
      bare: { medianRps: Math.round(bare.medianRps), medianP50Ms: bare.medianP50Ms, medianP99Ms: bare.medianP99Ms },
      hub: { medianRps: Math.round(hub.medianRps), medianP50Ms: hub.medianP50Ms, medianP99Ms: hub.medianP99Ms },
      ratio: Number(ratio.toFixed(4)),
      target,
      meetsTarget: ratio >= target,
    },
    runs: runs.map((r) => ({ ...r, rps: Math.round(r.rps), loadgenCpu: Number(r.loadgenCpu.toFixed(3)) })),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`results written to ${relative(process.cwd(), file)}\n`);
}

main().then(
  async () => {
    await stopAll();
    process.exit(0);
  },
  async (err: unknown) => {
    process.stderr.write(`bench:http failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);
