// The driving-licence exam appointment system (issue 15 item 3) as a real HTTP server (Hono on node:http) with its own
// generated data (data.ts) and rules (store.ts). Every route needs the integration bearer token. Routes:
//   GET  /sync/candidates?since=&limit=   GET /sync/schools?since=&limit=   (changes after a sequence, for the hub's pull)
//   GET  /centres                         GET /centres/:centre/slots?date=YYYY-MM-DD
//   GET  /statistics?year=&centre=        (appointments per month × half-hour slot, counted from the requests)
//   POST /appointments                    (book; refused when the CIN is suspended)
//   POST /hub/person-changes              (identity corrections, deaths and licence states from the hub)
//   GET  /candidates/:cin                 (a candidate's file and whether its bookings are blocked)
//   POST /suspensions                     (a CIN blocked)
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { dataYear, requestUses } from './data.ts';
import { PermisStore } from './store.ts';
import { serveFetch } from '../shared/local-server.ts';

export interface PermisSimulatorOptions {
  token: string;
  seed?: number;
  candidates?: number;
  schools?: number;
  port?: number;
}

export interface PermisSimulator {
  url: string;
  store: PermisStore;
  close(): Promise<void>;
}

const cinSchema = z.string().regex(/^[A-Z]{1,2}[0-9]{1,6}$/, 'a CIN: 1 or 2 letters, then up to 6 digits');
const dateSchema = z.string().regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, 'YYYY-MM-DD');
const bookingSchema = z.object({ cin: cinSchema, centre: z.string().min(1).max(40), date: dateSchema, slot: z.string().max(5), use: z.enum(requestUses), schoolAgentNumber: z.string().min(1).max(20) });
const personChangesSchema = z.object({
  changes: z.array(z.object({
    cin: cinSchema,
    firstNameLatin: z.string().max(100).optional(), lastNameLatin: z.string().max(100).optional(),
    firstNameArabic: z.string().max(100).optional(), lastNameArabic: z.string().max(100).optional(),
    birthDate: dateSchema.optional(), status: z.string().max(20).optional(), deathDate: dateSchema.optional(),
    licence: z.object({ status: z.enum(['valid', 'suspended']), points: z.number().int().min(0).max(30), suspendedAt: dateSchema.optional() }).optional(),
  })).max(1000),
});
const suspensionSchema = z.object({ cin: cinSchema, reason: z.string().min(1).max(200), until: dateSchema.nullable().default(null) });

const problem = (c: Context, status: 400 | 401 | 404 | 409 | 422, detail: string, field?: string) =>
  c.json({ title: detail, status, ...(field ? { errors: [{ location: field, message: detail }] } : {}) }, status);

function pageParams(c: Context): { since: number; limit: number } {
  const since = Number(c.req.query('since') ?? 0);
  const limit = Number(c.req.query('limit') ?? 200);
  return { since: Number.isSafeInteger(since) && since >= 0 ? since : 0, limit: Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : 200 };
}

async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    return undefined;
  }
}

export function createPermisApp(store: PermisStore, token: string): Hono {
  const app = new Hono();
  const expected = Buffer.from(`Bearer ${token}`);
  app.use('*', async (c, next) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return problem(c, 401, 'the integration token is missing or wrong');
    await next();
  });
  app.get('/sync/candidates', (c) => {
    const { since, limit } = pageParams(c);
    return c.json(store.candidatesSince(since, limit));
  });
  app.get('/sync/schools', (c) => {
    const { since, limit } = pageParams(c);
    return c.json(store.schoolsSince(since, limit));
  });
  app.get('/centres', (c) => c.json({ centres: store.data.centres }));
  app.get('/centres/:centre/slots', (c) => {
    const centre = store.centre(c.req.param('centre'));
    if (!centre) return problem(c, 404, 'no such exam centre', 'path.centre');
    const date = dateSchema.safeParse(c.req.query('date'));
    if (!date.success) return problem(c, 400, 'date must be YYYY-MM-DD', 'query.date');
    return c.json({ centre: centre.code, name: centre.name, date: date.data, slots: store.slots(centre, date.data) });
  });
  app.get('/statistics', (c) => {
    const year = Number(c.req.query('year') ?? dataYear);
    if (!Number.isInteger(year) || year < 2000 || year > 2100) return problem(c, 400, 'year must be between 2000 and 2100', 'query.year');
    const centre = c.req.query('centre');
    if (centre !== undefined && !store.centre(centre)) return problem(c, 404, 'no such exam centre', 'query.centre');
    return c.json({ year, ...(centre ? { centre } : {}), months: store.statistics(year, centre) });
  });
  app.get('/candidates/:cin', (c) => {
    const cin = cinSchema.safeParse(c.req.param('cin'));
    if (!cin.success) return problem(c, 400, 'not a CIN', 'path.cin');
    const candidate = store.candidate(cin.data);
    if (!candidate) return problem(c, 404, 'no candidate with this CIN', 'path.cin');
    const suspension = store.suspended.get(cin.data);
    return c.json({ ...candidate, ...(suspension ? { bookingBlocked: suspension.reason } : {}) });
  });
  app.post('/appointments', async (c) => {
    const input = bookingSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, input.error.issues[0]?.message ?? 'invalid booking', `body.${input.error.issues[0]?.path.join('.') ?? ''}`);
    const result = store.book(input.data);
    if (!result.ok) return problem(c, result.status, result.reason, `body.${result.field}`);
    return c.json(result.request, 201);
  });
  app.post('/hub/person-changes', async (c) => {
    const input = personChangesSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, input.error.issues[0]?.message ?? 'invalid changes', 'body');
    const applied = input.data.changes.filter((change) => store.applyPersonChange(change)).length;
    return c.json({ applied, ignored: input.data.changes.length - applied });
  });
  app.post('/suspensions', async (c) => {
    const input = suspensionSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, input.error.issues[0]?.message ?? 'invalid suspension', 'body');
    store.suspended.set(input.data.cin, { reason: input.data.reason, until: input.data.until });
    return c.body(null, 204);
  });
  return app;
}

export async function startPermisSimulator(options: PermisSimulatorOptions): Promise<PermisSimulator> {
  const store = new PermisStore({ seed: options.seed ?? 15, candidates: options.candidates ?? 40, schools: options.schools ?? 5 });
  const { url, close } = await serveFetch(createPermisApp(store, options.token).fetch, { ...(options.port !== undefined ? { port: options.port } : {}) });
  return { url, store, close };
}
