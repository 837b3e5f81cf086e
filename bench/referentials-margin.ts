// npm run bench:referentials-margin: the import's cost at the margin of a full referential, code against code.
//
// A full run of bench:referentials varies by several per cent from one hour to the next on one machine (docs/decisions.md
// §35), more than most changes to the import move it. This bench takes the database a full run left (a million persons,
// say) as its base, and for each revision given imports the same further persons into a fresh copy of it, in turn,
// round after round: every import starts from the same rows, the same buffers and the same statistics, so that two
// revisions differ by their code and by the machine's drift within a round only. Per import: the CLI's rows/s, the
// importer's CPU (user + system, /usr/bin/time), PostgreSQL's (every process of the bench's own server, from /proc) and
// the importer's peak RSS; per revision, the medians.
//
// It needs the bench's own server and a database bench:referentials loaded into it (`--skip-matching` will do); the
// copies are made with CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY (seconds for several GB). A revision runs from a
// git worktree of its own (`.` is this checkout as it is, uncommitted changes included), with this checkout's
// node_modules; its migrations run on its copy, so a revision older than the base's schema cannot run on it.
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchChildren, median, parseBenchArgs, positiveInt, reportHeader, table, writeReport } from './lib.ts';
import { startBenchPostgres } from './postgres.ts';
import { databaseUrl, ensureDataSet, ingest, withClient, type IngestResult } from './referentials-prepare.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = dirname(benchDir);
const cacheDir = join(benchDir, '.cache');
const resultsDir = join(benchDir, 'results');
const benchPostgresDir = join(tmpdir(), 'tabadol-bench-postgres');
const defaultBenchPostgresPort = 5499;
/** The database a full run leaves (bench:referentials, BENCH_REFERENTIALS_DB), the base's snapshot, and the copy imported into. */
const loadedName = process.env['BENCH_REFERENTIALS_DB'] || 'tabadol_bench_referentials';
const baseName = `${loadedName}_margin_base`;
const copyName = `${loadedName}_margin`;

const usage = [
  'npm run bench:referentials-margin -- --revs REV[,REV…] [--rounds 3] [--persons 100000] [--seed 2] [--snapshot] [--statements]',
  '',
  '  --revs      the revisions to compare, in the order each round runs them (git revisions; `.` is this checkout as it is)',
  '  --rounds    how many times each revision imports (default 3)',
  '  --persons   the further persons imported (default 100000, with 10 % duplicates: about 112,000 rows)',
  '  --seed      the generator seed of those persons (default 2; a full run uses 1)',
  `  --snapshot  take the base again from ${loadedName} (the first run takes it; later runs reuse it)`,
  '  --statements  the server with pg_stat_statements: each revision\'s statements by their time in the server (medians)',
  '',
  `First load the base with a full run, e.g. \`npm run bench:referentials -- --persons 1000000 --companies 1000 --vehicles 1000 --skip-matching\`.`,
  'Environment: BENCH_POSTGRES_PORT (default 5499), BENCH_REFERENTIALS_DB, as for bench:referentials.',
];

const children = new BenchChildren('bench:referentials-margin');

interface Revision {
  /** As given. */
  name: string;
  /** The commit, or `.` for this checkout. */
  commit: string;
  dir: string;
}

/** Each revision's checkout: this one for `.`, else a detached worktree sharing this checkout's node_modules. */
function checkouts(revs: readonly string[]): Revision[] {
  return revs.map((name) => {
    if (name === '.') return { name, commit: '.', dir: rootDir };
    let commit: string;
    try {
      commit = execFileSync('git', ['rev-parse', '--verify', '--quiet', `${name}^{commit}`], { cwd: rootDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      throw new Error(`--revs: ${name} is not a commit of this repository`);
    }
    const dir = join(tmpdir(), `tabadol-margin-${commit.slice(0, 12)}`);
    if (!existsSync(dir)) {
      execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { cwd: rootDir, stdio: 'ignore' });
      children.onExit(() => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: rootDir, stdio: 'ignore' }));
    }
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(rootDir, 'node_modules'), join(dir, 'node_modules'));
    return { name, commit, dir };
  });
}

async function databaseExists(serverUrl: string, name: string): Promise<boolean> {
  return withClient(serverUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0);
}

/** A fresh copy of the base, its tables and indexes loaded into shared buffers as the full run's reads found them. */
async function freshCopy(serverUrl: string, statements: boolean): Promise<string> {
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${copyName} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${copyName} TEMPLATE ${baseName} STRATEGY FILE_COPY`);
  });
  const url = databaseUrl(serverUrl, copyName);
  await withClient(url, async (c) => {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    await c.query(
      `SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')`,
    );
    if (statements) {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await c.query('SELECT pg_stat_statements_reset()');
    }
  });
  return url;
}

