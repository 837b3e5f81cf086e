// What the benchmarks share: option parsing, percentiles, medians, rounding, printed tables, and their server children
// (started, waited for, stopped, and never left behind), on the parent's side and on the child's.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

// ---------------------------------------------------------------------------------------------------------------
// Options

export function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  return value;
}

/** A positive number (fractions allowed: seconds, for instance). */
export function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number (got ${JSON.stringify(raw)})`);
  return value;
}

const helpOption = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * A bench's options, strictly (an unknown option is an error, not ignored): `--help` (or `-h`) prints `usage` and
 * exits 0. Values are as node:util parseArgs gives them; the bench converts them (positiveInt…).
 */
export function parseBenchArgs<const T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: readonly string[]) {
  type Config = { args: string[]; options: T & typeof helpOption; strict: true; allowPositionals: false };
  const { values } = parseArgs<Config>({ args: argv, options: { ...options, ...helpOption }, strict: true, allowPositionals: false });
  if ((values as { help?: boolean }).help) {
    process.stdout.write([...usage, ''].join('\n'));
    process.exit(0);
  }
  return values;
}

/** The options of a load benchmark (bench:http, bench:exchange): how long, how many connections, rounds, warm-up. */
export interface LoadOptions {
  duration: number;
  connections: number;
  rounds: number;
  warmup: number;
  cpuProf: boolean;
}

/** What a load benchmark says of itself in its usage: its defaults, and the words that differ from one to the other. */
export interface LoadBench {
  command: string;
  defaults: Omit<LoadOptions, 'cpuProf'>;
  connections: string;
  rounds: string;
  cpuProf: string;
  /** Options of this bench alone, each a string value (`--name VALUE` or `--name=VALUE`), with its usage line. */
  extra?: ReadonlyArray<{ name: string; usage: string }>;
  /** Lines after the options (environment variables). */
  more?: readonly string[];
}

/** The common options, and the raw values of the bench's own (`extra`), undefined when not given. */
export function parseLoadOptions(argv: string[], bench: LoadBench): LoadOptions & { extra: Record<string, string | undefined> } {
  const { defaults } = bench;
  const extra = bench.extra ?? [];
  const values = parseBenchArgs(
    argv,
    {
      duration: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      ...Object.fromEntries(extra.map((e) => [e.name, { type: 'string' as const }])),
    },
    [
      `usage: npm run ${bench.command} -- [--duration S] [--connections N] [--rounds N] [--warmup S] [--cpu-prof]${extra.map((e) => ` [--${e.name} …]`).join('')}`,
      `  --duration     seconds measured per run (default ${defaults.duration})`,
      `  --connections  ${bench.connections} (default ${defaults.connections})`,
      `  --rounds       ${bench.rounds} (default ${defaults.rounds})`,
      `  --warmup       seconds of unmeasured load before each run (default ${defaults.warmup})`,
      `  --cpu-prof     ${bench.cpuProf}`,
      ...extra.map((e) => `  --${e.name.padEnd(12)} ${e.usage}`),
      ...(bench.more ?? []),
    ],
  ) as Record<string, string | boolean | undefined>;
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    duration: positiveInt('duration', text('duration'), defaults.duration),
    connections: positiveInt('connections', text('connections'), defaults.connections),
    rounds: positiveInt('rounds', text('rounds'), defaults.rounds),
    warmup: positiveInt('warmup', text('warmup'), defaults.warmup),
    cpuProf: values['cpu-prof'] === true,
    extra: Object.fromEntries(extra.map((e) => [e.name, text(e.name)])),
  };
}

/** One measured run of a load benchmark's arm: what every load bench reports of it (each adds its own figures). */
export interface LoadRun<Arm extends string> {
  round: number;
  arm: Arm;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU the load generator (this process) used during the measured run, as a share of one core. */
  loadgenCpu: number;
}

/** An arm's runs summed up: medians, and each run's rate. */
export interface LoadArmSummary {
  medianRps: number;
  medianP50Ms: number;
  medianP99Ms: number;
  runs: number[];
}

// ---------------------------------------------------------------------------------------------------------------
// Figures and tables

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Whether an arm's runs differ so much that the machine was not quiet (other work took the cores): the largest over
 * the smallest above 1.5. A ratio of medians from such runs measures the scheduler, not the code.
 */
export function unsteady(rates: number[]): boolean {
  const positive = rates.filter((r) => r > 0);
  return positive.length > 1 && Math.max(...positive) / Math.min(...positive) > 1.5;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
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
export function processCpu(pid: number): { user: number; system: number } {
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

// ---------------------------------------------------------------------------------------------------------------
// Reports

/** What every results file (bench/results/*.json) starts with: the benchmark, when, and on what. */
export function reportHeader(benchmark: string) {
  return {
    benchmark,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: { model: cpus()[0]?.model ?? 'unknown', count: cpus().length },
  };
}

/** Writes bench/results/<name>.json (pretty JSON, a final newline) and returns its path. */
export function writeReport(resultsDir: string, name: string, report: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

// ---------------------------------------------------------------------------------------------------------------
// Server children, from the parent's side

/** Stops a benchmark child: SIGTERM, then SIGKILL if it has not exited within 15 s. */
export function childStopper(child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

/**
 * Resolves with the port a benchmark child prints as `${marker} <port>` on stdout; its other lines go to stderr,
 * prefixed with the label, so they never mix into the printed table. Rejects (and stops the child) after 120 s or
 * when the child exits first.
 */
export function awaitReadyPort(child: ChildProcess, label: string, marker: string, stop: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let buffer = '';
    let ready = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${label} server did not report ready within 120 s`));
    }, 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${label} server exited before it was ready (code ${code ?? 'null'}, signal ${signal ?? 'none'})`));
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!ready && line.startsWith(`${marker} `)) {
          ready = true;
          clearTimeout(timer);
          resolve(Number(line.slice(marker.length + 1)));
        } else if (line.trim() !== '') {
          process.stderr.write(`[${label}] ${line}\n`);
        }
      }
    });
  });
}

/** A server child, ready: the port it listens on. `stop` asks it to close (childStopper); `exited` settles when it has. */
export interface BenchServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
  exited: Promise<void>;
}

/** Node options that make a child write V8 CPU profiles into a folder of its own under `resultsDir`/profiles. */
export function cpuProfileArgs(resultsDir: string, name: string): string[] {
  // One folder per child: V8 writes a profile per thread (the main one is the largest; tsx's loader runs in another).
  const dir = join(resultsDir, 'profiles', `${name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}

