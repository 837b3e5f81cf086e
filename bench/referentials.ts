// Referentials benchmark (npm run bench:referentials): generated persons, companies and vehicles ingested through the
// real `tabadol import` into a fresh PostgreSQL database, then resolve and search through the exchange pipeline; each
// figure beside a raw baseline measured in the same run (COPY rows/s for ingest, pg primary-key lookups for reads).
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../referentials/generator/random.ts';
import { loadClientIdentity, TabadolClient } from '../src/client/index.ts';
import { startBenchPostgres, type HugePagesChoice } from './postgres.ts';
import { BenchChildren, parseBenchArgs, positiveInt, reportHeader, round1, round2, table, writeReport } from './lib.ts';
import { httpArm, sqlLoad, withCpu, type CpuShares, type Measured, type PlannedRequest, type SqlQuery } from './referentials-load.ts';
import {
  copyLines, databaseUrl, engineReviewBand, ensureDataSet, ingest, loadTruth, matchingQuality, recreateDatabase, referentialNames, withClient,
  type IngestResult,
} from './referentials-prepare.ts';
import { referentialsBenchWorld, referentialsReadyMarker } from './referentials-world.ts';
import { formatQuality, measureMode, SCRIPT_MODES, type MissedPair } from '../referentials/persons/quality.ts';
import type { ScriptMode } from '../referentials/generator/common.ts';
import { PERSON_THRESHOLDS } from '../referentials/persons/score.ts';

const targets = {
  batchP50Ms: 50,
  searchP99Ms: 100,
  ingestRowsPerSecond: 5000,
  ingestPeakRssMb: 500,
  /** The peak RSS target is for streaming a file of this many rows. */
  ingestRssFileRows: 1_000_000,
  precision: 0.98,
  recall: 0.95,
};

/** BENCH_REFERENTIALS_DB names another database, e.g. so that two people on one server do not drop each other's. */
const databaseName = process.env['BENCH_REFERENTIALS_DB'] || 'tabadol_bench_referentials';
const defaultBenchPostgresPort = 5499;
/** The bench's own cluster (bench/postgres.ts): outside the checkout, since PostgreSQL may run as another user. */
const benchPostgresDir = join(tmpdir(), 'tabadol-bench-postgres');
const defaultRedisUrl = 'redis://127.0.0.1:6379';
const batchItems = 1000;

const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = dirname(benchDir);
const cacheDir = join(benchDir, '.cache');
const resultsDir = join(benchDir, 'results');
const serverFile = join(benchDir, 'referentials-server.ts');

