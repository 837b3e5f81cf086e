// What bench/referentials.ts does before it measures reads: the generated data set (cached), the fresh database, the
// COPY baseline, the ingest through the real `tabadol import`, and the matching quality against the ground truth.
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { generateToDirectory, type Referential, type Summary } from '../referentials/generator/generate.ts';

export const referentialNames: readonly Referential[] = ['persons', 'companies', 'vehicles'];

export interface DataOptions {
  persons: number;
  companies: number;
  vehicles: number;
  dupRate: number;
  seed: number;
}

export interface DataSet {
  dir: string;
  /** Whether it was generated in this run (else reused from the cache). */
  generated: boolean;
  generateSeconds: number | undefined;
  summary: Summary;
  file(referential: Referential): string;
  truthFile: string;
}

/** The generator's NDJSON files in `<cacheRoot>/referentials-v3-<persons>-<companies>-<vehicles>-<dup>-<seed>/`, generated once. */
export async function ensureDataSet(cacheRoot: string, options: DataOptions): Promise<DataSet> {
  // `v2`: source ids of 64 bits (referentials/generator/common.ts sourceId); a folder of the 32-bit ids is not reused.
  const dir = join(cacheRoot, `referentials-v3-${options.persons}-${options.companies}-${options.vehicles}-${options.dupRate}-${options.seed}`);
  // Written last: a folder without it was cut short and is generated again.
  const marker = join(dir, 'summary.json');
  let generated = false;
  let generateSeconds: number | undefined;
  if (!existsSync(marker)) {
    const started = performance.now();
    const summary = await generateToDirectory(options, dir, 'ndjson');
    generateSeconds = (performance.now() - started) / 1000;
    writeFileSync(marker, `${JSON.stringify({ options, summary, generatedAt: new Date().toISOString() }, null, 2)}\n`);
    generated = true;
  }
  const { summary } = JSON.parse(readFileSync(marker, 'utf8')) as { summary: Summary };
  return { dir, generated, generateSeconds, summary, file: (referential) => join(dir, `${referential}.ndjson`), truthFile: join(dir, 'ground-truth.ndjson') };
}

