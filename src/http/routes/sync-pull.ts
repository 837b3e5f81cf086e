// GET /sync/v1/subscriptions/{id}/changes: a pull subscriber reads its changes by cursor, signed as an exchange call and
// answered signed and logged (src/sync/pull-exchange.ts). A malformed path or query is refused only once the signature
// is checked, signed and logged like any other refusal: the route's validation hook hands it to the same endpoint.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ZodError } from 'zod';
import type { AppEnv } from '../context.ts';
import { ProblemError, problemLimits, problemResponse, problemResponses } from '../problem.ts';
import { FeedWatch } from '../../sync/feed-watch.ts';
import { maxPullLimit, maxPullWaitSeconds, type PullQuery } from '../../sync/pull.ts';
import { PullEndpoint } from '../../sync/pull-exchange.ts';

const pushedChange = z
  .object({
    id: z.string().openapi({ description: 'The delivery id <subscription>:<seq>: deduplicate by it', example: 'sub-3k9x0c1q8m2p:1042' }),
    seq: z.number().int().openapi({ description: "The change's position in the feed", example: 1042 }),
    type: z.string().openapi({ example: 'golden.updated' }),
    goldenId: z.string(),
    version: z.number().int(),
    at: z.string().openapi({ description: 'When the change was made (ISO 8601)' }),
    record: z
      .object({ goldenId: z.string().optional(), version: z.number().int().optional(), status: z.string().nullable().optional(), mergedInto: z.string().nullable().optional(), attributes: z.record(z.string(), z.unknown()).nullable().optional() })
      .optional()
      .openapi({ description: "The record at that version, cut to the convention's listChanges fields" }),
  })
  .openapi('PushedChange');

const pullPage = z
  .object({
    subscription: z.string().openapi({ example: 'sub-3k9x0c1q8m2p' }),
    referential: z.string().openapi({ example: 'companies' }),
    purpose: z.string().openapi({ example: 'company-referential-sync' }),
    after: z.number().int().openapi({ description: 'The position read after: acknowledged by this read', example: 1000 }),
    next: z.number().int().openapi({ description: 'Read next with after=next', example: 1042 }),
    more: z.boolean().openapi({ description: 'More changes are there now: read again at once' }),
    state: z.enum(['active', 'paused']).openapi({ description: 'paused: an operator holds the subscription; pages are empty until it resumes' }),
    changes: z.array(pushedChange),
  })
  .openapi('PullPage');

const signedHeaders = {
  'Tabadol-Signature': { description: "The hub's compact JWS over the answer (typ tabadol-response+jwt), as for an exchange answer (docs/protocol.md §4)", schema: { type: 'string' as const } },
  'Tabadol-Request-Id': { description: "Your request's jti", schema: { type: 'string' as const } },
  'Tabadol-Log-Id': { description: 'The message-log sequence number of this read', schema: { type: 'string' as const } },
};

/** A refusal the endpoint answers itself: signed and logged like the page. */
const signedProblem = (description: string) => ({ ...problemResponse(`${description} (signed and logged)`), headers: signedHeaders });