interface Options {
  persons: number;
  companies: number;
  vehicles: number;
  dupRate: number;
  seed: number;
  duration: number;
  connections: number;
  latencyConnections: number;
  reuseDb: boolean;
  matchingOnly: boolean;
  skipMatching: boolean;
  modes: readonly ScriptMode[];
  misses: boolean;
  hugePages: HugePagesChoice;
  mallocTunables: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Children (imports, the hub), the temporary folder and the Redis keys: all gone on the way out. The database stays,
// for inspection and for --reuse-db; the next run drops it.

/** Its children (the imports run in a process group of their own: /usr/bin/time and the CLI under it) and cleanups. */
const children = new BenchChildren('bench:referentials');

// ---------------------------------------------------------------------------------------------------------------
// Options

function parseOptions(argv: string[]): Options {
  const values = parseBenchArgs(
    argv,
    {
      persons: { type: 'string' },
      companies: { type: 'string' },
      vehicles: { type: 'string' },
      'dup-rate': { type: 'string' },
      seed: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      'latency-connections': { type: 'string' },
      'reuse-db': { type: 'boolean', default: false },
      'matching-only': { type: 'boolean', default: false },
      'skip-matching': { type: 'boolean', default: false },
      modes: { type: 'string' },
      misses: { type: 'boolean', default: false },
      'huge-pages': { type: 'string' },
      'malloc-tunables': { type: 'string' },
    },
    [
      'usage: npm run bench:referentials -- [--persons N] [--companies N] [--vehicles N] [--dup-rate R] [--seed S]',
      '                                     [--duration S] [--connections N] [--latency-connections N] [--reuse-db]',
      '  --persons, --companies, --vehicles  entities to generate (default 1000000, 200000, 500000); the duplicates come on top',
      '  --dup-rate             share of entities that more than one source contributes (default 0.1)',
      '  --seed                 generator seed (default 1)',
      '  --duration             seconds measured per read arm (default 10)',
      '  --connections          concurrency of the rate arms: SQL primary-key lookups and single resolve (default 16)',
      '  --latency-connections  concurrency of the latency arms: batch resolve, fuzzy search and their SQL baseline (default 2)',
      '  --reuse-db             keep the database a previous run loaded with the same data set: no COPY, no ingest',
      '  --matching-only        print the persons matching by class and script mode (in memory), then stop',
      '  --modes                the script modes matched in memory, comma-separated (default sources,both,cross,latin): at full',
      '                         scale one process per mode runs them side by side',
      '  --skip-matching        no in-memory matching (another process measures it): the data set, ingest and reads only',
      `  --misses               with it, the true pairs left apart: a count by class and whether scored or reviewed, and each`,
      `                         pair (both profiles, score, weights) in ${relative(process.cwd(), cacheDir)}/misses-<persons>-<seed>-<mode>.ndjson`,
      '  --huge-pages on|off    the bench\'s own server\'s shared memory in huge pages, reserved if root may (default on:',
      '                         off where the machine cannot; docs/decisions.md §33), or in 4 KB pages',
      '  --malloc-tunables on|off  the bench\'s own server\'s processes with glibc\'s allocator kept from giving freed memory',
      '                         back (default on: bench/postgres.ts serverMallocTunables), or with its defaults',
      `data: generated once into ${relative(process.cwd(), cacheDir)}/referentials-v3-<persons>-<companies>-<vehicles>-<dup>-<seed>/ (NDJSON)`,
      `environment: DATABASE_URL: a server on which the database ${databaseName} is dropped and created (its own database`,
      `             name is not used); without it the bench initialises (once, in ${benchPostgresDir}), starts and stops a`,
      `             PostgreSQL of its own on port BENCH_POSTGRES_PORT (default ${defaultBenchPostgresPort}) with memory settings for the data set`,
      '             (bench/postgres.ts); REDIS_URL (default redis://127.0.0.1:6379; a unique prefix, removed at the end)',
    ],
  );
  const dupRate = values['dup-rate'] === undefined ? 0.1 : Number(values['dup-rate']);
  if (!Number.isFinite(dupRate) || dupRate < 0 || dupRate > 1) throw new Error(`--dup-rate must be between 0 and 1 (got ${JSON.stringify(values['dup-rate'])})`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer (got ${JSON.stringify(values.seed)})`);
  return {
    persons: positiveInt('persons', values.persons, 1_000_000),
    companies: positiveInt('companies', values.companies, 200_000),
    vehicles: positiveInt('vehicles', values.vehicles, 500_000),
    dupRate,
    seed,
    duration: positiveInt('duration', values.duration, 10),
    connections: positiveInt('connections', values.connections, 16),
    latencyConnections: positiveInt('latency-connections', values['latency-connections'], 2),
    reuseDb: values['reuse-db'],
    matchingOnly: values['matching-only'],
    skipMatching: values['skip-matching'],
    modes: parseModes(values.modes),
    misses: values.misses,
    hugePages: onOff('huge-pages', values['huge-pages']),
    mallocTunables: onOff('malloc-tunables', values['malloc-tunables']) === 'on',
  };
}

function onOff(option: string, text: string | undefined): 'on' | 'off' {
  if (text === undefined || text === 'on') return 'on';
  if (text === 'off') return 'off';
  throw new Error(`--${option} must be on or off (got ${JSON.stringify(text)})`);
}

function parseModes(text: string | undefined): readonly ScriptMode[] {
  if (text === undefined) return SCRIPT_MODES;
  const modes = text.split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = modes.filter((m) => !(SCRIPT_MODES as readonly string[]).includes(m));
  if (modes.length === 0 || unknown.length > 0) throw new Error(`--modes takes some of ${SCRIPT_MODES.join(',')} (got ${JSON.stringify(text)})`);
  return modes as ScriptMode[];
}

// ---------------------------------------------------------------------------------------------------------------
// --misses: the true pairs a mode left apart

/** Writes each missed pair (NDJSON) and returns a count by class (hard classes only), scored or not, reviewed or not. */
function writeMisses(mode: string, options: Options, missed: readonly MissedPair[]): string {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `misses-${options.persons}-${options.seed}-${mode}.ndjson`);
  writeFileSync(file, missed.map((m) => JSON.stringify(m)).join('\n') + (missed.length > 0 ? '\n' : ''));
  const counts = new Map<string, { n: number; unscored: number; review: number }>();
  const usual = new Set(['spelling', 'no-cin', 'latin-only', 'arabic-only']);
  for (const m of missed) {
    const cls = m.classes.filter((c) => !usual.has(c)).sort().join('+') || '(spelling, script or CIN only)';
    const c = counts.get(cls) ?? { n: 0, unscored: 0, review: 0 };
    c.n++;
    if (m.score === undefined) c.unscored++;
    if (m.review) c.review++;
    counts.set(cls, c);
  }
  const rows = [...counts.entries()].sort((x, y) => y[1].n - x[1].n).map(([cls, c]) => `| ${cls} | ${c.n} | ${c.unscored} | ${c.review} |`);
  return [`missed pairs (${mode}): ${missed.length}, each in ${relative(process.cwd(), file)}`, '| classes | missed | never scored | in review |', '|---|---|---|---|', ...rows].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The hub child

/** The hub's DATA_DIR (its keys, the consumer's key, the signed convention), kept with the database for --reuse-db. */
const hubDataDir = join(cacheDir, `hub-${databaseName}`);

async function startHubChild(benchUrl: string, redisUrl: string): Promise<{ port: number; pid: number; dataDir: string; stop(): Promise<void> }> {
  const dataDir = hubDataDir;
  mkdirSync(dataDir, { recursive: true });
  const queuePrefix = `tabadol-bench-${randomBytes(6).toString('hex')}`;
  children.onCleanup(async () => {
    await removeRedisKeys(redisUrl, queuePrefix);
  });
  // BENCH_HUB_NODE_ARGS: extra node options for the hub (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
  const nodeArgs = (process.env['BENCH_HUB_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const hub = await children.startServer({
    label: 'hub',
    file: serverFile,
    args: [dataDir, queuePrefix],
    marker: referentialsReadyMarker,
    cwd: rootDir,
    env: { ...process.env, DATABASE_URL: benchUrl, REDIS_URL: redisUrl, DEMO: 'off', LOG_LEVEL: 'warn' },
    nodeArgs,
  });
  return { port: hub.port, pid: hub.pid, dataDir, stop: hub.stop };
}

async function removeRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What the reads ask for: real golden ids, CINs as sources wrote them, source references, names

interface Samples {
  goldenIds: string[];
  cins: string[];
  sources: Array<{ system: string; id: string }>;
  names: string[];
  totalPersons: number;
}

async function sample(client: pg.Client, seed: number, want: number): Promise<Samples> {
  const { rows: countRows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ref_golden WHERE referential = 'persons' AND status = 'active'`);
  const total = Number(countRows[0]?.n ?? 0);
  if (total === 0) throw new Error('no active persons golden record: the ingest loaded nothing');
  const share = Math.min(100, (100 * want * 1.3) / total);
  const { rows } = await client.query<{ id: string; cin: string | null; fl: string | null; ll: string | null; fa: string | null; la: string | null }>(
    `SELECT id, attributes->'cin'->>'value' AS cin,
            attributes->'firstNameLatin'->>'value' AS fl, attributes->'lastNameLatin'->>'value' AS ll,
            attributes->'firstNameArabic'->>'value' AS fa, attributes->'lastNameArabic'->>'value' AS la
       FROM ref_golden TABLESAMPLE BERNOULLI ($1) REPEATABLE ($2)
      WHERE referential = 'persons' AND status = 'active'`,
    [share, seed],
  );
  const { rows: links } = await client.query<{ source_system: string; source_id: string }>(
    `SELECT source_system, source_id FROM ref_links TABLESAMPLE BERNOULLI ($1) REPEATABLE ($2) WHERE referential = 'persons' LIMIT $3`,
    [share, seed, want],
  );
  const names: string[] = [];
  rows.forEach((r, i) => {
    // Latin and Arabic in turn, as a clerk would type them (the case and spelling of the golden record).
    const latin = r.fl && r.ll ? `${r.fl} ${r.ll}` : undefined;
    const arabic = r.fa && r.la ? `${r.fa} ${r.la}` : undefined;
    const name = i % 2 === 0 ? (latin ?? arabic) : (arabic ?? latin);
    if (name) names.push(name);
  });
  return {
    goldenIds: rows.map((r) => r.id),
    cins: rows.flatMap((r) => (r.cin ? [r.cin] : [])),
    sources: links.map((l) => ({ system: l.source_system, id: l.source_id })),
    names,
    totalPersons: total,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || !(b > 0) ? '—' : (a / b).toFixed(a / b < 0.01 ? 4 : 3));
/** CPU milliseconds per row, three decimals; '—' when the CPU was not measured. */
const msPerRow = (seconds: number | undefined, rows: number): string => (seconds === undefined || !(rows > 0) ? '—' : ((seconds * 1000) / rows).toFixed(3));
/** The sum, unless one of them is unknown. */
const sumOf = (values: ReadonlyArray<number | undefined>): number | undefined => (values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0));
const failuresText = (m: Measured): string => {
  const parts = Object.entries(m.failures).map(([k, v]) => `${v} × ${k}`);
  return parts.length > 0 ? `  FAILURES ${parts.join(', ')}` : '';
};

interface Verdict {
  name: string;
  value: string;
  pass: boolean | undefined;
  note?: string;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  // Persons matching by class, script mode and review band, with the calibration bins (issue 18): in memory, the
  // persons module's own blocking, score, thresholds and tie rule. --matching-only stops after it.
  if (!options.skipMatching) {
    const started = performance.now();
    const missSummaries: string[] = [];
    const modes = options.modes.map((mode) =>
      measureMode(mode, options.persons, options.seed, {
        ...(options.misses ? { misses: (missed: MissedPair[]) => missSummaries.push(writeMisses(mode, options, missed)) } : {}),
      }),
    );
    process.stdout.write(`${formatQuality(modes)}\n(${((performance.now() - started) / 1000).toFixed(0)} s for ${modes.length} modes of ${options.persons} persons, seed ${options.seed})\n\n`);
    if (missSummaries.length > 0) process.stdout.write(`${missSummaries.join('\n')}\n\n`);
    const name = `${options.modes.length === SCRIPT_MODES.length ? 'referentials-matching' : `referentials-matching-${options.modes.join('-')}`}`;
    writeReport(resultsDir, name, { ...reportHeader('referentials-matching'), persons: options.persons, seed: options.seed, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), modes });
    process.stdout.write(`peak RSS of this process (generation and matching in memory): ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n\n`);
    if (options.matchingOnly) return;
  }
  // DATABASE_URL names a server of yours; without it the bench runs its own, with memory settings for the data set.
  let serverUrl = process.env['DATABASE_URL'];
  let serverNote = 'the server of DATABASE_URL';
  // The server's CPU over each import: only for a server of the bench's own (its processes are known).
  let serverCpu: (() => number | undefined) | undefined;
  if (!serverUrl) {
    const port = Number(process.env['BENCH_POSTGRES_PORT'] || defaultBenchPostgresPort);
    const server = startBenchPostgres(benchPostgresDir, port, { hugePages: options.hugePages, mallocTunables: options.mallocTunables });
    children.onExit(() => server.stop());
    children.onCleanup(async () => server.stop());
    serverUrl = server.url;
    serverCpu = () => server.cpuSeconds();
    serverNote = `the bench's own server (${benchPostgresDir}, port ${port}: ${Object.entries(server.settings).map(([k, v]) => `${k} ${v}`).join(', ')}; huge pages: ${server.hugePages}; allocator: ${server.malloc})`;
  }
  const redisUrl = process.env['REDIS_URL'] || defaultRedisUrl;
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  const say = (text: string) => process.stdout.write(text);
  say(
    `bench:referentials  ${fmt(options.persons)} persons, ${fmt(options.companies)} companies, ${fmt(options.vehicles)} vehicles (dup-rate ${options.dupRate}, seed ${options.seed})\n` +
      `node ${process.version}, ${cpus().length} × ${cpuModel}, ${Math.round(totalmem() / 2 ** 30)} GB; PostgreSQL database ${databaseName} on ${serverNote}; the load generator, the hub and PostgreSQL share the machine\n\n`,
  );

