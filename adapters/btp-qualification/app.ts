// The BTP qualification provider's HTTP app (Hono): the routes of contracts/MA.GOV.METLE.qualification-btp/classification/openapi.yaml.
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { z } from 'zod';
import { classes, companies, fixedAnswer, sectorCodes, type CompanyRecord } from './data.ts';
import { icePattern } from './ice.ts';
import { createHubSignatureVerifier, type HubSignatureOptions } from './hub-signature.ts';

export const problemTypePrefix = 'urn:metle:qualification-btp:problem:';

export interface ProviderProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { location: string; message: string }[];
}

type Env = { Bindings: Partial<HttpBindings> };

// Answers are serialised once at start: the data never changes, and the hub's benchmarks should measure the hub.
const profileJson = new Map(companies.map((c) => [c.profile.ice, JSON.stringify(c.profile)]));
const classificationJson = new Map(companies.map((c) => [c.profile.ice, JSON.stringify(c.classification)]));

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
  /** When set, every request must carry a valid hub forward signature. */
  hubSignature?: HubSignatureOptions;
}

export function createBtpApp(options: BtpAppOptions = {}): Hono<Env> {
  const app = new Hono<Env>();

  if (options.hubSignature) {
    const verify = createHubSignatureVerifier(options.hubSignature);
    app.use('*', async (c, next) => {
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
    const matching = secteur === undefined && classe === undefined ? companies : companies.filter((record) =>
      record.classification.qualifications.some((q) => (secteur === undefined || q.secteur.code === secteur) && (classe === undefined || q.classe === classe)),
    );
    return c.json({ total: matching.length, limit, offset, items: matching.slice(offset, offset + limit).map(summaryOf) });
  });

  const lookup = (c: Context<Env>, answers: ReadonlyMap<string, string>): Response => {
    const ice = c.req.param('ice') ?? '';
    if (!icePattern.test(ice)) {
      return problem(c, 400, 'request-invalid', 'Request invalid', 'path.ice: an ICE is 15 digits', [{ location: 'path.ice', message: 'an ICE is 15 digits' }]);
    }
    const answer = answers.get(ice);
    // The detail does not echo the ICE: problem bodies may end up in logs.
    return answer === undefined ? problem(c, 404, 'not-found', 'Not found', 'no dossier for this ICE') : json(c, answer);
  };
  app.get('/companies/:ice', (c) => lookup(c, profileJson));
  app.get('/companies/:ice/classification', (c) => lookup(c, classificationJson));

  app.get('/bench/fixed', (c) => c.body(fixedBytes, 200, { 'content-type': 'application/json' }));

  app.notFound((c) => problem(c, 404, 'not-found', 'Not found', 'no such resource'));
  // Nothing about the error is logged or answered: it could carry request data.
  app.onError((_err, c) => problem(c, 500, 'internal', 'Internal error', 'the simulator failed to answer'));
  return app;
}
