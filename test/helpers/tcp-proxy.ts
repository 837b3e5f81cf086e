// A TCP proxy for tests and benchmarks: put it in front of Postgres or Redis and cut() it to simulate losing the
// service, without stopping it; or give it a delay to play a network hop (bench:exchange --hop-ms), counting round trips.
import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxyOptions {
  /** Added to every chunk, each way, in ms (fractions allowed): a network hop between the client and the service. */
  delayMs?: number;
}

/** What crossed the proxy since it started. */
export interface TcpProxyTraffic {
  /**
   * Client → service bursts that follow an answer (or open a connection): a client that pipelines sends one burst and
   * waits once, so each counted burst is one round trip it waited for. The hop's cost is about roundTrips × 2 × delay.
   */
  roundTrips: number;
  /** Chunks forwarded, both ways. */
  chunks: number;
  /** Bytes forwarded, both ways. */
  bytes: number;
  /** Mean time a chunk was held before it was forwarded, in ms (the delay as achieved; 0 without a delay). */
  meanHoldMs: number;
}

export interface TcpProxy {
  readonly port: number;
  /** e.g. url('redis') → 'redis://127.0.0.1:<port>', url('postgres', '/db') → 'postgres://127.0.0.1:<port>/db'. */
  url(protocol: string, path?: string): string;
  /** Destroys every open connection and drops new ones until restore(). */
  cut(): void;
  /** Connections dropped on arrival while cut: each one is a client that noticed the cut and tried to reconnect. */
  readonly refused: number;
  readonly traffic: TcpProxyTraffic;
  restore(): void;
  close(): Promise<void>;
}

interface Held {
  due: number;
  arrived: number;
  to: Socket;
  chunk: Buffer;
}

/**
 * Holds chunks for a fixed delay, in arrival order (the delay is the same for all, so one FIFO is in due order).
 * Node's timers have a 1 ms resolution: a delay under about 1.5 ms is waited by polling I/O (setImmediate) between short
 * blocking sleeps of at most 0.1 ms (Atomics.wait, which uses no CPU), so a chunk is forwarded 0 to ~0.1 ms late.
 */
class DelayLine {
  private readonly queue: Held[] = [];
  private head = 0;
  private scheduled = false;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  holdMsTotal = 0;
  released = 0;

  constructor(private readonly delayMs: number) {}

  push(to: Socket, chunk: Buffer): void {
    const now = performance.now();
    this.queue.push({ due: now + this.delayMs, arrived: now, to, chunk });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.tick);
    }
  }

  private readonly tick = (): void => {
    const now = performance.now();
    while (this.head < this.queue.length) {
      const held = this.queue[this.head] as Held;
      if (held.due > now) break;
      this.head++;
      this.holdMsTotal += now - held.arrived;
      this.released++;
      if (!held.to.destroyed) held.to.write(held.chunk);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const next = this.queue[this.head];
    if (next === undefined) {
      this.scheduled = false;
      return;
    }
    const wait = next.due - now;
    if (wait > 1.5) {
      setTimeout(this.tick, Math.floor(wait - 1));
      return;
    }
    if (wait > 0.02) Atomics.wait(this.sleeper, 0, 0, Math.min(wait, 0.1));
    setImmediate(this.tick);
  };
}

export async function startTcpProxy(target: { host: string; port: number }, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  let refused = 0;
  const delayMs = options.delayMs ?? 0;
  const line = delayMs > 0 ? new DelayLine(delayMs) : undefined;
  const traffic = { roundTrips: 0, chunks: 0, bytes: 0 };

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Errors are expected when either side is destroyed; the 'close' handling above is all we need.
    socket.on('error', () => undefined);
  };

  const server = createServer((client) => {
    track(client);
    // Accept-then-destroy rather than closing the listener: the port stays ours, so restore() cannot fail with EADDRINUSE.
    if (isCut) {
      refused += 1;
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    // Which way the last chunk went: a client chunk after an answer starts a new round trip.
    let lastFromClient = false;
    const forward = (to: Socket, fromClient: boolean) => (chunk: Buffer) => {
      if (fromClient && !lastFromClient) traffic.roundTrips++;
      lastFromClient = fromClient;
      traffic.chunks++;
      traffic.bytes += chunk.byteLength;
      if (line) line.push(to, chunk);
      else to.write(chunk);
    };
    if (line) {
      client.on('data', forward(upstream, true));
      upstream.on('data', forward(client, false));
    } else {
      // No delay: Node's pipes (with back-pressure), counted on the way.
      client.on('data', (chunk: Buffer) => {
        if (!lastFromClient) traffic.roundTrips++;
        lastFromClient = true;
        traffic.chunks++;
        traffic.bytes += chunk.byteLength;
      });
      upstream.on('data', (chunk: Buffer) => {
        lastFromClient = false;
        traffic.chunks++;
        traffic.bytes += chunk.byteLength;
      });
      client.pipe(upstream);
      upstream.pipe(client);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp proxy: unexpected server address');
  const port = address.port;

  const cut = (): void => {
    isCut = true;
    for (const socket of sockets) socket.destroy();
  };

  return {
    port,
    url: (protocol, path = '') => `${protocol}://127.0.0.1:${port}${path}`,
    cut,
    get refused() {
      return refused;
    },
    get traffic() {
      return { ...traffic, meanHoldMs: line && line.released > 0 ? line.holdMsTotal / line.released : 0 };
    },
    restore: () => {
      isCut = false;
    },
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
