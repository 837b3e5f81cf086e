// The BTP qualification provider's HTTP app (Hono): the routes of contracts/MA.GOV.METLE.qualification-btp/classification/openapi.yaml.
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { z } from 'zod';
import { classes, fixedAnswer, sectorCodes, type CompanyRecord } from './data.ts';
import { icePattern } from './ice.ts';
import { createHubDeliveryVerifier, createHubSignatureVerifier, type HubDeliveryOptions, type HubSignatureOptions } from './hub-signature.ts';
import { BtpStore, type HubCompanyChange } from './store.ts';
import { BtpWorkflow } from './workflow.ts';

export const problemTypePrefix = 'urn:metle:qualification-btp:problem:';

export interface ProviderProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { location: string; message: string }[];
}

type Env = { Bindings: Partial<HttpBindings> };


/** The fixed benchmark answer, as bytes, shared with the server's fast path. */
export const fixedBytes: Uint8Array<ArrayBuffer> = new TextEncoder().encode(JSON.stringify(fixedAnswer));

function problem(c: Context<Env>, status: 400 | 401 | 404 | 500 | 503, code: string, title: string, detail: string, errors?: ProviderProblem['errors']): Response {
  const body: ProviderProblem = { type: problemTypePrefix + code, title, status, detail, ...(errors && errors.length > 0 ? { errors } : {}) };
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json' });
}

function json(c: Context<Env>, text: string): Response {
  return c.body(text, 200, { 'content-type': 'application/json' });
}

const listQuerySchema = z.object({
  secteur: z.enum(sectorCodes as [string, ...string[]]).optional(),
  classe: z.enum(classes).optional(),
  limit: z.string().regex(/^(100|[1-9][0-9]?)$/, 'must be an integer from 1 to 100').optional(),
  offset: z.string().regex(/^(0|[1-9][0-9]{0,4}|100000)$/, 'must be an integer from 0 to 100000').optional(),
});

function summaryOf(record: CompanyRecord) {
  const classes = new Map<string, string>();
  for (const q of record.classification.qualifications) classes.set(q.secteur.code, q.classe);
  return {
    ice: record.profile.ice,
    raisonSociale: record.profile.raisonSociale,
    formeJuridique: record.profile.formeJuridique,
    commune: record.profile.adresse.commune,
    statut: record.classification.statut,
    classes: [...classes].map(([secteur, classe]) => ({ secteur, classe })),
  };
}

export interface BtpAppOptions {
  /** When set, every request of the classification service must carry a valid hub forward signature. */
  hubSignature?: HubSignatureOptions;
  /** The platform's companies (default: a fresh copy of data.ts). */
  store?: BtpStore;
  /** The review workflow over that store, whose counts GET /dashboard answers (default: a new one with its seed). */
  workflow?: BtpWorkflow;
  /**
   * The platform's integration API: GET /sync/companies and PATCH /admin/companies/{ice} with this bearer token, and
   * POST /hub/company-changes with the hub's signed pushes (checked against `hubDelivery`'s keys). Absent: not served.
   */
  integration?: { token: string; hubDelivery: HubDeliveryOptions };
}

/** Paths of the integration API: authenticated by their own means, not by the hub's forward signature. */
const integrationPath = /^\/(sync|admin|hub)\//;

export function createBtpApp(options: BtpAppOptions = {}): Hono<Env> {
  const app = new Hono<Env>();
  const store = options.store ?? new BtpStore();
  const workflow = options.workflow ?? new BtpWorkflow(store);
  if (options.hubSignature) {
    const verify = createHubSignatureVerifier(options.hubSignature);
    app.use('*', async (c, next) => {
      if (options.integration && integrationPath.test(c.req.path)) return next();
      // The raw request-target, as the hub signed it; Request.url would re-serialise the path.
      const raw = c.env?.incoming?.url;
      const target = raw ?? (() => {
        const url = new URL(c.req.url);
        return url.pathname + url.search;
      })();
      const result = await verify({ method: c.req.method, target, header: (name) => c.req.header(name) });
      if (!result.ok) {
        const title = result.status === 503 ? 'Hub keys unavailable' : 'Hub signature refused';
        return problem(c, result.status, result.code, title, result.detail);
      }
      await next();
    });
  }

  app.get('/companies', (c) => {
    const parsed = listQuerySchema.safeParse({
      secteur: c.req.query('secteur'),
      classe: c.req.query('classe'),
      limit: c.req.query('limit'),
      offset: c.req.query('offset'),
    });
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ location: `query.${i.path.join('.')}`, message: i.message }));
      return problem(c, 400, 'request-invalid', 'Request invalid', errors.map((e) => `${e.location}: ${e.message}`).join('; '), errors);
    }
    const { secteur, classe } = parsed.data;
    const limit = Number(parsed.data.limit ?? 20);
    const offset = Number(parsed.data.offset ?? 0);
    // With both filters, the class must be held in that sector, as a procurement notice asks it.
    const companies = store.all();
    const matching = secteur === undefined && classe === undefined ? companies : companies.filter((record) =>
      record.classification.qualifications.some((q) => (secteur === undefined || q.secteur.code === secteur) && (classe === undefined || q.classe === classe)),
    );
    return c.json({ total: matching.length, limit, offset, items: matching.slice(offset, offset + limit).map(summaryOf) });
  });

  const lookup = (c: Context<Env>, answerOf: (ice: string) => string | undefined): Response => {
    const ice = c.req.param('ice') ?? '';
    if (!icePattern.test(ice)) {
      return problem(c, 400, 'request-invalid', 'Request invalid', 'path.ice: an ICE is 15 digits', [{ location: 'path.ice', message: 'an ICE is 15 digits' }]);
    }
    const answer = answerOf(ice);
    // The detail does not echo the ICE: problem bodies may end up in logs.
    return answer === undefined ? problem(c, 404, 'not-found', 'Not found', 'no dossier for this ICE') : json(c, answer);
  };
  app.get('/companies/:ice', (c) => lookup(c, (ice) => store.profileJson(ice)));
  app.get('/companies/:ice/classification', (c) => lookup(c, (ice) => store.classificationJson(ice)));

  // The home screen's counts, computed from the dossiers and requests held now.
  app.get('/dashboard', (c) => c.json(workflow.dashboard()));

  if (options.integration) registerIntegration(app, store, options.integration);
  app.get('/bench/fixed', (c) => c.body(fixedBytes, 200, { 'content-type': 'application/json' }));

  app.notFound((c) => problem(c, 404, 'not-found', 'Not found', 'no such resource'));
  // Nothing about the error is logged or answered: it could carry request data.
  app.onError((_err, c) => problem(c, 500, 'internal', 'Internal error', 'the simulator failed to answer'));
  return app;
}

