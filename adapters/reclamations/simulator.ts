// The ministry's complaints platform (issue 16 item 1) as a real HTTP server (Hono on node:http) with its own
// generated data (data.ts) and rules (store.ts). Routes:
//   citizen (the seed's two buttons, no token):
//     POST /complaints                               "soumettre une réclamation": 201 { number, accessCode, deadline }
//     GET  /complaints/:number?code=                 "suivre ma réclamation": status, service, deadline, history
//   integration (bearer token):
//     GET  /sync/complainants?since=&limit=          complainants changed after a sequence (the hub's pull)
//     GET  /sync/status-changes?since=&limit=        status changes after a sequence (told to the citizen portal)
//     GET  /statistics?commune=&category=&status=    complaints by commune, category and status
//     POST /admin/complaints/:number/status          an agent moves a complaint on
//     GET  /admin/complainants/:id                   an agent's screen of a complainant (and the golden version last applied)
//     PATCH /admin/complainants/:id                  an agent corrects a complainant's name
//     POST /hub/person-changes                       name corrections from the hub (not listed back)
// `fault` switches the integration API to `down` (503), `garbage` (200 with a page that is not JSON) or `slow`.
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { territory } from '../../referentials/territory/territory.ts';
import { categoryCodes, channels, statusCodes, type Complaint } from './data.ts';
import { ComplaintsStore, serviceCodes } from './store.ts';
import { serveFetch } from '../shared/local-server.ts';

export type ComplaintsFault = 'none' | 'down' | 'garbage' | 'slow';

export interface ComplaintsSimulatorOptions {
  token: string;
  seed?: number;
  /** The pool of complainants the 3,661 complaints are spread over. */
  persons?: number;
  companies?: number;
  port?: number;
}

export interface ComplaintsSimulator {
  url: string;
  store: ComplaintsStore;
  fault: ComplaintsFault;
  slowMs: number;
  close(): Promise<void>;
}

const cinSchema = z.string().regex(/^[A-Z]{1,2}[0-9]{1,6}$/, 'a CIN: 1 or 2 letters, then up to 6 digits');
const iceSchema = z.string().regex(/^[0-9]{15}$/, 'an ICE: 15 digits');
const name = z.string().trim().min(1).max(100);
const communeSchema = z.string().regex(/^[0-9]{2}\.[0-9]{3}\.[0-9]{2}\.[0-9]{1,2}$/, 'a commune code such as 01.511.01.01');
const numberSchema = z.string().regex(/^REC-[0-9]{4}-[0-9]{6}$/, 'a tracking number such as REC-2019-000123');
const phone = z.string().regex(/^0[5-7][0-9]{8}$/, 'a Moroccan phone number such as 0612345678');

const submissionSchema = z.object({
  complainant: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('person'), cin: cinSchema.optional(), firstNameLatin: name.optional(), lastNameLatin: name.optional(), firstNameArabic: name.optional(), lastNameArabic: name.optional(), phone: phone.optional() })
      .refine((p) => (p.lastNameLatin ?? p.lastNameArabic) !== undefined, { message: 'a last name, in Latin or Arabic letters', path: ['lastNameLatin'] }),
    z.object({ kind: z.literal('company'), ice: iceSchema.optional(), nameFr: name.optional(), nameAr: name.optional(), phone: phone.optional() })
      .refine((c) => (c.nameFr ?? c.nameAr) !== undefined, { message: 'the company name, in French or Arabic', path: ['nameFr'] }),
  ]),
  subject: z.string().trim().min(3).max(200),
  category: z.enum(categoryCodes as [string, ...string[]]),
  channel: z.enum(channels).default('portail'),
  commune: communeSchema,
  description: z.string().trim().min(1).max(4000),
});
const moveSchema = z.object({ status: z.enum(statusCodes as [string, ...string[]]), service: z.enum(serviceCodes as [string, ...string[]]).optional(), note: z.string().max(500).optional() });
const correctionSchema = z.object({ firstNameLatin: name.optional(), lastNameLatin: name.optional(), firstNameArabic: name.optional(), lastNameArabic: name.optional(), nameFr: name.optional(), nameAr: name.optional() })
  .refine((c) => Object.keys(c).length > 0, { message: 'at least one name to correct' });
const personChangesSchema = z.object({
  changes: z.array(z.object({ cin: cinSchema, goldenId: z.string().max(100).optional(), version: z.number().int().min(0).optional(), at: z.iso.datetime({ offset: true }).optional(), firstNameLatin: z.string().max(100).optional(), lastNameLatin: z.string().max(100).optional(), firstNameArabic: z.string().max(100).optional(), lastNameArabic: z.string().max(100).optional() })).max(1000),
});

type ProblemStatus = 400 | 401 | 404 | 409 | 503;
const problem = (c: Context, status: ProblemStatus, detail: string, field?: string) =>
  c.json({ title: detail, status, ...(field ? { errors: [{ location: field, message: detail }] } : {}) }, status);

function firstIssue(error: z.ZodError): { message: string; field: string } {
  const issue = error.issues[0];
  return { message: issue?.message ?? 'invalid', field: `body.${issue?.path.join('.') ?? ''}` };
}

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

/** What the citizen sees of a complaint (never the access code, nor the complainant's identifiers). */
export function followView(c: Complaint): Record<string, unknown> {
  return { number: c.number, subject: c.subject, category: c.category, channel: c.channel, commune: c.commune, status: c.status, service: c.service, submittedAt: c.submittedAt, deadline: c.deadline, history: c.history };
}