  // 1. The data set.
  const data = await ensureDataSet(cacheDir, options);
  const records = Object.fromEntries(referentialNames.map((r) => [r, data.summary[r].records])) as Record<(typeof referentialNames)[number], number>;
  say(
    `data: ${relative(process.cwd(), data.dir)} ${data.generated ? `(generated in ${data.generateSeconds?.toFixed(1)} s)` : '(reused)'}: ` +
      referentialNames.map((r) => `${fmt(records[r])} ${r} records (${fmt(data.summary[r].duplicates)} duplicates)`).join(', ') +
      '\n',
  );

  // 2-5. The database, the COPY baseline, the ingest, the matching quality.
  const benchUrl = databaseUrl(serverUrl, databaseName);
  const datasetKey = relative(cacheDir, data.dir);
  let copy: { rows: number; seconds: number; rate: number } | undefined;
  const ingests: IngestResult[] = [];
  if (options.reuseDb) {
    const loaded = await withClient(benchUrl, async (c) => (await c.query<{ dataset: string }>('SELECT dataset FROM bench_meta').catch(() => ({ rows: [] }))).rows[0]?.dataset);
    if (loaded !== datasetKey) throw new Error(`--reuse-db: ${databaseName} holds ${loaded ?? 'no complete load'}, not ${datasetKey}; run without --reuse-db`);
    say(`database: ${databaseName} reused (loaded with ${datasetKey}); COPY and ingest not measured\n`);
  } else {
    await recreateDatabase(serverUrl, databaseName);
    rmSync(hubDataDir, { recursive: true, force: true });
    const copied = await withClient(benchUrl, (c) => copyLines(c, 'bench_copy_persons', data.file('persons')));
    copy = { ...copied, rate: copied.rows / copied.seconds };
    say(`COPY baseline: ${fmt(copy.rows)} persons lines into a jsonb column in ${copy.seconds.toFixed(2)} s = ${fmt(copy.rate)} rows/s\n`);
    const env = { ...process.env, DATABASE_URL: benchUrl, DEMO: 'off', LOG_LEVEL: 'warn' };
    const importDataDir = children.tempDir('tabadol-bench-import-');
    for (const referential of referentialNames) {
      say(`ingest ${referential}: tabadol import ${relative(rootDir, data.file(referential))} --referential ${referential} (${fmt(records[referential])} rows)…\n`);
      const result = await ingest(rootDir, referential, data.file(referential), records[referential], { ...env, DATA_DIR: importDataDir }, (child) => children.track(child, { group: true }), serverCpu);
      ingests.push(result);
      for (const line of result.summary) say(`    ${line}\n`);
      say(
        `  → ${fmt(result.wallRowsPerSecond)} rows/s wall (${result.wallSeconds.toFixed(1)} s)` +
          (result.cliRowsPerSecond !== undefined ? `, ${fmt(result.cliRowsPerSecond)} rows/s by the CLI` : '') +
          `, peak RSS ${result.peakRssMb !== undefined ? `${fmt(result.peakRssMb)} MB (${result.peakRssFrom})` : 'not measured'}\n` +
          `    CPU per row: importer ${msPerRow(result.importerCpuSeconds, result.rows)} ms, PostgreSQL ${msPerRow(result.postgresCpuSeconds, result.rows)} ms` +
          ` (importer: user + system of the CLI's process by /usr/bin/time, start-up and the file's first pass included;` +
          ` PostgreSQL: user + system of every process of the server over the import, from /proc: backends, autovacuum, checkpointer, writers)\n`,
      );
    }
    await withClient(benchUrl, async (c) => {
      await c.query('CREATE TABLE bench_meta (dataset text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())');
      await c.query('INSERT INTO bench_meta (dataset) VALUES ($1)', [datasetKey]);
    });
  }
  const { quality, truthRows, reviewBand } = await withClient(benchUrl, async (c) => {
    const truth = options.reuseDb ? undefined : await loadTruth(c, data.truthFile);
    await c.query('ANALYZE');
    return { quality: await matchingQuality(c), truthRows: truth?.rows, reviewBand: await engineReviewBand(c, PERSON_THRESHOLDS, options.persons) };
  });
  say(`matching quality: ${truthRows !== undefined ? `${fmt(truthRows)} ground-truth rows loaded; ` : ''}${quality.map((q) => `${q.referential} precision ${q.precision?.toFixed(4) ?? '—'} recall ${q.recall?.toFixed(4) ?? '—'}`).join('; ')}\n\n`);
  // The queue the engine left, read at higher review thresholds (issue 18: open reviews <= 1 % of persons at 1M).
  say(
    `persons review queue in the database (the engine's; link ${PERSON_THRESHOLDS.link}, review ${PERSON_THRESHOLDS.review}; ${fmt(reviewBand.ties)} ties and ` +
      `${fmt(reviewBand.nearLink)} near-link items (${fmt(reviewBand.nearLinkOnly)} with no candidate at review, ${fmt(reviewBand.nearLinkTrue)} true near-link pairs), in review at any threshold)\n` +
      table(['review threshold', 'open reviews', 'share of persons', 'true pairs proposed'], reviewBand.band.map((b) => [String(b.threshold), fmt(b.reviews), `${(b.share * 100).toFixed(2)} %`, fmt(b.truePairs)])) +
      '\n\n',
  );

