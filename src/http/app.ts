// The one app factory: OpenAPIHono with the shared defaultHook, onError, request ids, logs, metrics, body limit and spec.
import { OpenAPIHono } from '@hono/zod-openapi';
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ZodError } from 'zod';
import { clientGoneStatus, isClientGone } from './client-gone.ts';
import type { AppDeps, AppEnv } from './context.ts';
import { toProblem } from './error-mapping.ts';
import { ProblemError, problemLimits, type ProblemFieldError } from './problem.ts';
import { registerDocsRoutes } from './routes/docs.ts';
import { exceedsJsonBudget, strictUtf8 } from './json-budget.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { StaticMemoRouter } from './static-memo-router.ts';

export const apiInfo = {
  title: 'tabadol hub API',
  version: '1.0.0',
  description:
    'The interoperability and data-exchange hub for Moroccan administrations: signed exchanges under bilateral conventions, single referentials, and sync.',
  license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
};

/** The first issues as field errors (a problem lists no more: problemLimits), and how many were left out. */
function zodErrors(error: ZodError, target: string): { errors: ProblemFieldError[]; omitted: number } {
  const place = target === 'json' || target === 'form' ? 'body' : target === 'param' ? 'path' : target;
  const listed = error.issues.slice(0, problemLimits.errors);
  return {
    errors: listed.map((issue) => ({ location: [place, ...issue.path.map(String)].join('.'), message: issue.message })),
    omitted: error.issues.length - listed.length,
  };
}

export function problemJson(c: Context<AppEnv>, problem: ProblemError): Response {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...problem.options.headers };
  // c.body keeps the headers set earlier on the context (Tabadol-Request-Id).
  return c.body(JSON.stringify(problem.toBody(c.get('requestId'))), problem.status as 400, headers);
}

/**
 * A JSON body of the hub's own API, checked on its bytes before any validator parses it: UTF-8, and within the JSON
 * budget (json-budget.ts). The text stays cached on the request, so the validator does not read the body twice.
 */
async function guardJsonBody(c: Context<AppEnv>): Promise<void> {
  const type = requestHeader(c, 'content-type');
  if (!type || !/[/+]json\b/i.test(type)) return;
  const text = strictUtf8(new Uint8Array(await c.req.arrayBuffer()));
  if (text === undefined) throw new ProblemError('body-malformed', 'the request body is not UTF-8', { errors: [{ location: 'body', message: 'not UTF-8 (RFC 8259 §8.1)' }] });
  const overBudget = exceedsJsonBudget(text);
  if (overBudget) throw new ProblemError('request-invalid', `body: ${overBudget.message}`, { errors: [overBudget] });
}

export const openApiBase = { openapi: '3.1.0', info: apiInfo, servers: [{ url: '/', description: 'this hub' }] };

/**
 * Reads a request header from Node's IncomingMessage when served by @hono/node-server: c.req.header() would make it
 * build a full Web Request (URL, AbortController, Headers) for every call. Falls back to c.req in tests (app.request).
 */
