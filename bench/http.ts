// HTTP benchmark (npm run bench:http): GET /healthz rps through the hub's full middleware stack vs a bare Hono app, interleaved rounds, ratio hub/bare,
// both in requests/s and in server CPU per request (the second holds on a machine that other work keeps busy).
import autocannon from 'autocannon';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchChildren, cpuProfileArgs, median, processCpu, round1, unsteady, parseLoadOptions, percentile, reportHeader, round2, table, writeReport, type BenchServer, type LoadArmSummary, type LoadOptions, type LoadRun } from './lib.ts';

type Arm = 'bare' | 'hub';

type Options = LoadOptions;

interface Run extends LoadRun<Arm> {
  requests: number;
  /** The server child's CPU time (user + system) per completed response, in µs. */
  serverCpuUs: number;
}

interface ArmSummary extends LoadArmSummary {
  medianCpuUs: number;
}

/** Must match the marker printed by bench/http-server.ts. */
const readyMarker = 'TABADOL_BENCH_READY';
const target = 0.8;
const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = dirname(benchDir);
const serverFile = join(benchDir, 'http-server.ts');
const resultsDir = join(benchDir, 'results');

const children = new BenchChildren('bench:http');

const parseOptions = (argv: string[]): Options =>
  parseLoadOptions(argv, {
    command: 'bench:http',
    defaults: { duration: 5, connections: 32, rounds: 3, warmup: 1 },
    connections: 'keep-alive connections',
    rounds: 'interleaved bare/hub rounds',
    cpuProf: 'write V8 CPU profiles of the server children to bench/results/profiles/<arm>-<time>/',
  });

