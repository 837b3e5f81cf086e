// A client that closed its connection before its request was whole: nobody is left to answer, and it is the
// client's doing, not the hub's (logged at info, never counted as a server error).
import type { IncomingMessage } from 'node:http';

export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
}

/** Whether an error met while reading a request means the client went away mid-upload. */
export function isClientGone(err: unknown, incoming: IncomingMessage | undefined): boolean {
  if (err instanceof ClientGoneError) return true;
  if (!incoming || incoming.complete) return false;
  const code = (err as { code?: unknown } | undefined)?.code;
  return incoming.aborted || incoming.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Status recorded (metrics, request log) for a request whose client went away: nginx's "client closed request". */
export const clientGoneStatus = 499;
