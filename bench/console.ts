// bench:console — every console page's render time on the full-scale database: a hub in process (embedded PGlite, or
// DATABASE_URL in a schema of its own) with the referentials filled to --persons (bench/console-fill.ts: a generated
// base through the real bulk ingest, then SQL copies), companies, vehicles and ~1 % open review items, the message log
// filled by SQL (generate_series: the rows are not a valid chain, which the pages do not read; one row in ten names a
// subject, one in a thousand the CIN the transparency and by-subject pages ask for, hashed as the log hashes it),
// members, and one signed convention activated through the real path. Each page is then fetched --runs times with a
// signed-in admin session (the time is the HTTP round trip on loopback: the server's render and its queries); a page
// is "ok" when its p95 is under the 200 ms budget (issue 17, item 4), else "OVER". Deep pages are reached by following
// each list's own "page suivante" link --depth times, so they use the console's own cursor.
// --keep=NAME (PostgreSQL only) keeps the filled schema (bench_console_NAME) and the data directory (the hub keys the
// log's subject hashes depend on) after the run, and a later run with the same --keep and sizes times the pages
// without filling again: the fill takes half an hour at 1M, the timing needs a quiet machine.
// Usage: npm run bench:console -- [--persons=1000000] [--companies=N] [--vehicles=N] [--log-rows=1000000] [--members=2000] [--runs=10] [--depth=20] [--keep=NAME]
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateMemberKeyPair } from '../src/admin/keys.ts';
import { loadConfig } from '../src/config.ts';
import { memberKeyResolver } from '../src/identity/key-resolvers.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { activateConvention } from '../src/conventions/store.ts';
import { subjectHmac } from '../src/exchange/subjects.ts';
import { registerMember } from '../src/identity/members.ts';
import { addOperator } from '../src/identity/operators.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub } from '../src/runtime.ts';
import { referentialModules } from '../referentials/index.ts';
import { type FillReport, fillReferentials } from './console-fill.ts';
import { median, parseBenchArgs, percentile, positiveInt, reportHeader, round1, table, writeReport } from './lib.ts';

const budgetMs = 200;
const usage = [
  'npm run bench:console -- [--persons=N] [--companies=N] [--vehicles=N] [--log-rows=N] [--members=N] [--runs=N] [--depth=N] [--keep=NAME]',
  '  defaults: 1,000,000 persons, persons/5 companies, persons/2 vehicles, 1,000,000 log rows, 2,000 members, 10 runs, depth 20',
  '  each console page fetched --runs times; median and p95 ms, "ok" under 200 ms at p95, else "OVER"',
  '  --keep=NAME (PostgreSQL): keep the filled schema and data directory; a later run with the same NAME and sizes skips the fill',
];
const args = parseBenchArgs(
  process.argv.slice(2),
  { persons: { type: 'string' }, companies: { type: 'string' }, vehicles: { type: 'string' }, 'log-rows': { type: 'string' }, members: { type: 'string' }, runs: { type: 'string' }, depth: { type: 'string' }, keep: { type: 'string' } },
  usage,
);
const persons = positiveInt('--persons', args.persons, 1_000_000);
const companies = positiveInt('--companies', args.companies, Math.max(1, Math.floor(persons / 5)));
const vehicles = positiveInt('--vehicles', args.vehicles, Math.max(1, Math.floor(persons / 2)));
const logRows = positiveInt('--log-rows', args['log-rows'], 1_000_000);
const members = positiveInt('--members', args.members, 2_000);
const runs = positiveInt('--runs', args.runs, 10);
const depth = positiveInt('--depth', args.depth, 20);
const transparencyCin = 'BK1';

