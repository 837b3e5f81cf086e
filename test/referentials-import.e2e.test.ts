// `tabadol import` as an operator runs it, on a generated file with bad lines appended, on one embedded DATA_DIR;
// and the refusals (not UTF-8 deep in the file, wrong CSV columns) that write nothing.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/storage/index.ts';
import { freshDataDir } from './helpers/db.ts';
import { testDatabaseUrl } from './helpers/env.ts';
import { runToExit } from './helpers/process.ts';
import { hasServer } from './helpers/servers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let dataDir: string;
let work: string;

beforeAll(() => {
  dataDir = freshDataDir();
  work = mkdtempSync(join(tmpdir(), 'tabadol-import-'));
  for (const format of ['ndjson', 'csv']) {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-referentials.ts', '--persons', '200', '--companies', '0', '--vehicles', '0', '--format', format, '--out', work], { cwd: root, stdio: 'ignore' });
  }
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const tabadol = (...args: string[]) => runToExit(args, { DATA_DIR: dataDir }, 120_000);

async function sourceRecords(): Promise<number> {
  const db = await openDatabase({ dataDir });
  try {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ref_source_records');
    return rows[0]?.n ?? 0;
  } finally {
    await db.close();
  }
}

describe('tabadol import', { timeout: 240_000 }, () => {
  it('refuses a file that is not UTF-8 deep inside, and a CSV with wrong columns, writing nothing', async () => {
    const bad = join(work, 'latin1.ndjson');
    writeFileSync(bad, readFileSync(join(work, 'persons.ndjson')));
    appendFileSync(bad, Buffer.concat([Buffer.from('{"sourceId":"z","attributes":{"lastNameLatin":"F'), Buffer.from([0xe8]), Buffer.from('s"}}\n')]));
    const refused = await tabadol('import', bad, '--referential', 'persons', '--source', 'civil-registry');
    expect(refused.code).toBe(1);
    const lines = readFileSync(join(work, 'persons.ndjson'), 'utf8').split('\n').filter(Boolean).length;
    expect(refused.stderr).toContain(`latin1.ndjson: is not UTF-8 (invalid bytes on line ${lines + 1}); nothing was imported`);

    const columns = join(work, 'columns.csv');
    writeFileSync(columns, 'sourceId,cin,shoeSize\na,AB12345,42\n');
    const wrong = await tabadol('import', columns, '--referential', 'persons', '--source', 'civil-registry');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('- header.shoeSize: is not a known column');
    expect(await sourceRecords()).toBe(0);
  });

  it('imports a generated file with bad lines: summary, reasons with line numbers, exit 0', async () => {
    const file = join(work, 'persons.ndjson');
    const good = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    appendFileSync(file, '{not json\n{"sourceId":"bad-1","attributes":{"cin":"AB1","birthDate":"2999-01-01","lastNameLatin":"X"}}\n');
    const run = await tabadol('import', file, '--referential', 'persons', '--source', 'civil-registry', '--batch-size', '100');
    expect(run.stderr).toContain(`${good + 2}/${good + 2} rows`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`: ${good + 2} row(s) in`);
    const number = (label: string) => Number(new RegExp(`${label}\\s+(\\d+)`).exec(run.stdout)?.[1]);
    expect(number('applied') + number('linked') + number('sent to review')).toBe(good);
    expect(number('applied')).toBeGreaterThan(0);
    expect(number('rejected')).toBe(2);
    expect(run.stdout).toContain(`line ${good + 1}: is not valid JSON`);
    expect(run.stdout).toMatch(new RegExp(`line ${good + 2} \\(bad-1\\): body.birthDate: .*future`));
    expect(await sourceRecords()).toBe(good);

    // The same rows again as CSV: nothing changes.
    const again = await tabadol('import', join(work, 'persons.csv'), '--referential', 'persons', '--source', 'civil-registry');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${good})`);
  });

  it.runIf(hasServer('postgres'))('on PostgreSQL decides each chunk while the previous one is written, and says so', { timeout: 180_000 }, async () => {
    // A database of its own (the CLI has no schema setting), dropped afterwards.
    const name = `tabadol_import_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: testDatabaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = new URL(testDatabaseUrl);
      url.pathname = `/${name}`;
      const file = join(work, 'persons.csv');
      const good = readFileSync(file, 'utf8').split('\n').filter(Boolean).length - 1;
      const run = await runToExit(['import', file, '--referential', 'persons', '--source', 'civil-registry', '--batch-size', '50'], { DATA_DIR: dataDir, DATABASE_URL: url.toString() }, 120_000);
      expect(run.code).toBe(0);
      const number = (text: string, label: string) => Number(new RegExp(`${label}\\s+(\\d+)`).exec(text)?.[1]);
      expect(number(run.stdout, 'applied') + number(run.stdout, 'linked') + number(run.stdout, 'sent to review')).toBe(good);
      const chunks = Math.ceil(good / 50);
      expect(run.stdout).toMatch(new RegExp(`pipelined\\s+(\\d+) of ${chunks} chunk`));
      expect(Number(/pipelined\s+(\d+) of/.exec(run.stdout)?.[1])).toBeGreaterThanOrEqual(chunks - 2);
      // The change feed is numbered beside the chunks' transactions: every change, consecutively, before the command ends.
      const imported = new pg.Client({ connectionString: url.toString() });
      await imported.connect();
      try {
        const { rows } = await imported.query<{ n: number; positioned: number; first: number; last: number }>(
          'SELECT count(*)::int AS n, count(position)::int AS positioned, min(position)::int AS first, max(position)::int AS last FROM ref_changes',
        );
        expect(rows[0]?.n).toBeGreaterThanOrEqual(number(run.stdout, 'created'));
        expect(rows[0]).toMatchObject({ positioned: rows[0]?.n, first: 1, last: rows[0]?.n });
      } finally {
        await imported.end();
      }
      const again = await runToExit(['import', file, '--referential', 'persons', '--source', 'civil-registry', '--batch-size', '50'], { DATA_DIR: dataDir, DATABASE_URL: url.toString() }, 120_000);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`unchanged ${good})`);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
