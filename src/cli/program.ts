// The `tabadol` program: serve (HTTP and workers), worker (workers only) and the admin commands. Building it has no
// side effect, so that a test can walk its commands (test/cli-commands.test.ts); src/cli/main.ts runs it.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { ReferentialCatalog } from '../golden/catalog.ts';
import { createLogger, safeUrl } from '../observability/logger.ts';
import { assertCanListen } from '../http/port-probe.ts';
import type { HubParts } from '../plugins.ts';
import type { Hub } from '../runtime.ts';
import { DatabaseUnavailableError } from '../storage/db.ts';
import { DataDirInUseError } from '../storage/dir-lock.ts';
import { registerAdminCommands } from './commands/index.ts';
import { childIndex, reportReady, resolveProcesses, superviseServe } from '../hub/supervisor.ts';

/** One line on stderr and a non-zero exit: what an operator needs when the hub cannot start. */
function fail(message: string): never {
  process.stderr.write(`tabadol: ${message}\n`);
  process.exit(1);
}

function startupFailure(err: unknown, config: Config): never {
  if (err instanceof ConfigError || err instanceof DataDirInUseError) fail(err.message);
  if (err instanceof DatabaseUnavailableError || (config.DATABASE_URL && /connect|ECONN|getaddrinfo|password|role|database .* does not exist/i.test((err as Error).message))) {
    fail(`DATABASE_URL: cannot reach PostgreSQL at ${safeUrl(config.DATABASE_URL ?? '')} (${(err as Error).message})`);
  }
  fail(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
}

function readConfig(options: { config?: string }): Config {
  try {
    // The one place that reads the environment.
    return loadConfig(process.env, options.config);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

/**
 * SIGTERM/SIGINT: stop accepting, finish in-flight work, close pools; exit within the shutdown timeout whatever happens.
 * Installed before the hub starts, so that a signal during start-up also ends in an orderly stop.
 */
function handleSignals(config: Config, log: (msg: string) => void): { started(hub: Hub): void } {
  let stopping = false;
  let hub: Hub | undefined;
  const shutdown = (running: Hub) =>
    running.close().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`tabadol: error during shutdown: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining`);
    const deadline = setTimeout(() => {
      process.stderr.write(`tabadol: shutdown took longer than ${config.SHUTDOWN_TIMEOUT_SECONDS} s; exiting anyway\n`);
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_SECONDS * 1000);
    deadline.unref();
    if (hub) void shutdown(hub);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return {
    started(running) {
      hub = running;
      if (stopping) void shutdown(running);
    },
  };
}

interface RunOptions {
  config?: string;
  processes?: string;
}

/** `serve` with more than one process: this one supervises, its children serve (src/hub/supervisor.ts). */
async function supervise(config: Config, options: RunOptions): Promise<boolean> {
  let processes: number;
  try {
    processes = resolveProcesses(options.processes, config);
  } catch (err) {
    startupFailure(err, config);
  }
  if (processes === 1) return false;
  try {
    await assertCanListen(config.PORT, config.HOST);
  } catch (err) {
    startupFailure(err, config);
  }
  await superviseServe(config, processes, createLogger(config.LOG_LEVEL));
  return true;
}

// Long because it is one start in order: settings, the supervisor's branch, the signals, the hub, the banner.
async function run(role: 'serve' | 'worker', options: RunOptions, parts: HubParts): Promise<void> {
  const config = readConfig(options);
  const child = childIndex();
  if (role === 'serve' && child === undefined && (await supervise(config, options))) return;
  // A supervised child's every line says which child wrote it (pino's base here carries no pid).
  const logger = child === undefined ? createLogger(config.LOG_LEVEL) : createLogger(config.LOG_LEVEL).child({ process: child, pid: process.pid });
  const signals = handleSignals(config, (msg) => logger.info({ role }, msg));
  let hub: Hub;
  try {
    // Before startHub creates DATA_DIR, the database and the hub key: a busy port leaves nothing behind (a supervised
    // child shares the port its supervisor checked).
    if (role === 'serve' && child === undefined) await assertCanListen(config.PORT, config.HOST);
    // Under a supervisor the plugins (the demo's simulators) run in the first child only.
    const childParts = child !== undefined && child > 1 ? { ...parts, plugins: [] } : parts;
    // The hub's modules (HTTP, workers, adapters' runtimes) are loaded here, not with the program: an admin command
    // such as `import` starts without them (0.65 to 0.8 s of module loading through tsx).
    const { startHub } = await import('../runtime.ts');
    hub = await startHub(config, { ...childParts, logger, http: role === 'serve', workers: true });
  } catch (err) {
    startupFailure(err, config);
  }
  const storage = config.DATABASE_URL ? `PostgreSQL ${safeUrl(config.DATABASE_URL)}` : `embedded PGlite in ${config.DATA_DIR}/pg`;
  const queue = config.REDIS_URL ? `Redis ${safeUrl(config.REDIS_URL)}` : 'in-process queue';
  logger.info({ role, hubId: config.HUB_ID, storage, queue, url: hub.url }, 'tabadol started');
  if (hub.url) {
    const lines = [
      `API reference  ${hub.url}/docs`,
      `OpenAPI        ${hub.url}/openapi.json`,
      `health         ${hub.url}/healthz   readiness ${hub.url}/readyz   metrics ${hub.url}/metrics`,
      `storage        ${storage}; queue: ${queue}`,
      ...hub.banners,
    ];
    // The banner is for the person at the terminal: stderr, so that stdout carries only the JSON log lines a collector
    // parses. A supervised child hands it to its supervisor, which prints it once all children listen.
    if (child !== undefined) reportReady(hub.url, lines);
    else process.stderr.write([`tabadol ${config.HUB_ID} is listening on ${hub.url}`, ...lines.map((line) => `  ${line}`), ''].join('\n'));
  } else {
    process.stderr.write(`tabadol worker for ${config.HUB_ID} is running (${storage}; queue: ${queue})\n`);
  }
  signals.started(hub);
}

/** The version an operator quotes in a report: package.json's, the one source of it. */
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The program, for a hub of these parts (bin/parts.ts composes them; none by default: a test walking the commands). */
export function buildProgram(parts: HubParts = {}): Command {
  const program = new Command('tabadol').description('tabadol: the data-exchange hub for Moroccan administrations').version(version, '-V, --version', 'print the version').showHelpAfterError();
  // Usage errors exit 2 (refusals exit 1): set before the commands are added, which inherit it.
  program.exitOverride();
  const configOption = new Option('--config <file>', 'a YAML file of settings (environment variables win)');
  program
    .command('serve')
    .description('serve HTTP and run the workers')
    .addOption(configOption)
    .addOption(new Option('--processes <n>', 'HTTP processes on one port (default PROCESSES, else 1 on the embedded database and the number of cores on PostgreSQL)'))
    .action((opts: RunOptions) => run('serve', opts, parts));
  program.command('worker').description('run the workers only (outbox relay and queue consumers)').addOption(configOption).action((opts: { config?: string }) => run('worker', opts, parts));
  registerAdminCommands(program, { readConfig: (file) => loadConfig(process.env, file), referentials: new ReferentialCatalog(parts.referentials) });
  return program;
}