  // 5b. The database settled as it is in steady service: the tables the reads touch vacuumed (hint bits and visibility
  // set once, not by the first reads of each freshly loaded row, nor by autovacuum during the arms) and loaded into
  // PostgreSQL's buffers (a restarted server, as --reuse-db has, would otherwise charge the first arm for the cache).
  say(`settling: ${await withClient(benchUrl, settleForReads)}\n`);

  // 6. The hub, the consumer's key, the samples, one verified call per operation.
  const hub = await startHubChild(benchUrl, redisUrl);
  const hubUrl = `http://127.0.0.1:${hub.port}`;
  const w = referentialsBenchWorld;
  const { hubId } = JSON.parse(readFileSync(w.hubFile(hub.dataDir), 'utf8')) as { hubId: string };
  const identity = await loadClientIdentity(w.consumer, w.consumerKeyFile(hub.dataDir));
  const servicePath = w.servicePath(hubId);
  const samples = await withClient(benchUrl, (c) => sample(c, options.seed, 50_000));
  if (samples.cins.length === 0 || samples.sources.length === 0 || samples.names.length === 0) throw new Error('the sample has no CIN, source reference or name to ask for');
  const random = Random.for('bench-referentials', options.seed);
  const batchBodies = Array.from({ length: 16 }, () =>
    JSON.stringify({
      items: Array.from({ length: batchItems }, (_, i) =>
        i % 2 === 0 ? { key: { type: 'cin', value: random.pick(samples.cins) } } : { source: random.pick(samples.sources) },
      ),
    }),
  );
  const plans = {
    single: (n: number): PlannedRequest[] => Array.from({ length: n }, () => ({ method: 'GET', path: `${servicePath}/by-key/cin/${encodeURIComponent(random.pick(samples.cins))}` })),
    batch: (n: number): PlannedRequest[] => Array.from({ length: n }, (_, i) => ({ method: 'POST', path: `${servicePath}/resolve`, body: batchBodies[i % batchBodies.length] ?? '' })),
    // The same batches with each attribute's provenance (`provenance=true`), about three times the answer.
    batchWithProvenance: (n: number): PlannedRequest[] =>
      Array.from({ length: n }, (_, i) => ({ method: 'POST', path: `${servicePath}/resolve?provenance=true`, body: batchBodies[i % batchBodies.length] ?? '' })),
    search: (n: number): PlannedRequest[] => Array.from({ length: n }, () => ({ method: 'GET', path: `${servicePath}/search?q=${encodeURIComponent(random.pick(samples.names))}` })),
  };
  await checkCalls(new TabadolClient({ hubUrl, hubId, identity }), plans, w.purpose);
  say(`hub: pid ${hub.pid} on ${hubUrl}; ${fmt(samples.totalPersons)} active persons golden records; sampled ${fmt(samples.cins.length)} CINs, ${fmt(samples.sources.length)} source references, ${fmt(samples.names.length)} names\n`);

