// Liveness, readiness and Prometheus metrics.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { problemBody, problemResponse, problemResponses } from '../problem.ts';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'Liveness: the process is up',
  security: [],
  responses: {
    200: {
      description: 'The process is up',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).openapi('Health') } },
    },
    413: problemResponses[413],
    500: problemResponses[500],
  },
});

const checkSchema = z.object({
  database: z.string().openapi({ example: 'ok' }),
  queue: z.string().openapi({ example: 'ok' }),
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['operations'],
  summary: 'Readiness: the database and the queue are reachable',
  security: [],
  responses: {
    200: {
      description: 'Ready to serve',
      content: { 'application/json': { schema: z.object({ status: z.literal('ready'), checks: checkSchema }).openapi('Readiness') } },
    },
    413: problemResponses[413],
    500: problemResponses[500],
    503: problemResponse('Not ready; `checks` says which dependency failed and why'),
  },
});

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['operations'],
  summary: 'Prometheus metrics: HTTP latency by route, queue depths, outbox lag',
  security: [],
  responses: {
    200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
    413: problemResponses[413],
    500: problemResponses[500],
  },
});

async function check(probe: () => Promise<void>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `unreachable: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** The not-ready problem (problemBody), with what each dependency answered. */
function notReady(c: Context<AppEnv>, detail: string, checks: { database: string; queue: string }) {
  return c.json(problemBody('not-ready', detail, { requestId: c.var.requestId, extensions: { checks } }), 503, { 'content-type': 'application/problem+json' });
}

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyz, async (c) => {
    const { db, queue, draining } = c.var.deps;
    const [database, queueCheck] = await Promise.all([check(() => db.ping(), 2000), check(() => queue.ping(), 2000)]);
    const checks = { database, queue: queueCheck };
    if (draining?.()) {
      return notReady(c, 'shutting down', checks);
    }
    if (database !== 'ok' || queueCheck !== 'ok') {
      const detail = Object.entries(checks)
        .filter(([, v]) => v !== 'ok')
        .map(([k, v]) => `${k} ${v}`)
        .join('; ');
      return notReady(c, detail, checks);
    }
    return c.json({ status: 'ready' as const, checks }, 200);
  });

  app.openapi(metrics, async (c) => {
    const { registry, exposition } = c.var.deps.metrics;
    try {
      return c.text(await exposition(), 200, { 'content-type': registry.contentType });
    } catch (err) {
      // The supervisor did not answer (it is restarting a child, say): this process's own series, said so in the text.
      c.var.deps.logger.warn({ err: { message: (err as Error).message } }, 'metrics: the cluster aggregate is unavailable; serving this process only');
      return c.text(`# tabadol: this process only (${(err as Error).message})\n${await registry.metrics()}`, 200, { 'content-type': registry.contentType });
    }
  });
}