const keep = args.keep;
if (keep !== undefined && (!/^[a-z0-9_]{1,40}$/.test(keep) || !process.env.DATABASE_URL)) {
  process.stderr.write('--keep=NAME takes lower-case letters, digits and _ (at most 40) and needs DATABASE_URL (a PGlite fill lives in a temporary directory)\n');
  process.exit(2);
}
const dataDir = keep ? join(tmpdir(), `tabadol-bench-console-${keep}`) : mkdtempSync(join(tmpdir(), 'tabadol-bench-console-'));
mkdirSync(dataDir, { recursive: true });
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: 'off', LOG_LEVEL: 'warn', ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) });
const schema = config.DATABASE_URL ? `bench_console_${keep ?? process.pid}` : undefined;
const hub = await startHub(config, { logger: createLogger('warn'), http: true, workers: false, referentials: referentialModules, schema });
try {
  const { db } = hub;
  const sizes = JSON.stringify({ persons, companies, vehicles, logRows, members });
  const kept = keep ? await keptFill(db, sizes) : undefined;
  const { fill, convention, fillSeconds } = kept ?? (await fillAll(db, sizes));
  // Subscriptions that have read nothing yet: the sync page then reports a lag over the whole change feed.
  await db.query(
    `INSERT INTO sync_subscriptions (id, subscriber, referential, convention_id, purpose, mode, target, state, created_by)
     SELECT 'sub-bench000000' || n, 'MA/GOV/B' || n || '/s', r, $1, 'p', m, t, 'active', 'bench'
       FROM (VALUES (1, 'persons', 'pull', NULL), (2, 'companies', 'push', 'https://b2.invalid/changes'), (3, 'vehicles', 'file', '/var/tmp/b3')) v(n, r, m, t)
     ON CONFLICT (id) DO NOTHING`,
    [convention.id],
  );
  const { rows: feed } = await db.query<{ n: string }>('SELECT count(*) AS n FROM ref_changes');
  process.stderr.write(`change feed: ${feed[0]?.n ?? 0} changes, 3 subscriptions at cursor 0\n`);
  const { token } = await addOperator(db, { name: `bench-${Date.now()}`, role: 'admin', actor: 'bench' });
  const origin = hub.url?.replace(/\/$/, '') ?? '';
  const signInPage = await fetch(`${origin}/console/sign-in`);
  const pre = (signInPage.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const signedIn = await fetch(`${origin}/console/sign-in`, { method: 'POST', redirect: 'manual', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: pre.split('=')[1] ?? '', token, next: '/console' }) });
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const get = async (path: string) => {
    const res = await fetch(`${origin}${path}`, { headers: { cookie } });
    return { status: res.status, html: await res.text() };
  };
  /** The page `depth` "page suivante" links after `path`, by the console's own cursors. */
  const deep = async (path: string): Promise<string> => {
    let at = path;
    for (let i = 0; i < depth; i++) {
      const next = /<a href="([^"]+)" rel="next"/.exec((await get(at)).html)?.[1];
      if (!next) break;
      at = next.replaceAll('&amp;', '&');
    }
    return at;
  };

  // What the pages are asked about: a person with history and more than one source, names as the base holds them.
  const { rows: sample } = await db.query<{ id: string; latin: string; arabic: string; valid_from: Date }>(
    `SELECT g.id, g.match_fields->>'nameLatin' AS latin, g.match_fields->>'nameArabic' AS arabic,
            (SELECT min(valid_from) FROM ref_golden_history h WHERE h.golden_id = g.id) AS valid_from
       FROM ref_golden g WHERE g.referential = 'persons' AND g.status = 'active' AND g.version > 1
        AND g.match_fields->>'nameArabic' IS NOT NULL AND (SELECT count(*) FROM ref_links l WHERE l.golden_id = g.id) > 1
      LIMIT 1`,
  );
  const person = sample[0];
  if (!person) throw new Error('no person with history and two sources in the filled database');
  const { rows: items } = await db.query<{ id: string }>(`SELECT id FROM ref_review_items WHERE referential = 'persons' AND status = 'open' ORDER BY id LIMIT 1`);
  const search = (q: string) => `/console/referentials?${new URLSearchParams({ ref: 'persons', q }).toString()}`;
  const pages: Record<string, string> = {
    overview: '/console',
    members: '/console/members',
    'members (deep page)': await deep('/console/members'),
    'member detail': `/console/members/detail?id=${encodeURIComponent('MA/GOV/B1')}`,
    conventions: '/console/conventions',
    'convention detail': `/console/conventions/detail?${new URLSearchParams({ id: convention.id, version: String(convention.version) }).toString()}`,
    'log (latest)': '/console/log',
    'log (by client)': `/console/log?client=${encodeURIComponent('MA/GOV/B7/s')}`,
    'log (refused)': '/console/log?status=refused',
    'log (deep cursor)': `/console/log?cursor=${Buffer.from(JSON.stringify([String(Math.floor(logRows / 2))])).toString('base64url')}`,
    'log (by subject)': `/console/log?subjectType=cin&subject=${transparencyCin}`,
    'log entry': `/console/log/${Math.floor(logRows / 2)}`,
    transparency: `/console/transparency?type=cin&id=${transparencyCin}`,
    'referentials (Latin)': search(person.latin),
    'referentials (Arabic)': search(person.arabic),
    'referentials (deep page)': await deep(search(person.latin.split(' ')[0] ?? person.latin)),
    'golden record': `/console/referentials/persons/${person.id}`,
    'golden record (asOf)': `/console/referentials/persons/${person.id}?asOf=${encodeURIComponent(new Date(person.valid_from.getTime() + 1).toISOString())}`,
    review: '/console/review?ref=persons',
    'review (deep page)': await deep('/console/review?ref=persons'),
    'review item': `/console/review/persons/${items[0]?.id ?? '1'}`,
    sync: '/console/sync',
    statistics: '/console/statistics',
  };
  const rows: string[][] = [];
  const results: Record<string, { path: string; medianMs: number; p95Ms: number; status: number; verdict: 'ok' | 'OVER' }> = {};
  for (const [name, path] of Object.entries(pages)) {
    const times: number[] = [];
    let status = 0;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      status = (await get(path)).status;
      times.push(performance.now() - started);
    }
    const sorted = Float64Array.from(times).sort();
    const p95 = round1(percentile(sorted, 0.95));
    const verdict = p95 < budgetMs && status === 200 ? 'ok' : 'OVER';
    results[name] = { path, medianMs: round1(median(times)), p95Ms: p95, status, verdict };
    rows.push([name, String(status), round1(median(times)).toFixed(1), p95.toFixed(1), verdict]);
  }
  process.stdout.write(`${table(['page', 'status', 'median ms', 'p95 ms', `p95 < ${budgetMs} ms`], rows)}\n`);
  const file = writeReport(join(import.meta.dirname, 'results'), 'console', {
    ...reportHeader('console'),
    storage: config.DATABASE_URL ? 'postgres' : 'pglite',
    persons,
    companies,
    vehicles,
    goldens: fill.goldens,
    openReviewItems: fill.openReviewItems,
    logRows,
    members,
    runs,
    depth,
    fillSeconds: round1(fillSeconds),
    budgetMs,
    results,
  });
  process.stderr.write(`written: ${file}\n`);
} finally {
  await hub.close();
  if (!keep) rmSync(dataDir, { recursive: true, force: true });
  if (schema && config.DATABASE_URL && !keep) {
    // A few GB at full scale: not left behind in the shared database.
    const client = new pg.Client({ connectionString: config.DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

/** A fill kept by an earlier run with --keep and the same sizes, or undefined. */
async function keptFill(db: typeof hub.db, sizes: string): Promise<{ fill: FillReport; convention: { id: string; version: number }; fillSeconds: number } | undefined> {
  await db.query('CREATE TABLE IF NOT EXISTS bench_console_fill (sizes text PRIMARY KEY, report jsonb NOT NULL)');
  const { rows } = await db.query<{ report: { fill: FillReport; convention: { id: string; version: number }; fillSeconds: number } }>('SELECT report FROM bench_console_fill WHERE sizes = $1', [sizes]);
  if (rows[0]) process.stderr.write(`kept fill reused (${sizes}): filled in ${rows[0].report.fillSeconds.toFixed(0)} s when it was made\n`);
  return rows[0]?.report;
}

/** Fills the referentials, members, the message log and one convention; with --keep, records the fill for later runs. */
async function fillAll(db: typeof hub.db, sizes: string): Promise<{ fill: FillReport; convention: { id: string; version: number }; fillSeconds: number }> {
  const fillStarted = performance.now();
  process.stderr.write(`filling: ${persons} persons, ${companies} companies, ${vehicles} vehicles, ${logRows} log rows, ${members} members…\n`);
  const fill = await fillReferentials(db, { persons, companies, vehicles });
  await db.query(`INSERT INTO members (id, kind, name) SELECT 'MA/GOV/B' || g, 'member', 'Membre ' || g FROM generate_series(1, $1::int) g`, [members]);
  // Spread over the last 30 days, a tenth refused, clients and services cycling; one subject per tenth row.
  await db.query(
    `INSERT INTO message_log (seq, at, request_id, client, service, operation, purpose, status, problem, duration_ms, request_digest, response_digest, prev_hash, hash)
     SELECT g, now() - ((($1::bigint - g) * interval '30 days') / $1::bigint), 'r' || g, 'MA/GOV/B' || (g % 50 + 1) || '/s', 'svc' || (g % 7), 'op', 'p' || (g % 3),
            CASE WHEN g % 10 = 0 THEN 403 ELSE 200 END, CASE WHEN g % 10 = 0 THEN 'convention-missing' END, 10, 'd', 'd', 'h', 'h' || g
       FROM generate_series(1, $1::bigint) g`,
    [logRows],
  );
  const askedHmac = subjectHmac(hub.services.keyring.subjectKey, 'cin', transparencyCin);
  await db.query(
    `INSERT INTO message_subjects (seq, subject_type, subject_hmac, location)
     SELECT g, 'cin', CASE WHEN g % 1000 = 0 THEN $2 ELSE 'hmac' || (g % 997) END, 'path.cin' FROM generate_series(10, $1::bigint, 10) g`,
    [logRows, askedHmac],
  );
  // A production database gets its rows over months, with autovacuum setting the visibility map behind them; the fill
  // writes 1.7M changes and 1M log rows in minutes. Vacuumed once, index-only scans read the index alone, as there.
  const filled = ['ref_golden', 'ref_golden_superseded', 'ref_links', 'ref_natural_keys', 'ref_blocking_keys', 'ref_source_records', 'ref_source_versions', 'ref_changes', 'ref_review_items', 'ref_search_names', 'message_log', 'message_subjects', 'members'];
  if (config.DATABASE_URL) await db.query(`VACUUM (ANALYZE) ${filled.join(', ')}`);
  else for (const t of ['message_log', 'message_subjects', 'members']) await db.query(`ANALYZE ${t}`);
  const convention = await activateOneConvention(db, hub.services.keyring);
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  process.stderr.write(`filled in ${fillSeconds.toFixed(0)} s (base ingest ${fill.baseIngestSeconds.toFixed(0)} s, SQL copies ${fill.copySeconds.toFixed(0)} s): ${JSON.stringify(fill.goldens)}, ${fill.openReviewItems} open review items\n`);
  const report = { fill, convention, fillSeconds };
  if (keep) await db.query('INSERT INTO bench_console_fill (sizes, report) VALUES ($1, $2)', [sizes, JSON.stringify(report)]);
  return report;
}

/** The qualification-btp fixture convention, signed by both parties and activated as the admin API does. */
async function activateOneConvention(db: typeof hub.db, keyring: typeof hub.services.keyring): Promise<{ id: string; version: number }> {
  const fixture = join(import.meta.dirname, '..', 'contracts', 'MA.GOV.METLE.qualification-btp', 'classification');
  const provider = 'MA/GOV/METLE/qualification-btp';
  const consumer = 'MA/GOV/MEF/mp-bench';
  const providerKeys = await generateMemberKeyPair('EdDSA', 'btp-bench');
  const consumerKeys = await generateMemberKeyPair('ES256', 'mp-bench');
  await registerMember(db, { id: provider, name: 'Qualification BTP', jwks: providerKeys.publicJwks, actor: 'bench' });
  await registerMember(db, { id: consumer, name: 'Marchés publics', jwks: consumerKeys.publicJwks, actor: 'bench' });
  const serviceDir = join(dataDir, 'contracts', 'MA.GOV.METLE.qualification-btp', 'classification');
  mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
  cpSync(join(fixture, 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
  const dotted = consumer.replaceAll('/', '.');
  const yamlPath = join(serviceDir, 'conventions', `${dotted}.yaml`);
  writeFileSync(yamlPath, readFileSync(join(fixture, 'conventions', 'MA.GOV.MEF.marches-publics.yaml'), 'utf8').replaceAll('MA.GOV.MEF.marches-publics', dotted).replaceAll('MA/GOV/MEF/marches-publics', consumer));
  await signConvention(yamlPath, { signer: provider, privateJwk: providerKeys.privateJwk });
  await signConvention(yamlPath, { signer: consumer, privateJwk: consumerKeys.privateJwk });
  const result = await activateConvention(db, yamlPath, { keyring, resolveKey: memberKeyResolver(db), actor: 'bench' });
  return { id: result.id, version: result.version };
}
