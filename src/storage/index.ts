// Opens the configured database (PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise) and migrates it.
import { migrate } from './migrate.ts';
import { openPgDb } from './pg.ts';
import { openPgliteDb } from './pglite.ts';
import type { Db } from './db.ts';

export type { Db, Queryable, QueryResult, SqlValue } from './db.ts';
export { DatabaseUnavailableError, isConnectionError } from './db.ts';

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  schema?: string;
  onError?: (err: Error) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Db> {
  const db = options.databaseUrl
    ? await openPgDb({ url: options.databaseUrl, poolSize: options.poolSize, schema: options.schema, onError: options.onError })
    : await openPgliteDb({ dataDir: options.dataDir });
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined); // The migration's error is the one to report.
    throw err;
  }
  return db;
}