const pullRoute = createRoute({
  method: 'get',
  path: '/sync/v1/subscriptions/{id}/changes',
  operationId: 'pullSubscriptionChanges',
  tags: ['sync'],
  summary: "Read a pull subscription's changes after a cursor (long-poll); reading after N acknowledges N",
  description:
    "Signed as an exchange call (Tabadol-Client, Tabadol-Purpose = the subscription's purpose, Tabadol-Signature over GET and this target with bdh of the empty body). Only the subscription's subscriber may read it, while its convention allows listChanges and the purpose. The answer is signed by the hub and logged (docs/sync.md, Pull and file delivery).",
  security: [{ tabadolSignature: [] }],
  request: {
    params: z.object({ id: z.string().regex(/^sub-[a-z0-9]{12}$/, 'must be a subscription id sub-<12 characters>').openapi({ example: 'sub-3k9x0c1q8m2p' }) }),
    // Documented here; any fault in them is answered by the signature checks (401), before this schema is consulted.
    headers: z.object({
      'tabadol-client': z.string().openapi({ description: "Your subsystem id; equals the signature's `iss`", example: 'MA/GOV/DGI/registre-fiscal' }),
      'tabadol-purpose': z.string().openapi({ description: "The subscription's purpose; equals the signature's `pur`", example: 'fiscal-registry-sync' }),
    }),
    query: z.object({
      after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().openapi({ description: "Read the changes after this position, and acknowledge it (default: the subscription's cursor)", example: 1000 }),
      limit: z.coerce.number().int().min(1).max(maxPullLimit).optional().openapi({ description: "Changes at most (default: the subscription's batch size)", example: 100 }),
      wait: z.coerce.number().int().min(0).max(maxPullWaitSeconds).optional().openapi({ description: `Seconds to wait for a change when there is none yet (long-poll, at most ${maxPullWaitSeconds}); 0 answers at once`, example: 25 }),
    }),
  },
  responses: {
    200: { description: 'A page of changes (possibly empty at the end of the wait), signed', headers: signedHeaders, content: { 'application/json': { schema: pullPage } } },
    400: signedProblem('A malformed path or query, or `after` beyond the feed: `errors` names the field'),
    401: signedProblem('The signature is missing, malformed or does not verify, or its claims do not match the request'),
    403: signedProblem("Not the subscription's subscriber, another purpose, or its convention no longer allows it"),
    404: signedProblem('No such subscription'),
    409: signedProblem('A replayed jti, a subscription that has ended or is not a pull subscription'),
    413: problemResponses[413],
    500: problemResponses[500],
    503: signedProblem('The database or the replay store cannot be reached, or the read could not be logged'),
  },
});

/** A validation failure as the problem the endpoint answers (signed) once the signature is checked. */
function invalidInput(error: ZodError, target: string): ProblemError {
  const place = target === 'param' ? 'path' : target;
  const errors = error.issues.slice(0, problemLimits.errors).map((issue) => ({ location: [place, ...issue.path.map(String)].join('.'), message: issue.message }));
  return new ProblemError('request-invalid', errors.map((e) => `${e.location}: ${e.message}`).join('; '), { errors, errorsOmitted: error.issues.length - errors.length });
}

export function registerSyncPullRoutes(app: OpenAPIHono<AppEnv>): void {
  // One endpoint and one feed watch per app (per hub), made at its first read.
  let endpoint: PullEndpoint | undefined;
  const endpointOf = (c: Context<AppEnv>): PullEndpoint => {
    const { hub, db, logger, config, draining } = c.var.deps;
    if (!hub) throw new ProblemError('not-found', 'this process serves no exchanges');
    endpoint ??= new PullEndpoint({
      hubId: config.HUB_ID,
      db,
      hub,
      logger,
      draining,
      watch: new FeedWatch(db, 200, (err) => logger.warn({ err: { message: (err as Error).message } }, 'feed watch: could not read the feed position')),
    });
    return endpoint;
  };

  const answer = async (c: Context<AppEnv>, query: PullQuery | undefined, invalid?: ProblemError) => {
    const incoming = c.env?.incoming;
    const outgoing = c.env?.outgoing;
    const url = new URL(c.req.url);
    const gone = new AbortController();
    // The subscriber hung up while its read waited: stop waiting for it.
    const onClose = () => gone.abort();
    outgoing?.once('close', onClose);
    try {
      const result = await endpointOf(c).handle({
        subscriptionId: c.req.param('id') ?? '',
        target: incoming?.url ?? `${url.pathname}${url.search}`,
        header: (name) => c.req.header(name),
        query,
        invalid,
        signal: gone.signal,
      });
      c.header('Tabadol-Request-Id', result.headers['tabadol-request-id']);
      return c.body(result.body, result.status as 200, result.headers);
    } finally {
      outgoing?.off('close', onClose);
    }
  };

  app.openapi(
    pullRoute,
    (c) => {
      const q = c.req.valid('query');
      return answer(c, { after: q.after, limit: q.limit, waitSeconds: q.wait }) as never;
    },
    (result, c) => (result.success ? undefined : (answer(c, undefined, invalidInput(result.error as unknown as ZodError, result.target)) as never)),
  );
}
