// The exchange endpoints: /x/v1/... (calls to provider services), /meta/v1/... (metaservices) and the hub's JWKS.
// The first two are one pipeline for any service: their shape in the spec is described by exchange-spec.ts.
import type { IncomingMessage } from 'node:http';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { requestHeader } from '../app.ts';
import { ProblemError, problemResponses } from '../problem.ts';
import type { BodyOutcome, IncomingExchange } from '../../exchange/pipeline.ts';
import { ClientGoneError } from '../client-gone.ts';

const jwksRoute = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  operationId: 'getHubJwks',
  tags: ['exchange'],
  summary: "The hub's public signing keys; retired keys stay listed, marked `tabadol.retired`",
  security: [],
  responses: {
    200: {
      description: 'JWK set (RFC 7517)',
      content: {
        'application/json': {
          schema: z
            .object({ keys: z.array(z.object({ kty: z.string(), kid: z.string(), crv: z.string(), x: z.string(), y: z.string().optional(), alg: z.string(), use: z.string(), 'tabadol.retired': z.string().optional() }).passthrough()) })
            .openapi('JwkSet'),
        },
      },
    },
    413: problemResponses[413],
    500: problemResponses[500],
  },
});

/**
 * Reads an exchange's body once the pipeline asks for it (after checks 1 to 6), bounded by the limit and the body
 * timeout: a declared length over the limit is refused without reading a byte, a body that grows past it or stalls
 * is cut. Nothing is drained: the connection is closed after the answer instead (see `closeIfUnread`).
 */
function bodyReader(c: Context<AppEnv>, limit: number, timeoutSeconds: number): () => Promise<BodyOutcome> {
  return async () => {
    const incoming = c.env?.incoming;
    if (!incoming) {
      // In process (app.request in tests): the body is already whole.
      const body = new Uint8Array(await c.req.arrayBuffer());
      return body.length > limit ? { kind: 'too-large', limit } : { kind: 'read', body };
    }
    const declared = incoming.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) return { kind: 'too-large', limit };
    if ((declared === undefined || Number(declared) === 0) && incoming.headers['transfer-encoding'] === undefined) return { kind: 'read', body: new Uint8Array(0) };
    // The client waits for our go before sending a body it announced with Expect: 100-continue.
    if (/100-continue/i.test(incoming.headers.expect ?? '')) c.env?.outgoing?.writeContinue();
    return readBounded(incoming, limit, timeoutSeconds);
  };
}

function readBounded(incoming: IncomingMessage, limit: number, timeoutSeconds: number): Promise<BodyOutcome> {
  return new Promise<BodyOutcome>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      incoming.pause();
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(() => resolve({ kind: 'too-large', limit }));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(() => resolve({ kind: 'read', body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks) }));
    const onError = () => finish(() => reject(new ClientGoneError('the client closed the connection before its request body was whole')));
    const onClose = () => {
      if (!incoming.complete) onError();
    };
    const timer = setTimeout(() => finish(() => resolve({ kind: 'timeout', seconds: timeoutSeconds })), timeoutSeconds * 1000);
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
    incoming.resume();
  });
}

/**
 * A body left unread (refused before it was read, too large, stalled) is not drained, whatever its declared length:
 * the connection closes once the answer is written.
 */
function closeIfUnread(c: Context<AppEnv>): void {
  const incoming = c.env?.incoming;
  if (!incoming || incoming.complete) return;
  const hasBody = (incoming.headers['content-length'] !== undefined && incoming.headers['content-length'] !== '0') || incoming.headers['transfer-encoding'] !== undefined;
  if (hasBody) c.env?.outgoing?.setHeader('Connection', 'close');
}

export function registerExchangeRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(jwksRoute, (c) => {
    const hub = c.var.deps.hub;
    if (!hub) throw new ProblemError('not-found', 'this process serves no exchanges');
    return c.json(hub.keyring.jwks() as z.infer<typeof jwksRoute.responses[200]['content']['application/json']['schema']>, 200, { 'cache-control': 'max-age=300' });
  });

  const handler = async (c: Context<AppEnv>) => {
    const hub = c.var.deps.hub;
    if (!hub) throw new ProblemError('not-found', 'this process serves no exchanges');
    const incoming = c.env?.incoming;
    let target: string;
    if (incoming?.url) target = incoming.url;
    else {
      const url = new URL(c.req.url);
      target = `${url.pathname}${url.search}`;
    }
    const { BODY_LIMIT_BYTES: limit, BODY_TIMEOUT_SECONDS: timeoutSeconds = 30 } = c.var.deps.config;
    const exchange: IncomingExchange = {
      method: c.req.method,
      target,
      header: (name) => requestHeader(c, name),
      headers: () => {
        if (incoming) {
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
          return out;
        }
        return Object.fromEntries(c.req.raw.headers.entries());
      },
      readBody: bodyReader(c, limit, timeoutSeconds),
    };
    const answer = await hub.pipeline.handle(exchange);
    closeIfUnread(c);
    // The request id is the exchange's own (its jti): replace the generic one set by the app.
    c.header('Tabadol-Request-Id', answer.headers['tabadol-request-id']);
    return c.body(typeof answer.body === 'string' ? answer.body : new Uint8Array(answer.body), answer.status as 200, answer.headers);
  };
  app.all('/x/v1/*', handler);
  app.all('/meta/v1/*', handler);
}
