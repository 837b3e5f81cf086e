// Test databases on both drivers, each isolated: PGlite in a fresh copy of the template, PostgreSQL in a schema of its own.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import pg from 'pg';
import { openDatabase } from '../../src/storage/index.ts';
import type { Db } from '../../src/storage/db.ts';
import { testDatabaseUrl } from './env.ts';
import { hasServer } from './servers.ts';

export type DriverName = 'pglite' | 'pg';
/** The drivers this run tests on: PGlite always, PostgreSQL when the run has it (see test/global-setup.ts). */
export function drivers(): DriverName[] {
  return hasServer('postgres') ? ['pglite', 'pg'] : ['pglite'];
}

export interface TestDb {
  db: Db;
  /** PGlite: the DATA_DIR; pg: the schema. */
  where: string;
  dispose(): Promise<void>;
}

/** A data dir holding an initialised (not migrated) PGlite cluster. */
export function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tabadol-test-'));
  cpSync(inject('pgliteTemplate'), dir, { recursive: true });
  return dir;
}

export function uniqueSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string, url: string = testDatabaseUrl): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export async function openTestDb(driver: DriverName, options: { url?: string } = {}): Promise<TestDb> {
  if (driver === 'pglite') {
    const dataDir = freshDataDir();
    const db = await openDatabase({ dataDir });
    return {
      db,
      where: dataDir,
      async dispose() {
        await db.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const schema = uniqueSchema();
  const db = await openDatabase({ databaseUrl: options.url ?? testDatabaseUrl, dataDir: '', schema });
  return {
    db,
    where: schema,
    async dispose() {
      await db.close();
      await dropSchema(schema);
    },
  };
}

/** Another pool on an existing test schema (pg only): a second hub process on the same database. */
export async function openSameSchema(schema: string, options: { url?: string } = {}): Promise<Db> {
  return openDatabase({ databaseUrl: options.url ?? testDatabaseUrl, dataDir: '', schema });
}

/** Empties every referential table (and the outbox and audit they write to) between tests sharing one database. */
export async function emptyReferentials(db: Db): Promise<void> {
  await db.exec(
    `TRUNCATE ref_source_records, ref_source_versions, ref_golden, ref_search_names, ref_blocking_keys, ref_golden_superseded, ref_links, ref_natural_keys,
       ref_review_items, ref_distinct_pairs, ref_steward_decisions, ref_changes, ref_maintenance, outbox, admin_audit RESTART IDENTITY CASCADE`,
  );
}

/**
 * Every golden record's row, by id, without its current version's history (why, when and in which order that version
 * was written: migration 0027): what an unmerge restores exactly, the unmerge itself being a new history entry.
 */
export async function goldenRowsWithoutHistory(db: Db): Promise<Array<Record<string, unknown>>> {
  const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM ref_golden ORDER BY id');
  return rows.map(({ cause: _cause, valid_from: _validFrom, version_seq: _seq, ...rest }) => rest);
}

/**
 * The blocking-key rows (stored as hashes: migration 0026), each shown as the key its record lists under that hash, or
 * `#<hash>` for a row that no key of its record's list hashes to; by record, then key. `goldenId`: one record's only.
 */
export async function blockingKeyRows(db: Db, goldenId?: string): Promise<Array<{ golden_id: string; key: string }>> {
  const { rows } = await db.query<{ golden_id: string; key: string }>(
    `SELECT b.golden_id, COALESCE(
              (SELECT k FROM ref_golden g CROSS JOIN unnest(g.blocking_keys) AS k
                WHERE g.id = b.golden_id AND hashtextextended(g.referential || ':' || k, 0) = b.key_hash LIMIT 1),
              '#' || b.key_hash) AS key
       FROM ref_blocking_keys b WHERE $1::text IS NULL OR b.golden_id = $1 ORDER BY 1, 2`,
    [goldenId ?? null],
  );
  return rows;
}

/**
 * One database for the enclosing describe block, emptied of referential rows after each test: the tests stay
 * independent, and PGlite is opened and closed once rather than once per test (many open/close cycles of PGlite in one
 * process were seen to leave its WASM Postgres spinning at close). `use` receives it before the first test.
 */
export function referentialsDbPerBlock(driver: DriverName, use: (t: TestDb) => void): void {
  let t: TestDb | undefined;
  beforeAll(async () => {
    t = await openTestDb(driver);
    use(t);
  });
  afterEach(async () => {
    if (t) await emptyReferentials(t.db);
  });
  afterAll(async () => {
    await t?.dispose();
  });
}
