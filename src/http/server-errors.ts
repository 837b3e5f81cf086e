// Answers given before the app sees a request: Node's HTTP parser refusing it (malformed request line, oversized
// headers, request timeout) and @hono/node-server refusing its target (backslash, missing Host). Both answer
// problem+json with a request id, like everything else the hub says.
import { RequestError } from '@hono/node-server';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ProblemError, type ProblemCode } from './problem.ts';

function parserProblem(code: string | undefined): ProblemError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ProblemError('headers-too-large', 'the request headers are larger than the server accepts', { errors: [{ location: 'header', message: 'too large' }] });
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ProblemError('payload-too-large', 'the chunk extensions are larger than the server accepts', { errors: [{ location: 'body', message: 'chunk extensions too large' }] });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ProblemError('request-timeout', 'the request did not arrive in time', { errors: [{ location: 'request', message: 'incomplete in time' }] });
    default:
      return new ProblemError('request-invalid', 'the request is not valid HTTP/1.1', { errors: [{ location: 'request', message: code ?? 'malformed' }] });
  }
}

const reasons: Partial<Record<ProblemCode, string>> = {
  'headers-too-large': 'Request Header Fields Too Large',
  'payload-too-large': 'Payload Too Large',
  'request-timeout': 'Request Timeout',
};

/** The server's `clientError` listener: what Node would answer in plain text, as problem+json. */
export function answerClientError(logger: Logger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody to answer; a response already under way must not be corrupted.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const requestId = randomUUID();
      const problem = parserProblem(err.code);
      logger.info({ requestId, code: err.code, status: problem.status }, 'request refused by the HTTP parser');
      const body = JSON.stringify(problem.toBody(requestId));
      socket.write(
        `HTTP/1.1 ${problem.status} ${reasons[problem.code] ?? 'Bad Request'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Tabadol-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/** @hono/node-server's errorHandler: a target it cannot turn into a URL is the caller's fault. */
export function answerRequestError(logger: Logger): (err: unknown) => Response {
  return (err) => {
    const requestId = randomUUID();
    if (!(err instanceof RequestError)) {
      // Not the caller's fault (the app itself threw before answering): logged, and nothing internal in the answer.
      logger.error({ requestId, err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack } }, 'unhandled error');
      const internal = new ProblemError('internal', 'an internal error occurred; quote the requestId to the operators');
      return new Response(JSON.stringify(internal.toBody(requestId)), { status: 500, headers: { 'content-type': 'application/problem+json', 'tabadol-request-id': requestId } });
    }
    const problem = new ProblemError('request-invalid', 'the request target or Host header is invalid', { errors: [{ location: 'path', message: (err as Error).message }] });
    logger.info({ requestId, reason: (err as Error).message }, 'request refused before routing');
    return new Response(JSON.stringify(problem.toBody(requestId)), { status: 400, headers: { 'content-type': 'application/problem+json', 'tabadol-request-id': requestId } });
  };
}
