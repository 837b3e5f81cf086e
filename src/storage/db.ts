// The one database interface that every module uses, whatever the driver (pg pool or embedded PGlite).

export type SqlValue = string | number | bigint | boolean | null | Date | Uint8Array | readonly unknown[] | Record<string, unknown>;

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Something that runs parameterised SQL: the database itself or an open transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly driver: 'pg' | 'pglite';
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws. `prelude` is parameterless SQL
   * run first, sent with BEGIN in the same round trip (a lock that the whole transaction needs, and possibly a read that
   * must follow it); fn gets the rows of its last statement as `prelude`.
   */
  transaction<T>(fn: (tx: Queryable, prelude?: QueryResult<Record<string, unknown>>) => Promise<T>, options?: { prelude?: string }): Promise<T>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The database cannot be reached (connection refused, reset, timed out): a 503, not a 500. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

/** Whether an error from a driver means the server is out of reach (rather than a bad query). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && unavailableCodes.has(code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(err.message);
}
