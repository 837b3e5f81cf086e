// The webhooks of the hub's adapters: POST /sync/v1/adapters/{adapter}/webhook. The adapter verifies the call (its
// system's own signature or secret) and parses the body; what it gives is written to the system's ingest queue (the
// outbox) before the answer, so a 202 means the records are in PostgreSQL. The body limit and JSON budget of every
// route apply (src/http/app.ts).
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/context.ts';
import { ProblemError } from '../http/problem.ts';
import type { SyncAdapter } from './adapter.ts';
import { adapterConfig } from './inbound.ts';
import { InboundRecordError, queueInbound } from './ingest.ts';

export const webhookPath = '/sync/v1/adapters/:adapter/webhook';

/** The route, for the adapters that take webhooks; registered by the runtime when it serves HTTP. */
export function webhookRoutes(adapters: readonly SyncAdapter[], relay: () => { notify(): void } | undefined): (app: OpenAPIHono<AppEnv>) => void {
  const byId = new Map(adapters.filter((a) => a.webhook).map((a) => [a.id, a]));
  return (app) => {
    app.post(webhookPath, async (c) => {
      const adapter = byId.get(c.req.param('adapter'));
      const webhook = adapter?.webhook;
      if (!adapter || !webhook) throw new ProblemError('not-found', 'no adapter takes webhooks under this name');
      const { db, logger } = c.var.deps;
      const config = await adapterConfig(db, adapter);
      if (!config.ok) throw new ProblemError('not-ready', `adapter ${adapter.id} is not configured`);
      const body = new Uint8Array(await c.req.arrayBuffer());
      const ctx = { config: config.config, logger: logger.child({ adapter: adapter.id }), signal: c.req.raw.signal };
      if (!(await webhook.verify(ctx, { header: (name) => c.req.header(name), body }))) throw new ProblemError('unauthenticated', `the call does not verify as ${adapter.system}'s`);
      let records;
      try {
        records = webhook.parse(body);
      } catch (err) {
        throw new ProblemError('request-invalid', `adapter ${adapter.id} cannot read this body`, { errors: [{ location: 'body', message: (err as Error).message.slice(0, 300) }] });
      }
      const parsed = records;
      try {
        await db.transaction((tx) => queueInbound(tx, adapter, parsed));
      } catch (err) {
        if (err instanceof InboundRecordError) throw new ProblemError('unprocessable', err.message, { errors: [{ location: 'body', message: err.message }] });
        throw err;
      }
      relay()?.notify();
      return c.json({ accepted: parsed.length }, 202);
    });
  };
}
