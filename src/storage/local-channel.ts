// The running hub's local channel on the embedded database: PGlite admits one process, so the CLI of the data
// directory's owner reaches the hub's own database through a Unix socket in DATA_DIR (mode 0600) instead of refusing
// while the hub runs (docs/decisions.md §16). The hub runs the SQL the CLI sends on its one connection; the commands
// themselves run in the CLI process, with its files, its arguments and its output.
import { chmodSync, existsSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../observability/logger.ts';
import type { Db, Queryable, QueryResult, SqlValue } from './db.ts';
import { decode, encode, LineReader, localChannelPath, maxSocketPathBytes, wireError, type Request } from './local-wire.ts';

/** A transaction the CLI left open this long without a statement is rolled back (the hub's connection is held). */
const idleTransactionMs = 30_000;

export interface LocalChannel {
  path: string;
  close(): Promise<void>;
}

class RolledBackError extends Error {}

interface OpenTransaction {
  tx: Queryable;
  end(commit: boolean): Promise<void>;
  idle: NodeJS.Timeout;
}

// Long because one connection's protocol is one state machine (frames in, a transaction open or not, idle timer,
// answers out); its handlers share that state, which a split would have to pass around.
function serveConnection(db: Db, socket: Socket, logger: Logger): void {
  const transactions = new Map<number, OpenTransaction>();
  const reader = new LineReader();
  const reply = (id: number, result: unknown, error?: unknown) => {
    if (!socket.writable) return;
    socket.write(encode(error === undefined ? { id, result } : { id, error: wireError(error) }));
  };
  // A rollback that fails leaves nothing to undo (the transaction ends with its connection either way), and the CLI that
  // owned it is gone: nobody to tell.
  const rollBackAll = () => {
    for (const open of transactions.values()) void open.end(false).catch(() => undefined);
    transactions.clear();
  };
  const arm = (id: number, open: OpenTransaction) => {
    clearTimeout(open.idle);
    open.idle = setTimeout(() => {
      logger.warn({ tx: id }, 'local channel: a CLI transaction stayed idle too long; rolled back');
      transactions.delete(id);
      void open.end(false).catch(() => undefined); // As in rollBackAll: nothing left to undo, nobody to tell.
      socket.destroy();
    }, idleTransactionMs);
  };

  const begin = (txId: number, prelude: string | undefined): Promise<QueryResult<Record<string, unknown>> | null> =>
    new Promise((resolveBegin, rejectBegin) => {
      let finish!: (commit: boolean) => void;
      const decided = new Promise<void>((resolve, reject) => {
        finish = (commit) => (commit ? resolve() : reject(new RolledBackError()));
      });
      let started = false;
      const done = db.transaction(
        async (tx, preludeRows) => {
          started = true;
          const open: OpenTransaction = {
            tx,
            async end(commit) {
              finish(commit);
              try {
                await done;
              } catch (err) {
                if (!(err instanceof RolledBackError)) throw err;
              }
            },
            idle: setTimeout(() => undefined, 0),
          };
          if (socket.destroyed) finish(false); // the CLI went away while this waited for the connection
          else {
            transactions.set(txId, open);
            arm(txId, open);
          }
          resolveBegin(preludeRows ?? null);
          await decided;
        },
        prelude ? { prelude } : undefined,
      );
      done.catch((err: unknown) => {
        if (!started) rejectBegin(err);
      });
    });

  const handle = async (request: Request): Promise<unknown> => {
    switch (request.op) {
      case 'ping':
        return db.ping();
      case 'begin':
        if (transactions.has(request.tx)) throw new Error(`transaction ${request.tx} is already open`);
        return begin(request.tx, request.prelude);
      case 'commit':
      case 'rollback': {
        const open = transactions.get(request.tx);
        if (!open) throw new Error(`no open transaction ${request.tx}`);
        transactions.delete(request.tx);
        clearTimeout(open.idle);
        return open.end(request.op === 'commit');
      }
      case 'query':
      case 'exec': {
        let target: Queryable = db;
        if (request.tx !== undefined) {
          const open = transactions.get(request.tx);
          if (!open) throw new Error(`no open transaction ${request.tx}`);
          arm(request.tx, open);
          target = open.tx;
        }
        if (request.op === 'exec') return target.exec(request.sql);
        return target.query(request.sql, request.params as SqlValue[] | undefined);
      }
    }
  };

  socket.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk, (line) => {
        const request = decode(line) as Request;
        if (typeof request?.id !== 'number') throw new Error('a message without an id');
        handle(request).then(
          (result) => reply(request.id, result ?? null),
          (err: unknown) => reply(request.id, null, err),
        );
      });
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message } }, 'local channel: a malformed message; connection closed');
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    for (const open of transactions.values()) clearTimeout(open.idle);
    rollBackAll();
  });
}

/**
 * Listens on DATA_DIR/admin.sock, created with mode 0600 (the umask is narrowed while it is bound, and the mode set
 * again after), so that only the owner of the data directory (and root) can connect. Undefined, with a warning, when
 * the path is too long for a socket: the CLI then refuses while the hub runs, as it did before.
 */
export async function openLocalChannel(db: Db, dataDir: string, logger: Logger): Promise<LocalChannel | undefined> {
  const path = localChannelPath(dataDir);
  if (Buffer.byteLength(path) > maxSocketPathBytes) {
    logger.warn({ path }, 'local channel: the socket path is too long; admin commands refuse while the hub runs (use a shorter DATA_DIR)');
    return undefined;
  }
  // This process holds the data directory's lock: a socket file left here is a dead hub's.
  if (existsSync(path)) unlinkSync(path);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(db, socket, logger);
  });
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(path, 0o600);
  if ((statSync(path).mode & 0o077) !== 0) {
    await new Promise((resolve) => server.close(resolve));
    throw new Error(`${path}: could not restrict the socket to its owner`);
  }
  return {
    path,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    },
  };
}
