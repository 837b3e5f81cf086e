// The exchange endpoints: /x/v1/... (calls to provider services), /meta/v1/... (metaservices) and the hub's JWKS.
// The first two are one pipeline for any service: their shape in the spec is described by exchange-spec.ts.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { requestHeader } from '../app.ts';
import { ProblemError, problemResponses } from '../problem.ts';
import type { IncomingExchange } from '../../exchange/pipeline.ts';

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

/** Reads the body up to the limit; past it, the rest is drained and discarded so that a signed refusal can still be answered. */
async function readBody(c: Context<AppEnv>, limit: number): Promise<{ body: Uint8Array; tooLarge: boolean }> {
  const incoming = c.env?.incoming;
  const declared = Number(requestHeader(c, 'content-length') ?? '0');
  if (!incoming) {
    const body = new Uint8Array(await c.req.arrayBuffer());
    return body.length > limit ? { body: new Uint8Array(0), tooLarge: true } : { body, tooLarge: false };
  }
  if (declared === 0 && incoming.headers['transfer-encoding'] === undefined) return { body: new Uint8Array(0), tooLarge: false };
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = declared > limit;
  for await (const chunk of incoming) {
    if (tooLarge) continue;
    size += (chunk as Buffer).length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(chunk as Buffer);
  }
  if (tooLarge) return { body: new Uint8Array(0), tooLarge };
  return { body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks), tooLarge };
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
    const limit = c.var.deps.config.BODY_LIMIT_BYTES;
    const { body, tooLarge } = await readBody(c, limit);
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
      body,
      ...(tooLarge ? { bodyTooLargeThan: limit } : {}),
    };
    const answer = await hub.pipeline.handle(exchange);
    // The request id is the exchange's own (its jti): replace the generic one set by the app.
    c.header('Tabadol-Request-Id', answer.headers['tabadol-request-id']);
    return c.body(typeof answer.body === 'string' ? answer.body : new Uint8Array(answer.body), answer.status as 200, answer.headers);
  };
  app.all('/x/v1/*', handler);
  app.all('/meta/v1/*', handler);
}