/** The first record's sourceSystem (the fallback `--source` while the CLI still requires one). */
export async function firstSourceSystem(file: string): Promise<string> {
  const handle = await open(file);
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    const line = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
    const system = (JSON.parse(line) as { sourceSystem?: unknown }).sourceSystem;
    if (typeof system !== 'string' || !system) throw new Error(`${file}: the first record has no sourceSystem`);
    return system;
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The database

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** DROP DATABASE IF EXISTS … WITH (FORCE); CREATE DATABASE, through the server's maintenance database. */
export async function recreateDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(serverUrl, name);
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * COPY every line of an NDJSON file, as it is, into a one-column jsonb table (CSV format with a quote and a delimiter
 * that never occur, so that a line is one field and its backslashes stay JSON's); the server parses each line as jsonb.
 */
export async function copyLines(client: pg.Client, table: string, file: string): Promise<{ rows: number; seconds: number }> {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (doc jsonb NOT NULL)`);
  const started = performance.now();
  const stream = client.query(copyFrom(`COPY ${table} (doc) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`));
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), stream);
  return { rows: stream.rowCount, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------------------------
// Ingest: the real CLI as a child process

export interface IngestResult {
  referential: Referential;
  file: string;
  /** Records in the file. */
  rows: number;
  exitCode: number;
  /** From the child's start to its exit: node and tsx start-up, migrations and the file's first pass included. */
  wallSeconds: number;
  wallRowsPerSecond: number;
  /** The `<rate> rows/s` of the CLI's summary, when it prints one. */
  cliRowsPerSecond: number | undefined;
  peakRssMb: number | undefined;
  peakRssFrom: 'cli' | '/usr/bin/time' | '/proc VmHWM' | 'none';
  /** CPU seconds (user + system) of the importer process (node running the CLI), from /usr/bin/time -v. */
  importerCpuSeconds: number | undefined;
  /** CPU seconds of the PostgreSQL server (all its processes) over the import, when the bench runs the server. */
  postgresCpuSeconds: number | undefined;
  /** Set when the CLI still required --source: the value passed (the file's first sourceSystem) for every row. */
  sourceFallback: string | undefined;
  /** The CLI's summary (stdout). */
  summary: string[];
}

const timeBinary = '/usr/bin/time';

/** Numbers as the CLI may print them: 12,345.6 or 12 345.6 (thin or plain spaces). */
function parseNumber(text: string): number {
  return Number(text.replace(/[\s,\u202f\u00a0]/g, ''));
}

export function parseImportSummary(stdout: string): { rowsPerSecond: number | undefined; peakRssMb: number | undefined } {
  const rate = /(\d[\d,.\s\u202f\u00a0]*?)\s*rows\/s/.exec(stdout);
  const rss = /peak RSS\s+(\d[\d,.\s\u202f\u00a0]*?)\s*MB/i.exec(stdout);
  const rowsPerSecond = rate?.[1] !== undefined ? parseNumber(rate[1]) : undefined;
  const peakRssMb = rss?.[1] !== undefined ? parseNumber(rss[1]) : undefined;
  return { rowsPerSecond: Number.isFinite(rowsPerSecond) ? rowsPerSecond : undefined, peakRssMb: Number.isFinite(peakRssMb) ? peakRssMb : undefined };
}

interface ChildRun {
  code: number;
  stdout: string;
  stderrTail: string;
  wallSeconds: number;
  timeMaxRssKb: number | undefined;
  hwmKb: number | undefined;
  /** User + system CPU seconds of the CLI, from /usr/bin/time -v. */
  cpuSeconds: number | undefined;
}

/** VmHWM (peak resident set) of a live process, in kB. */
function vmHwmKb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] !== undefined ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `node bin/tabadol.js ARGS` in a process group of its own under /usr/bin/time -v when present (its maximum RSS is exact), else polls the
 * child's VmHWM. Progress lines go to our stderr at most every 10 s; other stderr lines as they come.
 */
function runCli(rootDir: string, args: string[], env: NodeJS.ProcessEnv, label: string, track: (child: ChildProcess) => void): Promise<ChildRun> {
  const useTime = existsSync(timeBinary);
  const command = useTime ? timeBinary : process.execPath;
  const argv = useTime ? ['-v', process.execPath, 'bin/tabadol.js', ...args] : ['bin/tabadol.js', ...args];
  const started = performance.now();
  // Its own process group: the caller can stop /usr/bin/time and the CLI under it together.
  const child = spawn(command, argv, { cwd: rootDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  track(child);
  let stdout = '';
  let stderr = '';
  let pending = '';
  let inTimeReport = false;
  let lastProgress = 0;
  let hwmKb: number | undefined;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        const kb = child.pid === undefined ? undefined : vmHwmKb(child.pid);
        if (kb !== undefined) hwmKb = Math.max(hwmKb ?? 0, kb);
      }, 200);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).replace(/^.*\r/, '');
      pending = pending.slice(newline + 1);
      if (line.startsWith('\tCommand being timed:')) inTimeReport = true;
      if (inTimeReport || line.trim() === '' || /^Command (exited with non-zero status|terminated by signal)/.test(line)) continue;
      if (/^\d+\/\d+ rows/.test(line)) {
        if (Date.now() - lastProgress < 10_000) continue;
        lastProgress = Date.now();
      }
      process.stderr.write(`[${label}] ${line}\n`);
    }
  });
  return new Promise<ChildRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (poll) clearInterval(poll);
      const rss = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(stderr);
      const user = /User time \(seconds\):\s*([\d.]+)/.exec(stderr)?.[1];
      const system = /System time \(seconds\):\s*([\d.]+)/.exec(stderr)?.[1];
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderrTail: stderr,
        wallSeconds: (performance.now() - started) / 1000,
        timeMaxRssKb: rss?.[1] !== undefined ? Number(rss[1]) : undefined,
        hwmKb,
        cpuSeconds: user !== undefined && system !== undefined ? Number(user) + Number(system) : undefined,
      });
    });
  });
}

/** `tabadol import FILE --referential NAME` with the rows' own sourceSystem; with `--source <first row's>` while the CLI still requires it. */
export async function ingest(
  rootDir: string,
  referential: Referential,
  file: string,
  rows: number,
  env: NodeJS.ProcessEnv,
  track: (child: ChildProcess) => void,
  /** The database server's CPU seconds so far (BenchPostgres.cpuSeconds), when the bench runs it; read before and after. */
  serverCpu?: () => number | undefined,
): Promise<IngestResult> {
  const args = ['import', file, '--referential', referential];
  const serverBefore = serverCpu?.();
  let sourceFallback: string | undefined;
  let run = await runCli(rootDir, args, env, `import ${referential}`, track);
  if (run.code !== 0 && /--source/.test(run.stderrTail) && /required|missing|not specified/i.test(run.stderrTail)) {
    sourceFallback = await firstSourceSystem(file);
    process.stderr.write(`[import ${referential}] the CLI still requires --source: every row is contributed as from ${sourceFallback}\n`);
    run = await runCli(rootDir, [...args, '--source', sourceFallback], env, `import ${referential}`, track);
  }
  if (run.code !== 0) throw new Error(`tabadol import ${referential} exited with ${run.code}:\n${run.stdout}\n${run.stderrTail.slice(-4000)}`);
  const serverAfter = serverCpu?.();
  const parsed = parseImportSummary(run.stdout);
  const peak: Pick<IngestResult, 'peakRssMb' | 'peakRssFrom'> =
    parsed.peakRssMb !== undefined
      ? { peakRssMb: parsed.peakRssMb, peakRssFrom: 'cli' }
      : run.timeMaxRssKb !== undefined
        ? { peakRssMb: run.timeMaxRssKb / 1024, peakRssFrom: '/usr/bin/time' }
        : run.hwmKb !== undefined
          ? { peakRssMb: run.hwmKb / 1024, peakRssFrom: '/proc VmHWM' }
          : { peakRssMb: undefined, peakRssFrom: 'none' };
  return {
    referential,
    file,
    rows,
    exitCode: run.code,
    wallSeconds: run.wallSeconds,
    wallRowsPerSecond: rows / run.wallSeconds,
    cliRowsPerSecond: parsed.rowsPerSecond,
    ...peak,
    importerCpuSeconds: run.cpuSeconds,
    // A fallback run (--source) counts both attempts' server time: the first fails at once, on its first rows.
    postgresCpuSeconds: serverBefore !== undefined && serverAfter !== undefined ? serverAfter - serverBefore : undefined,
    sourceFallback,
    summary: run.stdout.split('\n').filter((l) => l.trim() !== ''),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Matching quality: pairwise precision and recall of ref_links against the generator's ground truth

export interface Quality {
  referential: string;
  /** Records in the ground truth, and how many of them the hub linked to a golden record. */
  records: number;
  linked: number;
  entities: number;
  activeGoldens: number;
  openReviews: number;
  /** Pairs of records in one golden record; in one real entity; in both. */
  predictedPairs: number;
  truePairs: number;
  truePositivePairs: number;
  precision: number | null;
  recall: number | null;
}

/**
 * Loads the ground truth (COPY) into bench_truth and compares, per referential, the pairs of records the hub put in one
 * golden record (a merged golden counts as the one it was merged into; an unlinked record as alone) with the pairs of
 * records of one real entity. Records are matched by source id, which the generator makes unique across systems (its
 * prefix is the system), so the comparison holds whichever source system the import recorded.
 */
export async function loadTruth(client: pg.Client, truthFile: string): Promise<{ rows: number; seconds: number }> {
  const copied = await copyLines(client, 'bench_truth_raw', truthFile);
  await client.query('DROP TABLE IF EXISTS bench_truth');
  await client.query(
    `CREATE TABLE bench_truth AS
       SELECT doc->>'referential' AS referential, doc->>'sourceSystem' AS source_system, doc->>'sourceId' AS source_id, doc->>'entityId' AS entity_id
         FROM bench_truth_raw`,
  );
  await client.query('DROP TABLE bench_truth_raw');
  await client.query('CREATE INDEX ON bench_truth (referential, source_id)');
  await client.query('ANALYZE bench_truth');
  return copied;
}

export async function matchingQuality(client: pg.Client): Promise<Quality[]> {
  await client.query('DROP TABLE IF EXISTS bench_assigned');
  await client.query(
    `CREATE TEMP TABLE bench_assigned AS
       SELECT t.referential, t.entity_id, l.golden_id IS NOT NULL AS linked,
              COALESCE(g.merged_into, l.golden_id, 'unlinked:' || t.source_id) AS golden
         FROM bench_truth t
         LEFT JOIN ref_links l ON l.referential = t.referential AND l.source_id = t.source_id
         LEFT JOIN ref_golden g ON g.id = l.golden_id`,
  );
  const { rows } = await client.query<{
    referential: string;
    records: string;
    linked: string;
    entities: string;
    predicted: string;
    truth: string;
    tp: string;
  }>(
    `WITH predicted AS (SELECT referential, count(*)::numeric AS n FROM bench_assigned GROUP BY referential, golden),
          truth AS (SELECT referential, count(*)::numeric AS n FROM bench_assigned GROUP BY referential, entity_id),
          both_ AS (SELECT referential, count(*)::numeric AS n FROM bench_assigned GROUP BY referential, golden, entity_id)
     SELECT a.referential, a.records, a.linked, t.entities, p.pairs AS predicted, t.pairs AS truth, b.pairs AS tp
       FROM (SELECT referential, count(*) AS records, count(*) FILTER (WHERE linked) AS linked FROM bench_assigned GROUP BY referential) a
       JOIN (SELECT referential, sum(n * (n - 1) / 2) AS pairs FROM predicted GROUP BY referential) p USING (referential)
       JOIN (SELECT referential, count(*) AS entities, sum(n * (n - 1) / 2) AS pairs FROM truth GROUP BY referential) t USING (referential)
       JOIN (SELECT referential, sum(n * (n - 1) / 2) AS pairs FROM both_ GROUP BY referential) b USING (referential)
      ORDER BY array_position(ARRAY['persons', 'companies', 'vehicles'], a.referential)`,
  );
  const goldens = await client.query<{ referential: string; n: string }>(`SELECT referential, count(*) AS n FROM ref_golden WHERE status = 'active' GROUP BY referential`);
  const reviews = await client.query<{ referential: string; n: string }>(`SELECT referential, count(*) AS n FROM ref_review_items WHERE status = 'open' GROUP BY referential`);
  const countOf = (list: Array<{ referential: string; n: string }>, referential: string) => Number(list.find((r) => r.referential === referential)?.n ?? 0);
  await client.query('DROP TABLE bench_assigned');
  return rows.map((r) => {
    const predicted = Number(r.predicted);
    const truth = Number(r.truth);
    const tp = Number(r.tp);
    return {
      referential: r.referential,
      records: Number(r.records),
      linked: Number(r.linked),
      entities: Number(r.entities),
      activeGoldens: countOf(goldens.rows, r.referential),
      openReviews: countOf(reviews.rows, r.referential),
      predictedPairs: predicted,
      truePairs: truth,
      truePositivePairs: tp,
      precision: predicted > 0 ? tp / predicted : null,
      recall: truth > 0 ? tp / truth : null,
    };
  });
}

/** The engine's review queue read at each review threshold: open items, their share of persons, the true pairs they propose. */
export interface EngineReviewBand {
  persons: number;
  /** Open items whose best candidate is at or above the link threshold: ties, in review whatever the review threshold. */
  ties: number;
  /**
   * Open items with a candidate one uncertain field from a link (its `review` is `near-link`, src/golden/tie.ts), in
   * review whatever the review threshold; `nearLinkOnly` of them have no candidate at or above review (the items the
   * rule adds to the queue); `nearLinkTrue` the near-link candidates that are the item's own person.
   */
  nearLink: number;
  nearLinkOnly: number;
  nearLinkTrue: number;
  band: Array<{ threshold: number; reviews: number; share: number; truePairs: number }>;
}

/**
 * The persons review band as the engine left it in the database (ref_review_items, each item's candidates with their
 * scores and why they are in review), read at every threshold from `review` to `link` − 1: an item stays open when one
 * of its candidates scores at least the threshold or is near-link (a tie scores at least `link`, so it always stays);
 * a true pair is a proposed candidate holding a source record of the item's own entity (bench_truth). A review links
 * nothing, so the engine's other decisions would be the same at a higher review threshold: this is the queue an import
 * with that threshold leaves, without importing again. The in-memory band (quality.ts) is the matcher's; this one is
 * what stewards would face.
 */
export async function engineReviewBand(client: pg.Client, thresholds: { link: number; review: number }, persons: number): Promise<EngineReviewBand> {
  const cands = `WITH items AS (
       SELECT r.id, r.candidates, t.entity_id FROM ref_review_items r
         LEFT JOIN bench_truth t ON t.referential = r.referential AND t.source_id = r.source_id
        WHERE r.referential = 'persons' AND r.status = 'open'),
     cands AS (
       SELECT i.id, (c->>'score')::float8 AS score, coalesce(c->>'review' = 'near-link', false) AS near,
              EXISTS (SELECT 1 FROM ref_links l JOIN bench_truth t ON t.referential = l.referential AND t.source_id = l.source_id
                       WHERE l.referential = 'persons' AND l.golden_id = c->>'goldenId' AND t.entity_id = i.entity_id) AS same
         FROM items i CROSS JOIN jsonb_array_elements(i.candidates) c)`;
  const { rows } = await client.query<{ threshold: number; reviews: string; true_pairs: string }>(
    `${cands}
     SELECT th::int AS threshold, count(DISTINCT c.id) AS reviews, count(*) FILTER (WHERE c.same) AS true_pairs
       FROM generate_series($1::int, $2::int - 1) AS th JOIN cands c ON c.score >= th OR c.near
      GROUP BY th ORDER BY th`,
    [thresholds.review, thresholds.link],
  );
  const { rows: near } = await client.query<{ ties: string; near_link: string; near_link_only: string; near_link_true: string }>(
    `${cands},
     per_item AS (
       SELECT id, bool_or(score >= $2) AS tie, bool_or(near) AS near, bool_and(score < $1) AS below, count(*) FILTER (WHERE near AND same) AS near_true
         FROM cands GROUP BY id)
     SELECT count(*) FILTER (WHERE tie) AS ties, count(*) FILTER (WHERE near) AS near_link,
            count(*) FILTER (WHERE near AND below) AS near_link_only, coalesce(sum(near_true), 0) AS near_link_true
       FROM per_item`,
    [thresholds.review, thresholds.link],
  );
  return {
    persons,
    ties: Number(near[0]?.ties ?? 0),
    nearLink: Number(near[0]?.near_link ?? 0),
    nearLinkOnly: Number(near[0]?.near_link_only ?? 0),
    nearLinkTrue: Number(near[0]?.near_link_true ?? 0),
    band: rows.map((r) => ({ threshold: r.threshold, reviews: Number(r.reviews), share: Number(r.reviews) / persons, truePairs: Number(r.true_pairs) })),
  };
}
