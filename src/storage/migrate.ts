// Forward-only numbered SQL migrations (src/storage/migrations/NNNN_name.sql), applied at start in one transaction.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './db.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

// Extensions that the referentials rely on; created on every open because PGlite needs it, harmless on a server.
// btree_gin before pg_trgm (see pglite.ts).
const extensions = ['btree_gin', 'pg_trgm', 'unaccent', 'fuzzystrmatch'];

export function loadMigrations(dir: string = migrationsDir): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match?.[1] || !match[2]) throw new Error(`migration file ${file} must be named NNNN_name.sql`);
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return { version: Number(match[1]), name: match[2], sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 0001, 0002, … without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

/** Applies pending migrations; returns the versions applied. Safe to run from several processes at once. */
export async function migrate(db: Db, migrations: Migration[] = loadMigrations()): Promise<number[]> {
  return db.transaction((tx) => applyMigrations(tx, migrations));
}

/** migrate's work inside a transaction the caller holds (a restore applies them in the transaction that loads the rows). */
export async function applyMigrations(tx: Queryable, migrations: Migration[], options: { lock?: boolean } = {}): Promise<number[]> {
  // Serialises concurrent starts (several serve/worker processes on one database). A restore, whose transaction lasts
  // minutes on an empty target no hub uses yet, does without: the lock is the whole database's, other schemas' too.
  if (options.lock ?? true) await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tabadol:migrate'))`);
  for (const name of extensions) await tx.query(`CREATE EXTENSION IF NOT EXISTS ${name} SCHEMA public`);
  await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await tx.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
  const applied = new Map(rows.map((r) => [r.version, r.checksum]));
  const newlyApplied: number[] = [];
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        throw new Error(`migration ${migration.version}_${migration.name} was changed after it was applied; migrations are forward-only: add a new one`);
      }
      continue;
    }
    await tx.exec(migration.sql);
    await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
    newlyApplied.push(migration.version);
  }
  const known = new Set(migrations.map((m) => m.version));
  const unknown = [...applied.keys()].filter((v) => !known.has(v));
  if (unknown.length > 0) throw new Error(`the database has migration ${unknown[0]}, which this version of tabadol does not know: it is newer than this code`);
  return newlyApplied;
}
