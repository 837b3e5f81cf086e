// `tabadol serve --processes N`: N HTTP processes on one port (node:cluster; the supervisor accepts the connections and
// hands them round-robin to its children), so that the hub uses every core. What must hold across processes already
// does (replay, quotas, the log chain, the outbox: PostgreSQL and Redis), which is why N > 1 needs PostgreSQL.
//
// The supervisor starts the first child alone (it migrates, creates the hub key if missing, starts the plugins: the
// demo's simulators must run once), then the others; prints the banner once all are ready; restarts a child that
// crashes (giving up on a crash loop); and on SIGTERM/SIGINT asks every child to drain, each within the shutdown
// timeout, killing what is left after it. /metrics, on any child, is the whole cluster's (cluster-metrics.ts).
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConfigError, type Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { serveClusterMetrics } from '../observability/cluster-metrics.ts';

/** The child's number (1..N) in its environment: child 1 runs the plugins. */
export const childIndexVariable = 'TABADOL_CHILD_INDEX';
const readyType = 'tabadol:ready';
/** A child that crashes this many times within the window is not restarted again: the supervisor stops. */
const crashLoop = { crashes: 5, windowMs: 60_000 };

export interface ChildReady {
  type: typeof readyType;
  url: string;
  banners: string[];
}

/** In a child, once it listens: tells the supervisor its URL and banner lines (the supervisor prints them once). */
export function reportReady(url: string, banners: string[]): void {
  process.send?.({ type: readyType, url, banners } satisfies ChildReady);
}

/** Whether this process is a supervised child, and which. */
export function childIndex(): number | undefined {
  if (!cluster.isWorker) return undefined;
  // Not a setting: the supervisor's word to its own child, set by cluster.fork below.
  // eslint-disable-next-line no-restricted-properties
  const index = Number(process.env[childIndexVariable]);
  return Number.isInteger(index) && index > 0 ? index : undefined;
}

/**
 * How many processes to run: --processes, else PROCESSES, else 1 on the embedded database and the number of cores on
 * PostgreSQL. More than one on the embedded database is refused: PGlite's directory admits one process.
 */
export function resolveProcesses(flag: string | undefined, config: Config): number {
  let requested = config.PROCESSES;
  if (flag !== undefined) {
    if (!/^[0-9]{1,3}$/.test(flag) || Number(flag) < 1 || Number(flag) > 256) throw new ConfigError(`--processes: must be a whole number from 1 to 256, got ${JSON.stringify(flag)}`);
    requested = Number(flag);
  }
  if (!config.DATABASE_URL) {
    if (requested !== undefined && requested > 1) throw new ConfigError(`PROCESSES: ${requested} processes need PostgreSQL (DATABASE_URL); the embedded database admits one process`);
    return 1;
  }
  return requested ?? availableParallelism();
}

interface Child {
  index: number;
  worker: Worker;
  ready: Promise<ChildReady>;
  /** Set once it said ready: one stopped before that served nothing, and its signal death is no failed drain. */
  listening: boolean;
}

function forkChild(index: number): Child {
  const worker = cluster.fork({ [childIndexVariable]: String(index) });
  const ready = new Promise<ChildReady>((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if ((message as Partial<ChildReady> | null)?.type !== readyType) return;
      worker.off('exit', onExit);
      resolve(message as ChildReady);
    };
    const onExit = (code: number | null, signal: string | null) => {
      worker.off('message', onMessage);
      reject(new Error(`process ${index} exited before it was ready (${signal ?? `code ${code ?? 'none'}`})`));
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
  const child: Child = { index, worker, ready, listening: false };
  ready.then(
    () => (child.listening = true),
    () => undefined,
  );
  return child;
}

/**
 * Runs the supervisor until the children have stopped; exits the process (0 after a clean drain, 1 after a failed
 * start, a crash loop or a drain past the shutdown timeout).
 */
export async function superviseServe(config: Config, processes: number, logger: Logger): Promise<never> {
  serveClusterMetrics();
  const children = new Map<number, Child>();
  let stopping = false;
  let failedExit = false;
  const crashes = new Map<number, number[]>();

  const stopAll = (signal: NodeJS.Signals, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    failedExit ||= exitCode !== 0;
    for (const { worker } of children.values()) if (!worker.isDead()) worker.process.kill(signal);
    // Each child exits within the shutdown timeout by itself (its own deadline); one that does not is killed.
    const deadline = setTimeout(() => {
      logger.error({ timeoutSeconds: config.SHUTDOWN_TIMEOUT_SECONDS }, 'supervisor: children still running after the shutdown timeout; killing them');
      for (const { worker } of children.values()) if (!worker.isDead()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, (config.SHUTDOWN_TIMEOUT_SECONDS + 2) * 1000);
    deadline.unref();
    if (children.size === 0 || [...children.values()].every((c) => c.worker.isDead())) process.exit(failedExit ? 1 : 0);
  };

  cluster.on('exit', (worker, code, signal) => {
    const child = [...children.values()].find((c) => c.worker === worker);
    if (!child) return;
    if (stopping) {
      if (code !== 0 && child.listening) {
        failedExit = true;
        logger.warn({ process: child.index, pid: worker.process.pid, code, signal }, 'supervisor: a process did not drain cleanly');
      }
      if ([...children.values()].every((c) => c.worker.isDead())) {
        logger.info({ processes }, failedExit ? 'supervisor: stopped (a child did not drain cleanly)' : 'supervisor: stopped');
        process.exit(failedExit ? 1 : 0);
      }
      return;
    }
    const now = Date.now();
    const recent = [...(crashes.get(child.index) ?? []), now].filter((t) => now - t < crashLoop.windowMs);
    crashes.set(child.index, recent);
    if (recent.length >= crashLoop.crashes) {
      logger.error({ process: child.index, crashes: recent.length, windowSeconds: crashLoop.windowMs / 1000 }, 'supervisor: a process keeps crashing; stopping the hub');
      stopAll('SIGTERM', 1);
      return;
    }
    logger.warn({ process: child.index, pid: worker.process.pid, code, signal }, 'supervisor: a process exited; starting another');
    const replacement = forkChild(child.index);
    children.set(child.index, replacement);
    replacement.ready.then(
      () => logger.info({ process: child.index, pid: replacement.worker.process.pid }, 'supervisor: process restarted'),
      () => undefined, // its exit is handled here again
    );
  });
  process.on('SIGTERM', () => stopAll('SIGTERM', 0));
  process.on('SIGINT', () => stopAll('SIGTERM', 0));

  let first: ChildReady;
  try {
    // Alone first: migrations, the hub key file and the plugins' seeding are done once, before the others start.
    const one = forkChild(1);
    children.set(1, one);
    first = await one.ready;
    const rest = Array.from({ length: processes - 1 }, (_, i) => forkChild(i + 2));
    for (const child of rest) children.set(child.index, child);
    await Promise.all(rest.map((c) => c.ready));
  } catch (err) {
    // The child wrote why on stderr (shared with ours).
    logger.error({ err: { message: (err as Error).message } }, 'supervisor: the hub did not start');
    stopAll('SIGTERM', 1);
    return new Promise<never>(() => undefined);
  }
  if (stopping) return new Promise<never>(() => undefined);
  process.stderr.write(
    [
      `tabadol ${config.HUB_ID} is listening on ${first.url} with ${processes} processes (supervisor pid ${process.pid})`,
      ...first.banners.map((line) => `  ${line}`),
      '',
    ].join('\n'),
  );
  return new Promise<never>(() => undefined);
}