const changesQuerySchema = z.object({
  since: z.string().regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a change sequence number').optional(),
  limit: z.string().regex(/^([1-9][0-9]{0,2}|1000)$/, 'must be an integer from 1 to 1000').optional(),
});

const editSchema = z.object({
  raisonSociale: z.string().trim().min(1).max(300).optional(),
  raisonSocialeAr: z.string().trim().min(1).max(300).optional(),
  adresse: z.object({ ligne: z.string().trim().min(1).max(300).optional() }).strict().optional(),
  capitalSocial: z.number().int().min(0).max(1e12).optional(),
}).strict();

/**
 * The platform's integration API, as the hub's adapter uses it (adapters/btp-qualification/adapter.ts): its companies
 * changed since a sequence number, a local edit (what the platform's staff would do in its own screens), and the
 * receiver of the hub's company changes. About 50 lines of routes read in order.
 */
function registerIntegration(app: Hono<Env>, store: BtpStore, options: NonNullable<BtpAppOptions['integration']>): void {
  const verifyPush = createHubDeliveryVerifier(options.hubDelivery);
  const expected = `Bearer ${options.token}`;
  const bearer = async (c: Context<Env>, next: () => Promise<void>) => {
    if (c.req.header('authorization') !== expected) return problem(c, 401, 'unauthenticated', 'Unauthenticated', 'a valid integration token is required');
    await next();
  };
  app.use('/sync/*', bearer);
  app.use('/admin/*', bearer);
  app.get('/sync/companies', (c) => {
    const parsed = changesQuerySchema.safeParse({ since: c.req.query('since'), limit: c.req.query('limit') });
    if (!parsed.success) return problem(c, 400, 'request-invalid', 'Request invalid', parsed.error.issues.map((i) => `query.${i.path.join('.')}: ${i.message}`).join('; '));
    return c.json(store.changesSince(Number(parsed.data.since ?? 0), Number(parsed.data.limit ?? 200)));
  });
  app.patch('/admin/companies/:ice', async (c) => {
    const parsed = editSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return problem(c, 400, 'request-invalid', 'Request invalid', parsed.error.issues.map((i) => `body.${i.path.join('.')}: ${i.message}`).join('; '));
    const record = store.edit(c.req.param('ice'), parsed.data);
    return record ? c.json({ ice: record.profile.ice, version: store.version(record.profile.ice) }) : problem(c, 404, 'not-found', 'Not found', 'no dossier for this ICE');
  });
  app.post('/hub/company-changes', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const verified = await verifyPush((name) => c.req.header(name), body);
    if (!verified.ok) return problem(c, verified.status, verified.status === 503 ? 'hub-keys-unavailable' : 'hub-signature-invalid', 'Hub signature refused', verified.detail);
    let push: { deliveries?: Array<{ goldenId?: unknown; version?: unknown; at?: unknown; record?: { attributes?: unknown } }> };
    try {
      push = JSON.parse(new TextDecoder().decode(body)) as typeof push;
    } catch {
      return problem(c, 400, 'request-invalid', 'Request invalid', 'the body is not JSON');
    }
    const outcomes: Record<string, number> = {};
    for (const d of push.deliveries ?? []) {
      if (typeof d.goldenId !== 'string' || typeof d.version !== 'number' || typeof d.at !== 'string') continue;
      const change: HubCompanyChange = { goldenId: d.goldenId, version: d.version, at: d.at, attributes: (d.record?.attributes ?? null) as Record<string, unknown> | null };
      const outcome = store.applyFromHub(change);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    return c.json({ received: verified.deliveryId, ...outcomes });
  });
}
