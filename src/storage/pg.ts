// The production database driver: a node-postgres pool against PostgreSQL (DATABASE_URL).
import pg from 'pg';
import { type Db, DatabaseUnavailableError, isConnectionError, type Queryable, type QueryResult, type SqlValue } from './db.ts';

// int8 (bigserial ids, counts) as strings on both drivers: exact, and JSON-safe.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => v);

export interface PgOptions {
  url: string;
  poolSize?: number;
  /** A schema to use instead of public (tests isolate themselves this way); created if missing. */
  schema?: string;
  connectTimeoutMs?: number;
  onError?: (err: Error) => void;
}

function translate(err: unknown): never {
  if (isConnectionError(err)) throw new DatabaseUnavailableError((err as Error).message);
  throw err;
}

// Long because it is one driver: the pool, its error mapping and the Db methods over it, sharing the pool.
export async function openPgDb(options: PgOptions): Promise<Db> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new Error(`invalid schema name ${options.schema}`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    // Without it, a query on a half-open TCP connection could wait for the kernel's timeout.
    keepAlive: true,
    // JIT off (docs/decisions.md §22): the hub's statements are short, and PostgreSQL compiled some of them for up
    // to a second (a status over three subscriptions: 0.9 s of JIT for 0.1 s of work) when its estimates ran high.
    options: `-c jit=off${options.schema ? ` -c search_path=${options.schema},public` : ''}`,
  });
  // An idle client losing its connection emits here; without a listener the process would crash.
  pool.on('error', (err) => options.onError?.(err));

  const asQueryable = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<Row>(sql: string, params?: readonly SqlValue[]): Promise<QueryResult<Row>> {
      try {
        const result = await client.query(sql, params as unknown[] | undefined);
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
      } catch (err) {
        return translate(err);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        // Without parameters node-postgres uses the simple protocol, which accepts several statements.
        await client.query(sql);
      } catch (err) {
        translate(err);
      }
    },
  });

  const db: Db = {
    driver: 'pg',
    ...asQueryable(pool),
    async transaction<T>(fn: (tx: Queryable, prelude?: QueryResult<Record<string, unknown>>) => Promise<T>, options?: { prelude?: string }): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        return translate(err);
      }
      let broken = false;
      try {
        // Without parameters this is the simple protocol: BEGIN and the prelude travel in one round trip, and each
        // statement's result comes back (an array of them for more than one).
        const begun: pg.QueryResult | pg.QueryResult[] = await client.query(options?.prelude ? `BEGIN; ${options.prelude}` : 'BEGIN');
        const last = Array.isArray(begun) ? begun[begun.length - 1] : undefined;
        const result = await fn(asQueryable(client), options?.prelude && last ? { rows: last.rows as Record<string, unknown>[], rowCount: last.rowCount ?? 0 } : undefined);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (isConnectionError(err)) broken = true;
        return translate(err);
      } finally {
        // A client whose connection broke must not go back to the pool.
        client.release(broken ? true : undefined);
      }
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };

  try {
    if (options.schema) await db.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    else await db.ping();
  } catch (err) {
    await pool.end().catch(() => undefined); // The connection's error is the one to report.
    throw err;
  }
  return db;
}