export function requestHeader(c: Context<AppEnv>, name: string): string | undefined {
  const incoming = c.env?.incoming;
  if (incoming) {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return c.req.header(name);
}

const inboundRequestId = /^[A-Za-z0-9._-]{8,128}$/;

// A `.` or `..` segment, plain or percent-encoded (`%2e`, `.%2E`…), that URL parsing (WHATWG, as @hono/node-server
// does it) would resolve away, landing the request on another route: /x/v1/../../admin/v1/members is /admin/v1/members.
const dotSegment = /(?:^|\/)(?:\.|%2e){1,2}(?=\/|$)/i;

/** Whether the raw request target (path before any ?query) holds a dot segment. */
export function hasDotSegment(target: string): boolean {
  // Most targets hold neither `.` nor `%`: two scans of the string spare the regular expression on every request.
  if (!target.includes('.') && !target.includes('%')) return false;
  const q = target.indexOf('?');
  return dotSegment.test(q === -1 ? target : target.slice(0, q));
}

// Long because it is the HTTP middleware stack in order (request id, limits, dot segments, metrics, errors, routes);
// each middleware is a few lines and their order is the point.
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    router: new StaticMemoRouter(),
    defaultHook: (result) => {
      if (!result.success) {
        const { errors, omitted } = zodErrors(result.error, result.target);
        const more = omitted > 0 ? `; and ${omitted} more` : '';
        throw new ProblemError('request-invalid', errors.map((e) => `${e.location}: ${e.message}`).join('; ') + more, { errors, errorsOmitted: omitted });
      }
      return undefined;
    },
  });

  // Histogram children per (method, route, status), so that the hot path does not hash label objects each time.
  const observers = new Map<string, (seconds: number) => void>();
  const observe = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${route} ${status}`;
    let fn = observers.get(key);
    if (!fn) {
      const child = deps.metrics.httpDuration.labels({ method, route, status: String(status) });
      fn = (s: number) => child.observe(s);
      observers.set(key, fn);
    }
    fn(seconds);
  };

  const limitBody = bodyLimit({
    maxSize: deps.config.BODY_LIMIT_BYTES,
    onError: () => {
      throw new ProblemError('payload-too-large', `the request body is larger than ${deps.config.BODY_LIMIT_BYTES} bytes`, {
        errors: [{ location: 'body', message: `larger than ${deps.config.BODY_LIMIT_BYTES} bytes` }],
      });
    },
  });
  // GET and HEAD carry no body: skipping the check spares building a full Request for them (measured: ~11% on
  // /healthz). The exchange routes apply the same limit themselves, so that their 413 is signed and logged.
  const needsBodyLimit = (method: string, path: string) => method !== 'GET' && method !== 'HEAD' && !path.startsWith('/x/v1/') && !path.startsWith('/meta/v1/');

  // One middleware for everything that runs on every request: each extra layer costs on the hot path.
  app.use('*', async (c, next) => {
    const inbound = requestHeader(c, 'x-request-id');
    const requestId = inbound && inboundRequestId.test(inbound) ? inbound : randomUUID();
    c.set('requestId', requestId);
    c.set('deps', deps);
    // Served by @hono/node-server: set on Node's ServerResponse, which keeps Hono's response free of a Headers object
    // and node-server on its fast path (measured: 43k → 50k req/s on /healthz). In process (tests), on the context.
    // Touching the finished response's headers instead would cost a third of the throughput.
    const outgoing = c.env?.outgoing;
    if (outgoing) outgoing.setHeader('Tabadol-Request-Id', requestId);
    else c.header('Tabadol-Request-Id', requestId);
    const started = performance.now();
    const method = c.req.method;
    // Before routing, on the raw target: the router only ever sees the resolved path.
    const rawTarget = c.env?.incoming?.url;
    if (rawTarget !== undefined && hasDotSegment(rawTarget)) {
      c.res = problemJson(c, new ProblemError('request-invalid', 'the path holds a dot segment (. or ..)', { errors: [{ location: 'path', message: 'dot segments (., .., %2e) are not allowed' }] }));
    } else if (needsBodyLimit(method, c.req.path)) {
      try {
        await limitBody(c, async () => {
          await guardJsonBody(c);
          await next();
        });
      } catch (err) {
        c.res = problemJson(c, toProblem(err));
      }
    } else {
      await next();
    }
    const seconds = (performance.now() - started) / 1000;
    // The route template, never the raw path: bounded label cardinality, no identifiers in metrics. Each read of
    // routePath builds an array of the matched routes: read once.
    const status = c.res.status;
    const routePath = c.req.routePath;
    const route = routePath === '/*' || status === 404 ? 'unmatched' : routePath;
    observe(method, route, status, seconds);
    if (status >= 500) {
      deps.logger.warn({ requestId, method, route, status, ms: Math.round(seconds * 1000) }, 'request failed');
    } else if (deps.logger.isLevelEnabled('debug')) {
      deps.logger.debug({ requestId, method, route, status, ms: Math.round(seconds * 1000) }, 'request');
    }
  });

  app.onError((err, c) => {
    if (isClientGone(err, c.env?.incoming)) {
      // The client's doing, not the hub's: no stack, no server error counted.
      deps.logger.info({ requestId: c.get('requestId'), method: c.req.method, reason: (err as Error).message }, 'client closed the connection before its request was whole');
      return c.body(null, clientGoneStatus as 400);
    }
    const problem = toProblem(err);
    if (problem.status >= 500 && !(err instanceof ProblemError)) {
      // The error itself (message and stack) goes to the log; the client gets the request id to quote.
      deps.logger.error({ requestId: c.get('requestId'), err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack } }, 'unhandled error');
    }
    return problemJson(c, problem);
  });

  app.notFound((c) => problemJson(c, new ProblemError('not-found', `no route for ${c.req.method} ${c.req.path}`)));

  registerHealthRoutes(app);

  app.doc31('/openapi.json', openApiBase);
  registerDocsRoutes(app);

  return app;
}
