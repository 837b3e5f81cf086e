// The embedded database driver: PGlite (Postgres compiled to WASM) keeping its data in DATA_DIR/pg.
import { PGlite, types } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseUnavailableError, type Db, type Queryable, type QueryResult, type SqlValue } from './db.ts';
import { acquireDirLock, type DirLock } from './dir-lock.ts';

export interface PgliteOptions {
  /** DATA_DIR: the database lives in DATA_DIR/pg, guarded by DATA_DIR/pg.lock. */
  dataDir: string;
}

// Every extension is listed here and created on each open (see migrate.ts), btree_gin before pg_trgm:
// the other order makes trigram queries hang in PGlite 0.5.16.
export const pgliteExtensions = { btree_gin, pg_trgm, unaccent, fuzzystrmatch };

// Long because it is one driver: the embedded database, its serialised transactions and the Db methods over it.
export async function openPgliteDb(options: PgliteOptions): Promise<Db> {
  mkdirSync(options.dataDir, { recursive: true });
  // PGlite is single-process: a second process on the same files would corrupt them.
  const lock: DirLock = acquireDirLock(join(options.dataDir, 'pg.lock'));
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(join(options.dataDir, 'pg'), {
      extensions: pgliteExtensions,
      // int8 as strings, like the pg driver.
      parsers: { [types.INT8]: (v: string) => v },
    });
  } catch (err) {
    lock.release();
    throw err;
  }

  // Closing PGlite while a query runs can leave its WASM Postgres spinning in a synchronous error loop that no signal
  // interrupts; so close() waits for the operations in flight, and refuses new ones meanwhile.
  let inFlight = 0;
  let closing = false;
  const idleWaiters: Array<() => void> = [];
  const track = async <T>(run: () => Promise<T>): Promise<T> => {
    if (closing) throw new DatabaseUnavailableError('the embedded database is closing');
    inFlight++;
    try {
      return await run();
    } finally {
      inFlight--;
      if (inFlight === 0) for (const wake of idleWaiters.splice(0)) wake();
    }
  };

  const asQueryable = (target: Pick<PGlite, 'query' | 'exec'>, tracked: boolean): Queryable => ({
    async query<Row>(sql: string, params?: readonly SqlValue[]): Promise<QueryResult<Row>> {
      const run = async () => {
        const result = await target.query<Row>(sql, params as unknown[] | undefined);
        // PGlite reports affectedRows 0 for a SELECT; pg reports the rows returned. Align on pg.
        return { rows: result.rows, rowCount: Math.max(result.rows.length, result.affectedRows ?? 0) };
      };
      return tracked ? track(run) : run();
    },
    async exec(sql: string): Promise<void> {
      const run = async () => {
        await target.exec(sql);
      };
      return tracked ? track(run) : run();
    },
  });

  return {
    driver: 'pglite',
    ...asQueryable(pglite, true),
    async transaction<T>(fn: (tx: Queryable, prelude?: QueryResult<Record<string, unknown>>) => Promise<T>, options?: { prelude?: string }): Promise<T> {
      // The whole transaction counts as one operation in flight; the statements inside it are not tracked again.
      return track(() =>
        pglite.transaction(async (tx) => {
          const queryable = asQueryable(tx, false);
          if (!options?.prelude) return fn(queryable);
          const results = await tx.exec(options.prelude);
          const last = results[results.length - 1];
          return fn(queryable, last ? { rows: last.rows as Record<string, unknown>[], rowCount: Math.max(last.rows.length, last.affectedRows ?? 0) } : undefined);
        }),
      );
    },
    async ping() {
      if (pglite.closed) throw new Error('embedded database is closed');
    },
    async close() {
      closing = true;
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((resolve) => idleWaiters.push(resolve)), new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())]);
      }
      try {
        if (!pglite.closed) {
          // Leave no transaction state behind for the shutdown (a leftover one was seen to make close() spin in WASM).
          await pglite.exec('ROLLBACK').catch(() => undefined); // Fails when no transaction is open: the usual case.
          await pglite.close();
        }
      } finally {
        lock.release();
      }
    },
  };
}