/**
 * Everything a benchmark starts and must not leave behind: its children (an import's whole process group where it
 * was started detached), its temporary folders and its cleanups (a database, Redis keys), one set per bench process.
 */
export class BenchChildren {
  private readonly children = new Map<ChildProcess, { group: boolean }>();
  private readonly servers: BenchServer[] = [];
  private readonly tempDirs = new Set<string>();
  private readonly cleanups: Array<() => Promise<void>> = [];
  private readonly atExit: Array<() => void> = [];

  /** `label` prefixes what the bench writes to stderr (`bench:http`). */
  constructor(private readonly label: string) {}

  /** Follows a child until it exits; `group`: it leads a process group of its own (spawned detached), killed whole. */
  track(child: ChildProcess, options: { group?: boolean } = {}): void {
    this.children.set(child, { group: options.group ?? false });
    child.once('exit', () => this.children.delete(child));
  }

  /** A fresh temporary folder, removed by killAll if nothing removed it before (removeTempDir). */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.tempDirs.add(dir);
    return dir;
  }

  removeTempDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.tempDirs.delete(dir);
  }

  /** Work for stopAll once the children are gone, newest first (a database to drop, Redis keys to remove). */
  onCleanup(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** Synchronous work for the bench's very end (the process 'exit' event), e.g. stopping a database server it started. */
  onExit(hook: () => void): void {
    this.atExit.push(hook);
  }

  /**
   * Starts `node --import tsx FILE ARGS` (after `nodeArgs`), stdout piped for its ready line, stderr inherited, stdin
   * held open (the child exits when it ends: exitWithParent), and resolves once it printed `${marker} <port>`.
   */
  async startServer(server: { label: string; file: string; args: readonly string[]; marker: string; cwd: string; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[] }): Promise<BenchServer> {
    const child = spawn(process.execPath, [...(server.nodeArgs ?? []), '--import', 'tsx', server.file, ...server.args], {
      cwd: server.cwd,
      env: server.env ?? process.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.track(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = childStopper(child, exited);
    const port = await awaitReadyPort(child, server.label, server.marker, stop);
    if (child.pid === undefined) throw new Error(`${server.label} server has no pid`);
    const started = { port, pid: child.pid, stop, exited };
    this.servers.push(started);
    return started;
  }

  /** Last resort, synchronous (it also runs from the 'exit' event): kill what is left, remove the temporary folders. */
  killAll(): void {
    for (const [child, { group }] of this.children) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      try {
        process.kill(group ? -child.pid : child.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    this.children.clear();
    for (const dir of this.tempDirs) rmSync(dir, { recursive: true, force: true });
    this.tempDirs.clear();
  }

  /**
   * Stops the servers, newest first, each with the grace childStopper gives it; asks every other child still running
   * to stop (SIGTERM) and waits up to 5 s; kills what is left; then runs the cleanups, newest first.
   */
  async stopAll(): Promise<void> {
    for (const server of this.servers.splice(0).reverse()) await server.stop().catch(() => undefined); // killed below if it did not stop
    const alive = [...this.children].filter(([c]) => c.exitCode === null && c.signalCode === null && c.pid !== undefined);
    await Promise.race([
      Promise.all(
        alive.map(
          ([c, { group }]) =>
            new Promise<void>((resolve) => {
              c.once('exit', () => resolve());
              try {
                process.kill(group ? -(c.pid ?? 0) : (c.pid ?? 0), 'SIGTERM');
              } catch {
                resolve(); // gone meanwhile
              }
            }),
        ),
      ),
      new Promise<void>((resolve) => setTimeout(resolve, 5000).unref()),
    ]);
    this.killAll();
    while (this.cleanups.length > 0) {
      const cleanup = this.cleanups.pop();
      if (cleanup) await cleanup().catch((err: unknown) => process.stderr.write(`${this.label}: cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`));
    }
  }

  /**
   * Runs the bench's main: on success, stop (stopAll unless told otherwise) and exit 0; on failure, say why, stop and
   * exit 1; on SIGINT, SIGTERM or SIGHUP, stop and exit 130; whatever happens, killAll and the onExit hooks last.
   */
  run(main: () => Promise<void>, stop: () => Promise<void> = () => this.stopAll()): void {
    process.on('exit', () => {
      this.killAll();
      for (const hook of this.atExit) hook();
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        process.stderr.write(`${this.label}: ${signal}, stopping\n`);
        void stop().finally(() => process.exit(130));
      });
    }
    main().then(
      async () => {
        await stop();
        process.exit(0);
      },
      async (err: unknown) => {
        process.stderr.write(`${this.label} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        await stop();
        process.exit(1);
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Server children, from the child's side

/**
 * A bench server child's main: start it, exit with the parent (exitWithParent), then print `${marker} <port>` for
 * the parent's awaitReadyPort. A failure to start is printed on stderr, and the child exits 1.
 */
export function serveBenchChild(label: string, marker: string, start: () => Promise<{ port: number; close(): Promise<void> }>): void {
  start().then(
    (running) => {
      exitWithParent(label, () => running.close());
      process.stdout.write(`${marker} ${running.port}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${label}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * A bench server child's exit: on SIGTERM, SIGINT or its parent going away (the parent holds our stdin open, so its end
 * means the parent died without signalling us), close once, then exit 0, or 1 if closing failed or took over 10 s.
 */
export function exitWithParent(label: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${label}: close failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