export function createComplaintsApp(store: ComplaintsStore, token: string, faults: { fault: ComplaintsFault; slowMs: number }): Hono {
  const app = new Hono();
  const places = territory();
  const expected = Buffer.from(`Bearer ${token}`);
  const integration = async (c: Context, next: () => Promise<void>) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return problem(c, 401, 'the integration token is missing or wrong');
    if (faults.fault === 'down') return problem(c, 503, 'the complaints platform is under maintenance');
    if (faults.fault === 'slow') await new Promise((resolve) => setTimeout(resolve, faults.slowMs));
    if (faults.fault === 'garbage') return c.body('<html><body>Erreur interne</body></html>', 200, { 'content-type': 'application/json' });
    await next();
  };
  for (const path of ['/sync/*', '/statistics', '/admin/*', '/hub/*']) app.use(path, integration);

  app.post('/complaints', async (c) => {
    const input = submissionSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, firstIssue(input.error).message, firstIssue(input.error).field);
    if (places.unit(input.data.commune)?.kind !== 'commune') return problem(c, 400, 'no commune with this code', 'body.commune');
    const complaint = store.submit(input.data as never);
    return c.json({ number: complaint.number, accessCode: complaint.accessCode, status: complaint.status, deadline: complaint.deadline, complainantId: complaint.complainantId }, 201);
  });
  app.get('/complaints/:number', (c) => {
    const number = numberSchema.safeParse(c.req.param('number'));
    if (!number.success) return problem(c, 400, number.error.issues[0]?.message ?? 'invalid number', 'path.number');
    const code = c.req.query('code') ?? '';
    if (!/^[0-9A-Fa-f]{8}$/.test(code)) return problem(c, 400, 'the access code given at filing: 8 characters', 'query.code');
    // One answer for an unknown number and a wrong code: the number alone tells nobody whether it exists.
    const complaint = store.follow(number.data, code);
    return complaint ? c.json(followView(complaint)) : problem(c, 404, 'no complaint with this number and access code', 'path.number');
  });
  app.get('/sync/complainants', (c) => {
    const { since, limit } = pageParams(c);
    return c.json(store.complainantsSince(since, limit));
  });
  app.get('/sync/status-changes', (c) => {
    const { since, limit } = pageParams(c);
    return c.json(store.statusChangesSince(since, limit));
  });
  app.get('/statistics', (c) => {
    const commune = c.req.query('commune');
    const category = c.req.query('category');
    const status = c.req.query('status');
    if (commune !== undefined && !communeSchema.safeParse(commune).success) return problem(c, 400, 'a commune code such as 01.511.01.01', 'query.commune');
    if (category !== undefined && !(categoryCodes as string[]).includes(category)) return problem(c, 400, `category is one of ${categoryCodes.join(', ')}`, 'query.category');
    if (status !== undefined && !(statusCodes as string[]).includes(status)) return problem(c, 400, `status is one of ${statusCodes.join(', ')}`, 'query.status');
    const filter = { ...(commune ? { commune } : {}), ...(category ? { category } : {}), ...(status ? { status } : {}) };
    return c.json({ ...filter, ...store.statistics(filter as never) });
  });
  app.post('/admin/complaints/:number/status', async (c) => {
    const input = moveSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, firstIssue(input.error).message, firstIssue(input.error).field);
    const moved = store.move(c.req.param('number'), input.data.status as never, { ...(input.data.service ? { service: input.data.service as never } : {}), ...(input.data.note ? { note: input.data.note } : {}) });
    if (!moved.ok) return problem(c, moved.status, moved.reason, moved.field === 'number' ? 'path.number' : `body.${moved.field}`);
    return c.json(followView(moved.complaint));
  });
  // An agent's screen of one complainant: what the platform holds, and the last golden version the hub brought it.
  app.get('/admin/complainants/:id', (c) => {
    const who = store.complainant(c.req.param('id'));
    if (!who) return problem(c, 404, 'no complainant with this id', 'path.id');
    const hub = who.kind === 'person' && who.cin ? store.fromHubFor(who.cin) : undefined;
    return c.json({ ...who, ...(hub ? { hub } : {}) });
  });
  app.patch('/admin/complainants/:id', async (c) => {
    const input = correctionSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, firstIssue(input.error).message, firstIssue(input.error).field);
    const corrected = store.correctName(c.req.param('id'), input.data);
    return corrected ? c.json(corrected) : problem(c, 404, 'no complainant with this id', 'path.id');
  });
  app.post('/hub/person-changes', async (c) => {
    const input = personChangesSchema.safeParse(await readJson(c));
    if (!input.success) return problem(c, 400, firstIssue(input.error).message, 'body');
    const applied = input.data.changes.filter((change) => store.applyPersonChange(change)).length;
    return c.json({ applied, ignored: input.data.changes.length - applied });
  });
  return app;
}

export async function startComplaintsSimulator(options: ComplaintsSimulatorOptions): Promise<ComplaintsSimulator> {
  const store = new ComplaintsStore({ seed: options.seed ?? 16, persons: options.persons ?? 400, companies: options.companies ?? 60 });
  const faults = { fault: 'none' as ComplaintsFault, slowMs: 3000 };
  const { url, close } = await serveFetch(createComplaintsApp(store, options.token, faults).fetch, { ...(options.port !== undefined ? { port: options.port } : {}), dropInFlight: true });
  return {
    url,
    store,
    get fault() {
      return faults.fault;
    },
    set fault(value: ComplaintsFault) {
      faults.fault = value;
    },
    get slowMs() {
      return faults.slowMs;
    },
    set slowMs(value: number) {
      faults.slowMs = value;
    },
    close,
  };
}
