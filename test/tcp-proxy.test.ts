// The TCP proxy of the fault tests and of bench:exchange --hop-ms: it counts round trips, and a delay holds every
// chunk at least that long each way (a lower bound: it never forwards early).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

let echo: Server | undefined;
let proxy: TcpProxy | undefined;
let client: Socket | undefined;

afterEach(async () => {
  client?.destroy();
  await proxy?.close();
  await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()));
  echo = proxy = client = undefined;
});

async function startEcho(): Promise<number> {
  echo = createServer((socket) => socket.on('data', (chunk) => socket.write(chunk)));
  await new Promise<void>((resolve) => echo?.listen(0, '127.0.0.1', () => resolve()));
  const address = echo.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Sends `text` and resolves with the echo once it is whole. */
function ask(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

describe.each([0, 2])('tcp proxy with a delay of %d ms', (delayMs) => {
  it('forwards both ways and counts one round trip per question answered', async () => {
    const port = await startEcho();
    proxy = await startTcpProxy({ host: '127.0.0.1', port }, { delayMs });
    const opened = connect(proxy.port, '127.0.0.1');
    client = opened;
    await new Promise<void>((resolve) => opened.once('connect', () => resolve()));
    expect(await ask(opened, 'one')).toBe('one');
    expect(await ask(opened, 'two')).toBe('two');
    expect(await ask(opened, 'three')).toBe('three');
    const traffic = proxy.traffic;
    expect(traffic.roundTrips).toBe(3);
    expect(traffic.bytes).toBe(2 * 'onetwothree'.length);
    if (delayMs > 0) expect(traffic.meanHoldMs).toBeGreaterThanOrEqual(delayMs);
    else expect(traffic.meanHoldMs).toBe(0);
  });
});
