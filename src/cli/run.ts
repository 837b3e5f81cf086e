// What the admin commands share: one exit path (0 done, 1 refused with a clear line, 2 usage), the database opened and
// closed around the work, and plain or JSON output.
import { CommanderError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from '../config.ts';
import { ConventionDocumentError } from '../conventions/document.ts';
import { ConventionSigningError } from '../conventions/signing.ts';
import type { ReferentialCatalog } from '../golden/catalog.ts';
import { ConventionRefusedError } from '../conventions/store.ts';
import { AdminInputError } from '../admin/errors.ts';
import { HubKeyError } from '../identity/hub-keys.ts';
import { MemberError } from '../identity/members.ts';
import { safeUrl } from '../observability/logger.ts';
import { DatabaseUnavailableError, openDatabase, type Db } from '../storage/index.ts';
import { DataDirInUseError } from '../storage/dir-lock.ts';
import { connectLocalDb } from '../storage/local-db.ts';
import { localChannelPath } from '../storage/local-wire.ts';

/** What main.ts hands to the command modules: it alone reads the environment. */
export interface CliDeps {
  readConfig(file: string | undefined): Config;
  /** The referentials of the hub the program was built for (its parts'): what `import` contributes to. */
  referentials: ReferentialCatalog;
}

/** A refusal the command worded itself: the first line is prefixed `tabadol: `, the others (`- problem`) printed as they are. */
export class CliRefusalError extends Error {
  override name = 'CliRefusalError';
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ');

function refusalLines(err: unknown): string[] {
  if (err instanceof CliRefusalError) return err.lines;
  if (err instanceof MemberError || err instanceof AdminInputError) return [`${err.location}: ${oneLine(err.message)}`];
  if (err instanceof ConventionRefusedError) {
    // A missing or clashing version is one fact; a convention that does not verify lists each of its problems.
    if (err.reason !== 'invalid' && err.problems.length === 1) return [oneLine(err.message)];
    return ['the convention is refused:', ...err.problems.map((p) => `- ${oneLine(p)}`)];
  }
  if (err instanceof ConventionDocumentError) return [`${err.path}:`, ...err.problems.map((p) => `- ${oneLine(p)}`)];
  if (err instanceof ConventionSigningError) return [`cannot sign: ${oneLine(err.message)}`];
  if (err instanceof ConfigError || err instanceof HubKeyError) return [oneLine(err.message)];
  if (err instanceof DatabaseUnavailableError) return [`the database cannot be reached: ${oneLine(err.message)}`];
  return [oneLine(err instanceof Error ? err.message : String(err))];
}

/**
 * Wraps a command's work: whatever it prints, the process then exits 0, or 1 on a refusal (its lines on stderr), or 2
 * when commander refused the usage (it has printed why). Exiting explicitly: a driver's idle handle must not keep a
 * finished command alive.
 */
export function action<A extends unknown[]>(work: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code = 0;
    try {
      await work(...args);
    } catch (err) {
      if (err instanceof CommanderError) {
        code = err.exitCode === 0 ? 0 : 2;
      } else {
        code = 1;
        const [first, ...rest] = refusalLines(err);
        process.stderr.write([`tabadol: ${first ?? 'failed'}`, ...rest].join('\n') + '\n');
      }
    }
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(code);
  };
}

/** Adds the options every admin command takes. */
export function withConfigOption(command: Command): Command {
  return command.option('--config <file>', 'a YAML file of settings (environment variables win)');
}

/**
 * Opens the configured database (migrating it), runs the work, closes it. When a running hub holds the embedded
 * database, the work runs through that hub's local channel instead; `apiEquivalent` names the admin API call that does
 * the same, for when that channel cannot be reached either.
 */
export async function withDatabase<T>(config: Config, apiEquivalent: string | undefined, work: (db: Db) => Promise<T>): Promise<T> {
  let db: Db;
  try {
    db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 });
  } catch (err) {
    if (err instanceof DataDirInUseError) {
      // The hub that holds the embedded database runs this command's statements for us (src/storage/local-channel.ts).
      const running = await connectLocalDb(config.DATA_DIR);
      if (running) return runThenClose(running, work);
      const pid = /process (\d+)/.exec(err.message)?.[1];
      const instead = apiEquivalent ? `or use the admin API while it runs (${apiEquivalent})` : 'then run this again (this has no admin API equivalent)';
      throw new CliRefusalError([
        `the embedded database in ${config.DATA_DIR} is in use by the running hub${pid ? ` (process ${pid})` : ''}, which does not answer on ${localChannelPath(config.DATA_DIR)}: stop it first, ${instead}`,
      ]);
    }
    if (config.DATABASE_URL && err instanceof Error && !(err instanceof ConfigError)) {
      throw new CliRefusalError([`DATABASE_URL: cannot reach PostgreSQL at ${safeUrl(config.DATABASE_URL)} (${oneLine(err.message)})`]);
    }
    throw err;
  }
  return runThenClose(db, work);
}

async function runThenClose<T>(db: Db, work: (db: Db) => Promise<T>): Promise<T> {
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

/** Reads a JSON file named by an option; a refusal names the option and the file. */
export function readJsonFile(option: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliRefusalError([`${option} ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliRefusalError([`${option} ${path}: is not JSON`]);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(lines: string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

/** Columns padded to their widest cell; the last column is left as it is. */
export function printTable(header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  printLines(all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()));
}