  // 7. The reads, each beside its SQL baseline.
  const pool = new pg.Pool({ connectionString: benchUrl, max: Math.max(options.connections, options.latencyConnections) });
  children.onCleanup(() => pool.end());
  const pkQuery = () => ({ name: 'bench-pk', text: 'SELECT id, referential, version, status, merged_into, attributes FROM ref_golden WHERE id = $1', values: [random.pick(samples.goldenIds)] });
  const pkBatchQuery = () => ({
    name: 'bench-pk-batch',
    text: 'SELECT id, referential, version, status, merged_into, attributes FROM ref_golden WHERE id = ANY($1::text[])',
    values: [Array.from({ length: batchItems }, () => random.pick(samples.goldenIds))],
  });
  const sqlArm = (connections: number, query: () => SqlQuery) => async () => ({ ...(await sqlLoad(pool, connections, options.duration, query)), requests: 0 });
  await sqlLoad(pool, options.connections, 1, pkQuery);
  const line = (label: string, m: Measured & CpuShares, digits = 0) =>
    say(
      `  ${label.padEnd(34)} ${fmt(m.rate, digits).padStart(8)}/s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms  ` +
        `cores: hub ${m.hubCores.toFixed(2)}, postgres ${m.postgresCores.toFixed(2)}, load generator ${m.loadgenCores.toFixed(2)}${failuresText(m)}\n`,
    );
  const sqlPk = await withCpu(hub.pid, sqlArm(options.connections, pkQuery));
  line('(a) SQL primary-key lookup', sqlPk);
  const sqlBatch = await withCpu(hub.pid, sqlArm(options.latencyConnections, pkBatchQuery));
  line(`(a') SQL = ANY(${batchItems} ids)`, sqlBatch, 1);
  const arm = { url: hubUrl, identity, hubId, purpose: w.purpose, seconds: options.duration };
  const single = await withCpu(hub.pid, () => httpArm({ ...arm, connections: options.connections, warmupCount: 1000, min: 200, max: 500_000, plan: plans.single }));
  line('(b) single resolve (by-key cin)', single);
  // A batch arm warms up on every connection of the hub's pool, twice, and for 5 seconds at least: with 4 requests,
  // whichever batch arm ran first measured 1.5 to 2.5 times the p50 of the one after it (the arms swapped), and with
  // 20 it still used twice the PostgreSQL CPU per request of the second.
  const batchWarmup = Math.max(2 * hubPoolSize(), 2 * options.latencyConnections);
  const batchWarmupSeconds = 5;
  const batch = await withCpu(hub.pid, () =>
    httpArm({ ...arm, connections: options.latencyConnections, warmupCount: batchWarmup, warmupSeconds: batchWarmupSeconds, min: 10, max: 50_000, plan: plans.batch }),
  );
  line(`(c) batch resolve of ${batchItems}`, batch, 1);
  const batchWithProvenance = await withCpu(hub.pid, () =>
    httpArm({ ...arm, connections: options.latencyConnections, warmupCount: batchWarmup, warmupSeconds: batchWarmupSeconds, min: 10, max: 50_000, plan: plans.batchWithProvenance }),
  );
  line(`(c') the same, with provenance`, batchWithProvenance, 1);
  const search = await withCpu(hub.pid, () => httpArm({ ...arm, connections: options.latencyConnections, warmupCount: 50, min: 50, max: 200_000, plan: plans.search }));
  line('(d) fuzzy search', search, 1);
  say('\n');