/** A statement of an import as pg_stat_statements counts it (top-level statements: a trigger's time is its statement's). */
interface StatementTime {
  /** pg_stat_statements' id of the normalised statement: two statements whose texts begin alike stay apart. */
  queryId: string;
  statement: string;
  calls: number;
  rows: number;
  ms: number;
}

/** The copy's statements since freshCopy reset the counts, the most time first. */
async function statementTimes(url: string): Promise<StatementTime[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ query_id: string; statement: string; calls: string; rows: string; ms: number }>(
      `SELECT queryid::text AS query_id, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS statement, calls, rows, total_exec_time AS ms
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT 15`,
    );
    return rows.map((r) => ({ queryId: r.query_id, statement: r.statement, calls: Number(r.calls), rows: Number(r.rows), ms: r.ms }));
  });
}

async function main(): Promise<void> {
  // The names go into CREATE and DROP DATABASE as identifiers: plain ones only, short enough for the suffixes (63 bytes).
  if (!/^[a-z_][a-z0-9_]{0,49}$/.test(loadedName)) throw new Error(`BENCH_REFERENTIALS_DB: ${JSON.stringify(loadedName)} is not a plain lower-case name of at most 50 characters`);
  const values = parseBenchArgs(
    process.argv.slice(2),
    { revs: { type: 'string' }, rounds: { type: 'string' }, persons: { type: 'string' }, seed: { type: 'string' }, snapshot: { type: 'boolean' }, statements: { type: 'boolean' } },
    usage,
  );
  const revs = (values.revs ?? '').split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (revs.length === 0) throw new Error(`--revs is required\n${usage.join('\n')}`);
  const rounds = positiveInt('rounds', values.rounds, 3);
  const persons = positiveInt('persons', values.persons, 100_000);
  const seed = positiveInt('seed', values.seed, 2);
  const revisions = checkouts(revs);

  const port = Number(process.env['BENCH_POSTGRES_PORT'] || defaultBenchPostgresPort);
  const statements = values.statements === true;
  const server = startBenchPostgres(benchPostgresDir, port, { hugePages: 'on', mallocTunables: true, statements });
  children.onExit(() => server.stop());
  children.onCleanup(async () => server.stop());
  if (values.snapshot || !(await databaseExists(server.url, baseName))) {
    if (!(await databaseExists(server.url, loadedName))) throw new Error(`no database ${loadedName} on the bench's server (port ${port}): load one with bench:referentials first\n${usage.join('\n')}`);
    await withClient(server.url, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${baseName} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${baseName} TEMPLATE ${loadedName} STRATEGY FILE_COPY`);
    });
    process.stdout.write(`base: ${baseName} taken from ${loadedName}\n`);
  }
  const base = await withClient(databaseUrl(server.url, baseName), async (c) => {
    const { rows } = await c.query<{ persons: number; migration: number }>(
      `SELECT (SELECT count(*) FROM ref_golden WHERE referential = 'persons' AND status = 'active')::int AS persons, (SELECT max(version) FROM schema_migrations) AS migration`,
    );
    return rows[0] as { persons: number; migration: number };
  });
  const data = await ensureDataSet(cacheDir, { persons, companies: 10, vehicles: 10, dupRate: 0.1, seed });
  const rows = data.summary.persons.records;
  process.stdout.write(
    `bench:referentials-margin  ${rows.toLocaleString('en-US')} persons rows (seed ${seed}) into a copy of ${baseName} (${base.persons.toLocaleString('en-US')} active persons, migration ${base.migration}), ` +
      `${rounds} round(s) of ${revisions.map((r) => (r.commit === '.' ? '. (this checkout)' : `${r.name} (${r.commit.slice(0, 9)})`)).join(', ')}; server: port ${port}, huge pages ${server.hugePages}` +
      `${statements ? ', pg_stat_statements loaded' : ''}\n\n`,
  );

  const runs: Array<{ round: number; revision: string; commit: string; result: IngestResult; statements?: StatementTime[] }> = [];
  for (let round = 1; round <= rounds; round++) {
    for (const revision of revisions) {
      const url = await freshCopy(server.url, statements);
      const importDataDir = children.tempDir('tabadol-bench-margin-');
      const env = { ...process.env, DATABASE_URL: url, DEMO: 'off', LOG_LEVEL: 'warn', DATA_DIR: importDataDir };
      const result = await ingest(revision.dir, 'persons', data.file('persons'), rows, env, (child) => children.track(child, { group: true }), () => server.cpuSeconds());
      children.removeTempDir(importDataDir);
      runs.push({ round, revision: revision.name, commit: revision.commit, result, ...(statements ? { statements: await statementTimes(url) } : {}) });
      process.stdout.write(
        `round ${round} ${revision.name}: ${Math.round(result.cliRowsPerSecond ?? 0)} rows/s by the CLI, importer ${result.importerCpuSeconds?.toFixed(2)} s CPU, ` +
          `PostgreSQL ${result.postgresCpuSeconds?.toFixed(2)} s, peak RSS ${result.peakRssMb} MB\n`,
      );
    }
  }
  await withClient(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${copyName} WITH (FORCE)`));

  const cell = (v: number | undefined, digits = 2) => (v === undefined ? '-' : v.toFixed(digits));
  const summary = revisions.map((revision) => {
    const mine = runs.filter((r) => r.revision === revision.name).map((r) => r.result);
    const of = (pick: (r: IngestResult) => number | undefined) => {
      const values = mine.map(pick).filter((v): v is number => v !== undefined);
      return values.length === 0 ? undefined : median(values);
    };
    return {
      revision: revision.name,
      commit: revision.commit,
      rowsPerSecond: of((r) => r.cliRowsPerSecond),
      importerCpuSeconds: of((r) => r.importerCpuSeconds),
      postgresCpuSeconds: of((r) => r.postgresCpuSeconds),
      peakRssMb: of((r) => r.peakRssMb),
    };
  });
  process.stdout.write(
    `\nmedians over ${rounds} round(s); CPU per row = (importer + PostgreSQL) / ${rows.toLocaleString('en-US')}\n` +
      table(
        ['revision', 'rows/s (CLI)', 'importer CPU s', 'PostgreSQL CPU s', 'CPU ms/row', 'peak RSS MB'],
        summary.map((s) => [
          s.commit === '.' ? '. (this checkout)' : `${s.revision} (${s.commit.slice(0, 9)})`,
          cell(s.rowsPerSecond, 0),
          cell(s.importerCpuSeconds),
          cell(s.postgresCpuSeconds),
          s.importerCpuSeconds !== undefined && s.postgresCpuSeconds !== undefined ? (((s.importerCpuSeconds + s.postgresCpuSeconds) * 1000) / rows).toFixed(3) : '-',
          cell(s.peakRssMb, 0),
        ]),
      ) +
      '\n',
  );
  if (statements) process.stdout.write(statementsReport(revisions, runs, rows));
  const file = writeReport(resultsDir, 'referentials-margin', {
    ...reportHeader('referentials-margin'),
    base: { database: loadedName, ...base },
    data: relative(rootDir, data.dir),
    rows,
    rounds,
    runs: runs.map((r) => ({ round: r.round, revision: r.revision, commit: r.commit, rowsPerSecond: r.result.cliRowsPerSecond, importerCpuSeconds: r.result.importerCpuSeconds, postgresCpuSeconds: r.result.postgresCpuSeconds, peakRssMb: r.result.peakRssMb, wallSeconds: r.result.wallSeconds, statements: r.statements })),
    summary,
  });
  process.stdout.write(`results written to ${relative(rootDir, file)}\n`);
}

