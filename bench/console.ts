// bench:console — each console page's server render time on a large message log and registry: a hub in process
// (embedded PGlite, or DATABASE_URL in a schema of its own), the log filled by SQL (generate_series: the rows are not
// a valid chain, which the pages do not read), then each page fetched --runs times with a signed-in session.
// Usage: npm run bench:console -- [--log-rows=1000000] [--members=2000] [--runs=20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { addOperator } from '../src/identity/operators.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startHub } from '../src/runtime.ts';
import { median, parseBenchArgs, percentile, positiveInt, reportHeader, round1, table, writeReport } from './lib.ts';

const usage = ['npm run bench:console -- [--log-rows=N] [--members=N] [--runs=N]', '  each console page fetched --runs times; median and p95 of the server time'];
const args = parseBenchArgs(process.argv.slice(2), { 'log-rows': { type: 'string' }, members: { type: 'string' }, runs: { type: 'string' } }, usage);
const logRows = positiveInt('--log-rows', args['log-rows'], 1_000_000);
const members = positiveInt('--members', args.members, 2_000);
const runs = positiveInt('--runs', args.runs, 20);

const dataDir = mkdtempSync(join(tmpdir(), 'tabadol-bench-console-'));
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: 'off', LOG_LEVEL: 'warn', ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) });
const hub = await startHub(config, { logger: createLogger('warn'), http: true, workers: false, schema: config.DATABASE_URL ? `bench_console_${process.pid}` : undefined });
try {
  const { db } = hub;
  process.stderr.write(`filling: ${logRows} log rows, ${members} members…\n`);
  await db.query(
    `INSERT INTO members (id, kind, name) SELECT 'MA/GOV/B' || g, 'member', 'Membre ' || g FROM generate_series(1, $1::int) g`,
    [members],
  );
  // Spread over the last 30 days, a tenth refused, clients and services cycling; one subject per tenth row.
  await db.query(
    `INSERT INTO message_log (seq, at, request_id, client, service, operation, purpose, status, problem, duration_ms, request_digest, response_digest, prev_hash, hash)
     SELECT g, now() - ((($1::bigint - g) * interval '30 days') / $1::bigint), 'r' || g, 'MA/GOV/B' || (g % 50 + 1) || '/s', 'svc' || (g % 7), 'op', 'p' || (g % 3),
            CASE WHEN g % 10 = 0 THEN 403 ELSE 200 END, CASE WHEN g % 10 = 0 THEN 'convention-missing' END, 10, 'd', 'd', 'h', 'h' || g
       FROM generate_series(1, $1::bigint) g`,
    [logRows],
  );
  await db.query(`INSERT INTO message_subjects (seq, subject_type, subject_hmac, location) SELECT g, 'cin', 'hmac' || (g % 1000), 'path.cin' FROM generate_series(10, $1::bigint, 10) g`, [logRows]);
  for (const table of ['message_log', 'message_subjects', 'members']) await db.query(`ANALYZE ${table}`);
  const { token } = await addOperator(db, { name: 'bench', role: 'admin', actor: 'bench' });
  const origin = hub.url ?? '';
  const signInPage = await fetch(`${origin}/console/sign-in`);
  const pre = (signInPage.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const signedIn = await fetch(`${origin}/console/sign-in`, { method: 'POST', redirect: 'manual', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: pre.split('=')[1] ?? '', token, next: '/console' }) });
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const pages: Record<string, string> = {
    overview: '/console',
    members: '/console/members',
    'members (page 20)': `/console/members?cursor=${Buffer.from(JSON.stringify(['MA/GOV/B5000'])).toString('base64url')}`,
    'member detail': `/console/members/detail?id=${encodeURIComponent('MA/GOV/B1')}`,
    conventions: '/console/conventions',
    'log (latest)': '/console/log',
    'log (by client)': `/console/log?client=${encodeURIComponent('MA/GOV/B7/s')}`,
    'log (refused)': '/console/log?status=refused',
    'log (deep cursor)': `/console/log?cursor=${Buffer.from(JSON.stringify([String(Math.floor(logRows / 2))])).toString('base64url')}`,
    'log entry': `/console/log/${Math.floor(logRows / 2)}`,
    transparency: '/console/transparency?type=cin&id=BK1',
  };
  const rows: string[][] = [];
  const results: Record<string, { medianMs: number; p95Ms: number; status: number }> = {};
  for (const [name, path] of Object.entries(pages)) {
    const times: number[] = [];
    let status = 0;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const res = await fetch(`${origin}${path}`, { headers: { cookie } });
      await res.arrayBuffer();
      times.push(performance.now() - started);
      status = res.status;
    }
    const sorted = Float64Array.from(times).sort();
    results[name] = { medianMs: round1(median(times)), p95Ms: round1(percentile(sorted, 0.95)), status };
    rows.push([name, String(status), round1(median(times)).toFixed(1), round1(percentile(sorted, 0.95)).toFixed(1)]);
  }
  process.stdout.write(`${table(['page', 'status', 'median ms', 'p95 ms'], rows)}\n`);
  const file = writeReport(join(import.meta.dirname, 'results'), 'console', { ...reportHeader('console'), storage: config.DATABASE_URL ? 'postgres' : 'pglite', logRows, members, runs, results });
  process.stderr.write(`written: ${file}\n`);
} finally {
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
}
