// The CLI's side of the local channel (local-channel.ts): a Db whose statements run in the hub process that holds the
// embedded database, so that the admin commands work unchanged while the hub runs.
import { connect, type Socket } from 'node:net';
import { DatabaseUnavailableError, type Db, type Queryable, type QueryResult, type SqlValue } from './db.ts';
import { decode, encode, LineReader, localChannelPath, type Request, type Response, type WireError } from './local-wire.ts';

/** A request before it is numbered (Omit over each member of the union). */
type Outgoing = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

type Pending = { resolve(value: unknown): void; reject(err: Error): void };

function toError(wire: WireError): Error {
  const err = new Error(wire.message);
  if (wire.name) err.name = wire.name;
  if (wire.code) (err as Error & { code?: string }).code = wire.code;
  return err;
}

// Long because it is one client of the local channel: a socket, its frame reader and the Db methods over it, sharing
// the pending requests.
/** Connects to the hub's local channel in dataDir; undefined when no hub listens there. */
export async function connectLocalDb(dataDir: string): Promise<Db | undefined> {
  const path = localChannelPath(dataDir);
  let socket: Socket;
  try {
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path, () => resolve(s));
      s.once('error', reject);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return undefined;
    if (code === 'EACCES') throw new DatabaseUnavailableError(`${path}: permission denied (only the data directory's owner may use the running hub's channel)`);
    throw err;
  }
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let nextTx = 1;
  let closedWith: Error | undefined;
  const fail = (err: Error) => {
    closedWith ??= err;
    for (const p of pending.values()) p.reject(closedWith);
    pending.clear();
  };
  const reader = new LineReader();
  socket.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk, (line) => {
        const response = decode(line) as Response;
        const waiter = pending.get(response.id);
        if (!waiter) return;
        pending.delete(response.id);
        if (response.error) waiter.reject(toError(response.error));
        else waiter.resolve(response.result);
      });
    } catch (err) {
      fail(err as Error);
      socket.destroy();
    }
  });
  socket.on('error', (err) => fail(new DatabaseUnavailableError(`the running hub's channel failed: ${err.message}`)));
  socket.on('close', () => fail(new DatabaseUnavailableError('the running hub closed its channel (it is stopping)')));

  const call = <T>(request: Outgoing): Promise<T> => {
    if (closedWith) return Promise.reject(closedWith);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      socket.write(encode({ ...request, id } as Request));
    });
  };

  const queryable = (tx: number | undefined): Queryable => ({
    query<Row>(sql: string, params?: readonly SqlValue[]): Promise<QueryResult<Row>> {
      return call<QueryResult<Row>>({ op: 'query', sql, params: params as unknown[] | undefined, tx });
    },
    async exec(sql: string): Promise<void> {
      await call({ op: 'exec', sql, tx });
    },
  });

  return {
    driver: 'pglite',
    ...queryable(undefined),
    async transaction<T>(fn: (tx: Queryable, prelude?: QueryResult<Record<string, unknown>>) => Promise<T>, options?: { prelude?: string }): Promise<T> {
      const tx = nextTx++;
      const prelude = await call<QueryResult<Record<string, unknown>> | null>({ op: 'begin', tx, prelude: options?.prelude });
      let result: T;
      try {
        result = await fn(queryable(tx), prelude ?? undefined);
      } catch (err) {
        await call({ op: 'rollback', tx }).catch(() => undefined); // fn's error is the one to report; the server rolls back on its own when the channel fails.
        throw err;
      }
      await call({ op: 'commit', tx });
      return result;
    },
    async ping() {
      await call({ op: 'ping' });
    },
    async close() {
      if (socket.destroyed) return;
      await new Promise<void>((resolve) => socket.end(() => resolve()));
      socket.destroy();
    },
  };
}