/**
 * Per revision, its statements by their median time over the rounds, in µs a row. The times are the server's wall
 * clock for each statement: with the importer and the server's other backends on the same two cores, they include
 * waiting for a core, and their sum exceeds the server's CPU.
 */
function statementsReport(revisions: readonly Revision[], runs: ReadonlyArray<{ revision: string; statements?: StatementTime[] }>, rows: number): string {
  return revisions
    .map((revision) => {
      const rounds = runs.filter((r) => r.revision === revision.name).map((r) => r.statements ?? []);
      const ids = [...new Set(rounds.flat().map((s) => s.queryId))];
      const lines = ids
        .map((id) => {
          const seen = rounds.map((r) => r.find((s) => s.queryId === id)).filter((s): s is StatementTime => s !== undefined);
          return { statement: seen[0]?.statement ?? id, ms: median(seen.map((s) => s.ms)), calls: median(seen.map((s) => s.calls)), rows: median(seen.map((s) => s.rows)) };
        })
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 12);
      return (
        `\nstatements of ${revision.commit === '.' ? '. (this checkout)' : revision.name} (medians over ${rounds.length} round(s), the server's time, waits for a core included)\n` +
        table(
          ['statement', 'ms', 'µs/row', 'calls', 'rows'],
          lines.map((l) => [l.statement, l.ms.toFixed(0), ((l.ms * 1000) / rows).toFixed(1), l.calls.toFixed(0), l.rows.toFixed(0)]),
        )
      );
    })
    .join('\n') + '\n';
}

children.run(main);
