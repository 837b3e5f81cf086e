// The maritime public-domain occupation system (issue 16 item 3) as a real HTTP server (Hono on node:http) with its own
// generated data (data.ts) and register (store.ts). Every route needs the integration bearer token. Routes:
//   GET   /sync/holders?since=&limit=        (holders changed after a sequence, for the hub's pull)
//   POST  /hub/holder-changes                (golden company and person changes from the hub)
//   GET   /permits?holder=|commune=&state=&limit=&offset=   GET /permits/:number   (what the exchange serves)
//   PATCH /admin/holders/:ref                (a correction typed at the counter)
// `fault` makes it misbehave as real systems do, for the tests: unavailable (503), slow (answers after `slowMs`), garbage.
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { permitStates } from './data.ts';
import { DpmStore } from './store.ts';
import { serveFetch } from '../shared/local-server.ts';

export type DpmFault = 'none' | 'unavailable' | 'slow' | 'garbage';

export interface DpmSimulatorOptions {
  token: string;
  seed?: number;
  permits?: number;
  port?: number;
}

export interface DpmSimulator {
  url: string;
  store: DpmStore;
  /** How it answers from now on (tests). */
  fault: DpmFault;
  slowMs: number;
  close(): Promise<void>;
}

export const iceOrCin = /^([0-9]{15}|[A-Z]{1,2}[0-9]{1,6})$/;
export const communeCode = /^[0-9]{2}\.[0-9]{3}\.[0-9]{2}\.[0-9]{1,2}$/;
export const permitNumber = /^AOT-DPM-[0-9]{4}-[0-9]{4}$/;

const listSchema = z.object({
  holder: z.string().regex(iceOrCin, 'an ICE (15 digits) or a CIN').optional(),
  commune: z.string().regex(communeCode, 'an HCP commune code such as 06.141.01.0').optional(),
  state: z.enum(permitStates).optional(),
  limit: z.string().regex(/^(100|[1-9][0-9]?)$/, 'an integer from 1 to 100').optional(),
  offset: z.string().regex(/^(0|[1-9][0-9]{0,4})$/, 'an integer from 0 to 99999').optional(),
}).refine((q) => (q.holder === undefined) !== (q.commune === undefined), { message: 'give one of holder or commune', path: ['holder'] });

const holderChangesSchema = z.object({
  changes: z.array(z.object({
    referential: z.enum(['companies', 'persons']),
    goldenId: z.string().min(1).max(100),
    version: z.number().int().min(1),
    attributes: z.record(z.string(), z.unknown()),
  })).max(1000),
});

const editSchema = z.object({
  raisonSociale: z.string().trim().min(1).max(300).optional(),
  nomLatin: z.string().trim().min(1).max(100).optional(),
  prenomLatin: z.string().trim().min(1).max(100).optional(),
}).strict();

const problem = (c: Context, status: 400 | 401 | 404 | 503, detail: string, field?: string) =>
  c.json({ title: detail, status, ...(field ? { errors: [{ location: field, message: detail }] } : {}) }, status);

async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    return undefined;
  }
}