  // 8. The tables.
  const batchRow = (label: string, m: Measured & CpuShares): string[] => [
    label,
    String(m.connections),
    `${fmt(m.rate * batchItems)} items/s`,
    m.p50Ms.toFixed(2),
    m.p99Ms.toFixed(2),
    m.hubCpuMsPerRequest.toFixed(2),
    "(a) lookups/s; (a') p50",
    `${ratio(m.rate * batchItems, sqlPk.rate)}; p50 ×${ratio(m.p50Ms, sqlBatch.p50Ms)}`,
  ];
  const batchReport = (m: Measured & CpuShares) => ({
    ...clean(m),
    items: batchItems,
    itemsPerSecond: Math.round(m.rate * batchItems),
    ratioToSqlPk: Number(((m.rate * batchItems) / sqlPk.rate).toFixed(5)),
    p50MultipleOfSqlBatch: Number((m.p50Ms / sqlBatch.p50Ms).toFixed(3)),
  });
  say(
    table(
      ['reads', 'conns', 'rate', 'p50 ms', 'p99 ms', 'hub CPU ms/req', 'baseline', 'ratio'],
      [
        ['(a) SQL PK lookup (pg)', String(sqlPk.connections), `${fmt(sqlPk.rate)}/s`, sqlPk.p50Ms.toFixed(2), sqlPk.p99Ms.toFixed(2), '', '', ''],
        [`(a') SQL = ANY(${batchItems} ids)`, String(sqlBatch.connections), `${fmt(sqlBatch.rate * batchItems)} rows/s`, sqlBatch.p50Ms.toFixed(2), sqlBatch.p99Ms.toFixed(2), '', '', ''],
        ['(b) single resolve, HTTP', String(single.connections), `${fmt(single.rate)}/s`, single.p50Ms.toFixed(2), single.p99Ms.toFixed(2), single.hubCpuMsPerRequest.toFixed(2), '(a) lookups/s', ratio(single.rate, sqlPk.rate)],
        batchRow(`(c) batch resolve ×${batchItems}, HTTP`, batch),
        batchRow(`(c') the same, provenance=true`, batchWithProvenance),
        ['(d) fuzzy search, HTTP', String(search.connections), `${fmt(search.rate, 1)}/s`, search.p50Ms.toFixed(2), search.p99Ms.toFixed(2), search.hubCpuMsPerRequest.toFixed(2), '(a) lookups/s', ratio(search.rate, sqlPk.rate)],
      ],
    ) + '\n\n',
  );
  const ingestTotal = ingests.length > 0 ? { rows: ingests.reduce((n, i) => n + i.rows, 0), seconds: ingests.reduce((n, i) => n + i.wallSeconds, 0) } : undefined;
  const ingestRate = ingestTotal ? ingestTotal.rows / ingestTotal.seconds : undefined;
  // The CLI's own rates (its import, without node's start-up), combined over the three files when it printed all three.
  const cliRate = ingests.length > 0 && ingests.every((i) => i.cliRowsPerSecond) ? (ingestTotal?.rows ?? 0) / ingests.reduce((n, i) => n + i.rows / (i.cliRowsPerSecond ?? 1), 0) : undefined;
  const peakRss = ingests.some((i) => i.peakRssMb !== undefined) ? Math.max(...ingests.map((i) => i.peakRssMb ?? 0)) : undefined;
  if (ingests.length > 0) {
    say(
      table(
        ['ingest (tabadol import)', 'rows', 'seconds', 'rows/s wall', 'rows/s CLI', 'importer CPU ms/row', 'PostgreSQL CPU ms/row', 'COPY rows/s', 'ratio', 'peak RSS MB', 'RSS from'],
        [
          ...ingests.map((i) => [
            `${i.referential}${i.sourceFallback ? ` (--source ${i.sourceFallback})` : ''}`,
            fmt(i.rows),
            i.wallSeconds.toFixed(1),
            fmt(i.wallRowsPerSecond),
            fmt(i.cliRowsPerSecond),
            msPerRow(i.importerCpuSeconds, i.rows),
            msPerRow(i.postgresCpuSeconds, i.rows),
            fmt(copy?.rate),
            ratio(i.wallRowsPerSecond, copy?.rate),
            fmt(i.peakRssMb),
            i.peakRssFrom,
          ]),
          ['all three', fmt(ingestTotal?.rows), ingestTotal?.seconds.toFixed(1) ?? '—', fmt(ingestRate), fmt(cliRate), msPerRow(sumOf(ingests.map((i) => i.importerCpuSeconds)), ingestTotal?.rows ?? 0), msPerRow(sumOf(ingests.map((i) => i.postgresCpuSeconds)), ingestTotal?.rows ?? 0), fmt(copy?.rate), ratio(ingestRate, copy?.rate), fmt(peakRss), ''],
        ],
      ) + '\n\n',
    );
  }
  say(
    table(
      ['matching', 'records', 'linked', 'entities', 'goldens', 'open reviews', 'pairs predicted', 'pairs true', 'pairs both', 'precision', 'recall'],
      quality.map((q) => [q.referential, fmt(q.records), fmt(q.linked), fmt(q.entities), fmt(q.activeGoldens), fmt(q.openReviews), fmt(q.predictedPairs), fmt(q.truePairs), fmt(q.truePositivePairs), q.precision?.toFixed(4) ?? '—', q.recall?.toFixed(4) ?? '—']),
    ) + '\n\n',
  );