/** Starts bench/http-server.ts in a child process of its own, so the load generator never shares its event loop. */
async function startServer(arm: Arm, options: Options): Promise<BenchServer> {
  const serverArgs: string[] = [arm];
  const dataDir = arm === 'hub' ? children.tempDir('tabadol-bench-') : undefined;
  if (dataDir !== undefined) serverArgs.push(dataDir);
  const nodeArgs = options.cpuProf ? cpuProfileArgs(resultsDir, arm) : [];
  const server = await children.startServer({ label: arm, file: serverFile, args: serverArgs, marker: readyMarker, cwd: rootDir, nodeArgs });
  if (dataDir !== undefined) void server.exited.then(() => children.removeTempDir(dataDir));
  return server;
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
    const serverBefore = processCpu(server.pid);
    const started = process.hrtime.bigint();
    const result = await autocannon({ url, connections: options.connections, duration: options.duration, pipelining: 1, setupClient });
    const elapsedUs = Number(process.hrtime.bigint() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const serverAfter = processCpu(server.pid);
    const serverUs = serverAfter.user + serverAfter.system - serverBefore.user - serverBefore.system;
    const sorted = Float64Array.from(latencies).sort();
    const run: Run = {
      round,
      arm,
      // Completed 2xx responses over the measured window: failures do not count as throughput.
      rps: result['2xx'] / result.duration,
      p50Ms: round2(percentile(sorted, 0.5)),
      p99Ms: round2(percentile(sorted, 0.99)),
      requests: result.requests.total,
      serverCpuUs: result['2xx'] > 0 ? round1(serverUs / result['2xx']) : Number.NaN,
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
    medianCpuUs: round1(median(mine.map((r) => r.serverCpuUs))),
    runs: mine.map((r) => Math.round(r.rps)),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  const backends = `${process.env['DATABASE_URL'] ? 'postgres (DATABASE_URL)' : 'embedded PGlite'}, ${process.env['REDIS_URL'] ? 'redis (REDIS_URL)' : 'in-process queue'}`;
  process.stdout.write(
    `bench:http  GET /healthz  ${options.connections} connections, keep-alive, ${options.warmup} s warm-up + ${options.duration} s per run, ${options.rounds} rounds (bare, hub interleaved)\n` +
      `node ${process.version}, ${cpus().length} × ${cpuModel}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; hub on ${backends}\n\n`,
  );

  const runs: Run[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const arm of ['bare', 'hub'] as const) {
      const run = await measure(arm, round, options);
      runs.push(run);
      process.stdout.write(
        `  round ${round} ${arm.padEnd(4)} ${Math.round(run.rps).toString().padStart(7)} rps  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  server cpu ${run.serverCpuUs.toFixed(1)} µs/req  loadgen cpu ${Math.round(run.loadgenCpu * 100)}%` +
          (run.non2xx + run.errors > 0 ? `  (non-2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts})` : '') +
          '\n',
      );
    }
  }

  const bare = summarize(runs, 'bare');
  const hub = summarize(runs, 'hub');
  const ratio = hub.medianRps / bare.medianRps;
  // What one core would serve of each, from their CPU per request: the throughput ratio of two CPU-bound processes,
  // which holds when other work takes cores from the run (the requests/s ratio then measures the scheduler too).
  const cpuRatio = bare.medianCpuUs / hub.medianCpuUs;
  const failures = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);

  process.stdout.write(
    '\n' +
      table(
        ['arm', 'median rps', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'runs (rps)'],
        [bare, hub].map((s, i) => [i === 0 ? 'bare' : 'hub', Math.round(s.medianRps).toString(), s.medianP50Ms.toFixed(2), s.medianP99Ms.toFixed(2), s.medianCpuUs.toFixed(1), s.runs.join(', ')]),
      ) +
      '\n\n',
  );
  if (failures > 0) process.stdout.write(`WARNING: ${failures} non-2xx responses or connection errors; the figures are suspect.\n`);
  if (runs.some((r) => r.loadgenCpu > 0.9)) {
    process.stdout.write('note: the load generator was near one full core in some runs; the bare figure may be capped by it (the ratio is then flattered).\n');
  }
  const noisy = unsteady(bare.runs) || unsteady(hub.runs);
  if (noisy) process.stdout.write('WARNING: the runs of an arm differ by more than 50 %: the machine was not quiet, and neither ratio is evidence (rerun on a quiet machine).\n');
  const verdict = (r: number) => (r >= target ? 'met' : `UNDER by ${((target - r) * 100).toFixed(1)} points`) + (noisy ? ' (suspect: unsteady runs)' : '');
  process.stdout.write(
    `ratio hub/bare, requests/s           = ${ratio.toFixed(2)} (target >= ${target}) ${verdict(ratio)}\n` +
      `ratio hub/bare, CPU per request (b/h) = ${cpuRatio.toFixed(2)} (target >= ${target}) ${verdict(cpuRatio)}  (${bare.medianCpuUs.toFixed(1)} / ${hub.medianCpuUs.toFixed(1)} µs; stack cost ${(hub.medianCpuUs - bare.medianCpuUs).toFixed(1)} µs/req)\n`,
  );

  const report = {
    ...reportHeader('http-healthz'),
    loadAverage: loadavg().map(round2),
    backends,
    options: { ...options, pipelining: 1, keepAlive: true, path: '/healthz', loadGenerator: 'autocannon' },
    summary: {
      bare: { medianRps: Math.round(bare.medianRps), medianP50Ms: bare.medianP50Ms, medianP99Ms: bare.medianP99Ms, medianCpuUs: bare.medianCpuUs },
      hub: { medianRps: Math.round(hub.medianRps), medianP50Ms: hub.medianP50Ms, medianP99Ms: hub.medianP99Ms, medianCpuUs: hub.medianCpuUs },
      ratio: Number(ratio.toFixed(4)),
      cpuRatio: Number(cpuRatio.toFixed(4)),
      target,
      meetsTarget: ratio >= target,
      cpuMeetsTarget: cpuRatio >= target,
      unsteadyRuns: noisy,
    },
    runs: runs.map((r) => ({ ...r, rps: Math.round(r.rps), loadgenCpu: Number(r.loadgenCpu.toFixed(3)) })),
  };
  const file = writeReport(resultsDir, 'http', report);
  process.stdout.write(`results written to ${relative(process.cwd(), file)}\n`);
}

children.run(main);
