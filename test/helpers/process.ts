// Runs the `tabadol` command as an operator would, capturing its output, for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/tabadol.js', import.meta.url));

export interface RunningHub {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** Sends a signal and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** The environment for a child: the test process's own minus the hub's settings, plus the given ones. */
export function hubEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['PORT', 'HUB_ID', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'DEMO', 'HUB_KEY_FILE', 'PROCESSES']) delete env[key];
  // The demo world is tested on its own (test/demo.e2e.test.ts); elsewhere it would only slow every start down. One
  // process unless a test asks for more (test/supervisor.test.ts): on PostgreSQL the default is one per core.
  return { ...env, LOG_LEVEL: 'warn', DEMO: 'off', PROCESSES: '1', ...settings };
}

export function runTabadol(args: string[], settings: Record<string, string>) {
  const child = spawn(process.execPath, [bin, ...args], { env: hubEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Waits for the command to exit by itself (a refusal) and returns its code and output. */
export async function runToExit(args: string[], settings: Record<string, string>, timeoutMs = 30_000) {
  const run = runTabadol(args, settings);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Starts `tabadol serve` and resolves once its banner (on stderr) says the URL it listens on. */
export async function startServe(settings: Record<string, string>, timeoutMs = 60_000): Promise<RunningHub> {
  const run = runTabadol(['serve'], { PORT: '0', ...settings });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never an orphan left running after the suite: the caller gets no handle on a hub that did not start.
      run.child.kill('SIGKILL');
      reject(new Error(`serve did not start in time:\n${run.stdout()}\n${run.stderr()}`));
    }, timeoutMs);
    const onData = () => {
      const match = /is listening on (http:\/\/\S+)/.exec(run.stderr());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    run.child.stderr?.on('data', onData);
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${run.stdout()}\n${run.stderr()}`));
    });
  });
  return {
    child: run.child,
    url,
    stdout: run.stdout,
    stderr: run.stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const started = Date.now();
      if (run.child.exitCode !== null || run.child.signalCode !== null) return { code: run.child.exitCode, ms: 0 };
      run.child.kill(signal);
      // A hub that does not stop is a failure to report, never an orphan left running after the suite.
      const killer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      const code = await run.exited;
      clearTimeout(killer);
      return { code, ms: Date.now() - started };
    },
  };
}

/** A hub's stdout, each line parsed: it carries JSON log lines only (the banner goes to stderr); a plain line throws. */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new Error(`not a JSON log line on stdout: ${line}`);
      }
    });
}