  // 9. The targets.
  const personsRows = records.persons;
  const verdicts: Verdict[] = [
    { name: `batch resolve of ${batchItems}: p50 <= ${targets.batchP50Ms} ms`, value: `${batch.p50Ms} ms`, pass: batch.p50Ms <= targets.batchP50Ms },
    { name: `fuzzy search: p99 <= ${targets.searchP99Ms} ms`, value: `${search.p99Ms} ms`, pass: search.p99Ms <= targets.searchP99Ms },
    { name: `ingest with matching >= ${fmt(targets.ingestRowsPerSecond)} records/s`, value: ingestRate === undefined ? 'not measured' : `${fmt(ingestRate)} records/s (wall clock of the three imports${cliRate !== undefined ? `; ${fmt(cliRate)} by the CLI's own count` : ''})`, pass: ingestRate === undefined ? undefined : ingestRate >= targets.ingestRowsPerSecond },
    {
      name: `ingest peak RSS <= ${targets.ingestPeakRssMb} MB`,
      value: peakRss === undefined ? 'not measured' : `${fmt(peakRss)} MB`,
      pass: peakRss === undefined ? undefined : peakRss <= targets.ingestPeakRssMb,
      ...(personsRows < targets.ingestRssFileRows ? { note: `the target is for a ${fmt(targets.ingestRssFileRows)}-row file; the largest here has ${fmt(personsRows)}` } : {}),
    },
    ...quality.flatMap((q): Verdict[] => [
      { name: `${q.referential} matching precision >= ${targets.precision}`, value: q.precision?.toFixed(4) ?? '—', pass: q.precision === null ? undefined : q.precision >= targets.precision },
      { name: `${q.referential} matching recall >= ${targets.recall}`, value: q.recall?.toFixed(4) ?? '—', pass: q.recall === null ? undefined : q.recall >= targets.recall },
    ]),
  ];
  say('targets:\n');
  for (const v of verdicts) say(`  ${v.pass === undefined ? 'n/a  ' : v.pass ? 'met  ' : 'UNDER'}  ${v.name}: ${v.value}${v.note ? ` (${v.note})` : ''}\n`);
  const failures = [sqlPk, sqlBatch, single, batch, batchWithProvenance, search].reduce((n, m) => n + Object.values(m.failures).reduce((a, b) => a + b, 0), 0);
  if (failures > 0) say(`WARNING: ${failures} failed requests or queries (see FAILURES above); the figures are suspect.\n`);
  if (ingests.some((i) => i.sourceFallback)) say('note: the import CLI still required --source: each file was contributed under its first row\'s source system.\n');
  if (options.persons < 1_000_000) say(`note: reduced scale (${fmt(options.persons)} persons); the issue's targets are for 1,000,000 persons, 200,000 companies and 500,000 vehicles.\n`);

  const clean = (m: Measured & { requests?: number }) => {
    const { requests: _requests, ...rest } = m;
    return { ...rest, rate: round1(m.rate), seconds: round2(m.seconds) };
  };
  const report = {
    ...reportHeader('referentials'),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    postgres: serverNote,
    options,
    dataset: { dir: relative(rootDir, data.dir), records, summary: data.summary, reusedDatabase: options.reuseDb },
    baselines: {
      copy: copy ? { table: 'bench_copy_persons (jsonb)', rows: copy.rows, seconds: round2(copy.seconds), rowsPerSecond: Math.round(copy.rate) } : null,
      sqlPrimaryKey: clean(sqlPk),
      sqlPrimaryKeyBatch: { ...clean(sqlBatch), ids: batchItems },
    },
    ingest: ingests.map((i) => ({ ...i, file: relative(rootDir, i.file), wallSeconds: round2(i.wallSeconds), wallRowsPerSecond: Math.round(i.wallRowsPerSecond), peakRssMb: i.peakRssMb === undefined ? null : round1(i.peakRssMb), ratioToCopy: copy ? Number((i.wallRowsPerSecond / copy.rate).toFixed(5)) : null })),
    ingestTotal: ingestTotal
      ? { ...ingestTotal, seconds: round2(ingestTotal.seconds), rowsPerSecond: ingestRate === undefined ? null : Math.round(ingestRate), cliRowsPerSecond: cliRate === undefined ? null : Math.round(cliRate), peakRssMb: peakRss === undefined ? null : round1(peakRss) }
      : null,
    reads: {
      singleResolve: { ...clean(single), ratioToSqlPk: Number((single.rate / sqlPk.rate).toFixed(5)) },
      batchResolve: batchReport(batch),
      batchResolveWithProvenance: batchReport(batchWithProvenance),
      fuzzySearch: { ...clean(search), ratioToSqlPk: Number((search.rate / sqlPk.rate).toFixed(5)) },
    },
    quality,
    reviewBand,
    targets: verdicts,
  };
  const file = writeReport(resultsDir, 'referentials', report);
  say(`results written to ${relative(process.cwd(), file)}; the database ${databaseName} is left for inspection (--reuse-db measures the reads again)\n`);
}

/** The hub child's PostgreSQL pool: DATABASE_POOL_SIZE as the child reads it, else the hub's default (src/config.ts). */
function hubPoolSize(): number {
  const n = Number(process.env['DATABASE_POOL_SIZE']);
  return Number.isInteger(n) && n > 0 ? n : 10;
}

/** The relations the reads use, vacuumed then loaded into shared buffers (pg_prewarm, when the server has it). */
async function settleForReads(c: pg.Client): Promise<string> {
  const tables = ['ref_golden', 'ref_natural_keys', 'ref_links', 'ref_search_names'];
  const started = performance.now();
  await c.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
  // The pages VACUUM dirtied (hint bits, visibility) written now, not by the checkpointer during the first arms.
  const checkpoint = await c.query('CHECKPOINT').then(
    () => 'CHECKPOINT',
    (err: unknown) => `no CHECKPOINT (${err instanceof Error ? err.message : String(err)})`,
  );
  const vacuumed = performance.now();
  const available = (await c.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm'`)).rowCount === 1;
  if (!available) return `VACUUM (ANALYZE) ${tables.join(', ')}, ${checkpoint} in ${((vacuumed - started) / 1000).toFixed(1)} s; pg_prewarm is not installed: the first reads fill the cache`;
  await c.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  const { rows } = await c.query<{ relations: string; blocks: string; bytes: string }>(
    `SELECT count(*) AS relations, sum(pg_prewarm(r.oid)) AS blocks, pg_size_pretty(sum(pg_relation_size(r.oid))) AS bytes
       FROM pg_class r
      WHERE r.oid = ANY($1::regclass[]) OR r.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY($1::regclass[]))`,
    [tables],
  );
  const done = performance.now();
  return (
    `VACUUM (ANALYZE) ${tables.join(', ')}, ${checkpoint} in ${((vacuumed - started) / 1000).toFixed(1)} s; ` +
    `${rows[0]?.relations} relations (the tables and their indexes, ${rows[0]?.bytes}) loaded into shared buffers in ${((done - vacuumed) / 1000).toFixed(1)} s`
  );
}

/** One call of each operation with the client, its answer verified (signature, binding to the request) and looked at. */
async function checkCalls(client: TabadolClient, plans: Record<'single' | 'batch' | 'batchWithProvenance' | 'search', (n: number) => PlannedRequest[]>, purpose: string): Promise<void> {
  for (const [name, plan] of Object.entries(plans)) {
    const [request] = plan(1);
    if (!request) continue;
    const answer = await client.call(request.method, request.path, { purpose, ...(request.body !== undefined ? { body: request.body } : {}) });
    if (answer.status !== 200) throw new Error(`${name}: ${request.method} ${request.path.slice(0, 200)} answered ${answer.status}: ${answer.body.slice(0, 500)}`);
    const body = JSON.parse(answer.body) as { goldenId?: string; results?: Array<{ found: boolean }>; hits?: unknown[] };
    if (name === 'single' && !body.goldenId) throw new Error(`single resolve: no goldenId in ${answer.body.slice(0, 300)}`);
    if (name === 'batch' || name === 'batchWithProvenance') {
      const found = body.results?.filter((r) => r.found) ?? [];
      if (found.length < batchItems * 0.99) throw new Error(`batch resolve: only ${found.length} of ${batchItems} found`);
      // Values alone unless provenance was asked for: the two arms measure the two answers.
      const cin = (found[0] as { record?: { attributes?: { cin?: unknown } } } | undefined)?.record?.attributes?.cin;
      if ((typeof cin === 'object') !== (name === 'batchWithProvenance')) throw new Error(`${name}: the answer's cin is ${JSON.stringify(cin)}`);
    }
    if (name === 'search' && (body.hits?.length ?? 0) === 0) throw new Error(`fuzzy search: no hit for ${request.path}`);
  }
}

children.run(main);