export function createDpmApp(store: DpmStore, token: string, behaviour: Pick<DpmSimulator, 'fault' | 'slowMs'>): Hono {
  const app = new Hono();
  const expected = Buffer.from(`Bearer ${token}`);
  app.use('*', async (c, next) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return problem(c, 401, 'the integration token is missing or wrong');
    if (behaviour.fault === 'unavailable') return problem(c, 503, 'the register is closed for maintenance');
    if (behaviour.fault === 'garbage') return c.body('<html><body>Erreur interne du serveur d\'application</body></html>', 200, { 'content-type': 'application/json' });
    if (behaviour.fault === 'slow') await new Promise((resolve) => setTimeout(resolve, behaviour.slowMs));
    await next();
  });
  app.get('/sync/holders', (c) => {
    const since = Number(c.req.query('since') ?? 0);
    const limit = Number(c.req.query('limit') ?? 200);
    if (!Number.isSafeInteger(since) || since < 0) return problem(c, 400, 'since must be a change sequence number', 'query.since');
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return problem(c, 400, 'limit must be from 1 to 1000', 'query.limit');
    return c.json(store.holdersSince(since, limit));
  });
  app.post('/hub/holder-changes', async (c) => {
    const input = holderChangesSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, input.error.issues[0]?.message ?? 'invalid changes', `body.${input.error.issues[0]?.path.join('.') ?? ''}`);
    const outcomes: Record<string, number> = {};
    for (const change of input.data.changes) {
      const outcome = store.applyFromHub(change);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    return c.json(outcomes);
  });
  app.get('/permits', (c) => {
    const q = listSchema.safeParse(Object.fromEntries(['holder', 'commune', 'state', 'limit', 'offset'].flatMap((k) => (c.req.query(k) === undefined ? [] : [[k, c.req.query(k)]]))));
    if (!q.success) return problem(c, 400, q.error.issues[0]?.message ?? 'invalid query', `query.${q.error.issues[0]?.path.join('.') ?? ''}`);
    const limit = Number(q.data.limit ?? 20);
    const offset = Number(q.data.offset ?? 0);
    let commune: { code: string; name: string } | undefined;
    if (q.data.commune !== undefined) {
      commune = store.currentCommune(q.data.commune);
      if (!commune) return problem(c, 404, 'no commune has this code, today or in 2014', 'query.commune');
    }
    const found = (q.data.holder !== undefined ? store.byHolderId(q.data.holder) : store.byCommune(q.data.commune ?? ''))
      .filter((p) => q.data.state === undefined || p.state === q.data.state)
      .sort((a, b) => a.number.localeCompare(b.number));
    return c.json({ ...(commune ? { commune } : {}), total: found.length, limit, offset, items: found.slice(offset, offset + limit).map((p) => store.view(p)) });
  });
  app.get('/permits/:number', (c) => {
    const number = c.req.param('number');
    if (!permitNumber.test(number)) return problem(c, 400, 'a permit number is AOT-DPM-YYYY-NNNN', 'path.number');
    const permit = store.permit(number);
    return permit ? c.json(store.view(permit)) : problem(c, 404, 'no such permit', 'path.number');
  });
  app.patch('/admin/holders/:ref', async (c) => {
    const input = editSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, input.error.issues[0]?.message ?? 'invalid edit', `body.${input.error.issues[0]?.path.join('.') ?? ''}`);
    const edited = store.editHolder(c.req.param('ref'), (h) => {
      if (h.kind === 'company' && input.data.raisonSociale !== undefined) h.raisonSociale = input.data.raisonSociale;
      if (h.kind === 'person' && input.data.nomLatin !== undefined) h.nomLatin = input.data.nomLatin;
      if (h.kind === 'person' && input.data.prenomLatin !== undefined) h.prenomLatin = input.data.prenomLatin;
    });
    return edited ? c.json(edited) : problem(c, 404, 'no such holder', 'path.ref');
  });
  app.notFound((c) => problem(c, 404, 'no such resource'));
  // Nothing of the error is answered: it could carry request data.
  app.onError((_err, c) => c.json({ title: 'the register failed to answer', status: 500 }, 500));
  return app;
}

export async function startDpmSimulator(options: DpmSimulatorOptions): Promise<DpmSimulator> {
  const store = new DpmStore({ seed: options.seed ?? 16, ...(options.permits ? { permits: options.permits } : {}) });
  const sim = { fault: 'none' as DpmFault, slowMs: 3000 };
  const { url, close } = await serveFetch(createDpmApp(store, options.token, sim).fetch, { ...(options.port !== undefined ? { port: options.port } : {}), dropInFlight: true });
  return Object.assign(sim, {
    url,
    store,
    close,
  });
}
