// npm run bench:backup -- [--driver pg|pglite] [--persons N] [--log-rows N]
// How long `tabadol backup` and `tabadol restore` take on a realistic database (docs/operations.md, "Continuity of
// service"): N generated persons imported with `tabadol import`, N message-log rows appended through the hub's own
// MessageLog (hash-chained, checkpointed), then the CLI's backup, restore into a fresh schema or data directory, and
// `tabadol log verify` of the copy, each run as an operator runs it. Wall-clock seconds on a machine others share: the
// figures are what an operator waits, not a CPU cost; each command prints its own time too.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { MessageLog } from '../src/message-log/index.ts';
import { openDatabase } from '../src/storage/index.ts';

const { values } = parseArgs({ options: { driver: { type: 'string' }, persons: { type: 'string' }, 'log-rows': { type: 'string' } } });
const driver = values.driver === 'pglite' ? 'pglite' : 'pg';
const persons = Number(values.persons ?? 100_000);
const logRows = Number(values['log-rows'] ?? 100_000);
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const bin = new URL('../bin/tabadol.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'tabadol-bench-backup-'));
const hubId = 'MA/GOV/HUB/core';

const schemaUrl = (schema: string): string => {
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema},public`);
  return url.toString();
};

function tabadol(args: string[], env: { DATA_DIR: string; DATABASE_URL?: string }): { seconds: number; stdout: string } {
  const started = performance.now();
  const run = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, DEMO: 'off', LOG_LEVEL: 'warn', HUB_ID: hubId, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`tabadol ${args.join(' ')} exited ${run.status}:\n${run.stderr}`);
  return { seconds: (performance.now() - started) / 1000, stdout: run.stdout };
}

function duBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  return total;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function main(): Promise<void> {
  const schemas = [`bk_src_${randomBytes(4).toString('hex')}`, `bk_dst_${randomBytes(4).toString('hex')}`];
  const source: { DATA_DIR: string; DATABASE_URL?: string } = driver === 'pg' ? { DATABASE_URL: schemaUrl(schemas[0] ?? ''), DATA_DIR: join(root, 'src') } : { DATA_DIR: join(root, 'src') };
  const target: { DATA_DIR: string; DATABASE_URL?: string } = driver === 'pg' ? { DATABASE_URL: schemaUrl(schemas[1] ?? ''), DATA_DIR: join(root, 'dst') } : { DATA_DIR: join(root, 'dst') };
  if (driver === 'pg') {
    // The source schema exists before the import: a search_path naming a missing schema would land in public.
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schemas[0]}`);
    await client.end();
  }
  try {
    console.log(`driver ${driver}: ${persons} persons, ${logRows} message-log rows (work in ${root})`);
    const generated = join(root, 'generated');
    execFileSync(process.execPath, ['--import', 'tsx', new URL('../scripts/gen-referentials.ts', import.meta.url).pathname, '--persons', String(persons), '--companies', '0', '--vehicles', '0', '--out', generated], { stdio: 'ignore' });
    const imported = tabadol(['import', join(generated, 'persons.ndjson'), '--referential', 'persons'], source);
    console.log(`import of ${persons} persons: ${imported.seconds.toFixed(1)} s`);

    // The log, through the hub's own writer: hash-chained and checkpointed as exchanges are.
    const keys = await loadOrCreateHubKeys({ dataDir: source.DATA_DIR });
    const db = await openDatabase({ databaseUrl: source.DATABASE_URL, dataDir: source.DATA_DIR, ...(driver === 'pg' ? { schema: schemas[0] } : {}) });
    const log = new MessageLog({ db, keyring: new HubKeyring(hubId, keys) });
    const started = performance.now();
    const digest = createHash('sha256').update('bench').digest('base64url');
    for (let done = 0; done < logRows; ) {
      const batch = Math.min(500, logRows - done);
      await Promise.all(
        Array.from({ length: batch }, (_, i) =>
          log.append({ at: new Date(), requestId: `bench-${done + i}`, client: 'MA/GOV/MEF/marches-publics', service: 'MA/GOV/METLE/qualification-btp/classification', operation: 'getCompanyClassification', purpose: 'public-procurement-eligibility', status: 200, durationMs: 3, requestDigest: digest, responseDigest: digest, subjects: [{ type: 'ice', hmac: digest, location: 'path.ice' }] }),
        ),
      );
      done += batch;
    }
    await log.close();
    await db.close();
    console.log(`${logRows} log rows appended: ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const passFile = join(root, 'passphrase');
    writeFileSync(passFile, 'the benchmark backup passphrase\n', { mode: 0o600 });
    const backupDir = join(root, 'backup');
    const backup = tabadol(['backup', '--out', backupDir, '--passphrase-file', passFile], source);
    console.log(`backup: ${backup.seconds.toFixed(1)} s, ${mb(duBytes(backupDir))} (${backup.stdout.split('\n')[0]})`);
    const restore = tabadol(['restore', backupDir, '--passphrase-file', passFile], target);
    console.log(`restore: ${restore.seconds.toFixed(1)} s (${restore.stdout.split('\n')[0]})`);
    const verify = tabadol(['log', 'verify'], target);
    console.log(`log verify of the copy: ${verify.seconds.toFixed(1)} s (${verify.stdout.trim().split('\n').join('; ')})`);
    if (driver === 'pg') {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      const { rows } = await client.query<{ bytes: string }>(`SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'`, [schemas[0]]);
      await client.end();
      console.log(`database size (tables and indexes): ${mb(Number(rows[0]?.bytes ?? 0))}`);
    } else {
      console.log(`data directory size: ${mb(duBytes(join(source.DATA_DIR, 'pg')))}`);
    }
  } finally {
    if (driver === 'pg') {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
