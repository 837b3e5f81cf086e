// MARROUTE (the ministry's road information system) as a real HTTP server (Hono on node:http) holding its own data
// (data.ts) and rules (store.ts). Every route needs the integration bearer token. Routes:
//   GET  /evenements?province=&commune=&type=&etat=   its events of a province (and of a commune, as it files them)
//   GET  /evenements/:id                              one event
//   POST /evenements                                  a DPETL reports an event (a former commune code it knows is re-filed)
//   POST /evenements/:id/etat                         an event's state changes (reopened, closed again)
//   POST /hub/territory-changes                       renumberings from the hub (a commune's code and its former codes)
//   GET  /renumerotations                             the renumberings it has received
// Switchable faults (`fault`): down (503), garbage (an HTML page with a 200), slow (answers after slowMs).
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { eventStates, eventTypes } from './data.ts';
import { MarrouteStore } from './store.ts';
import { serveFetch } from '../shared/local-server.ts';

export type MarrouteFault = 'none' | 'down' | 'garbage' | 'slow';

export interface MarrouteSimulatorOptions {
  token: string;
  seed?: number;
  count?: number;
  port?: number;
}

export interface MarrouteSimulator {
  url: string;
  store: MarrouteStore;
  fault: MarrouteFault;
  slowMs: number;
  close(): Promise<void>;
}

const provinceCode = z.string().regex(/^\d{2}\.\d{3}$/, 'a province code such as 01.051');
const communeCode = z.string().regex(/^\d{2}\.\d{3}\.\d{2}\.\d{1,2}$/, 'a commune code such as 01.051.11.01');
const instant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/, 'an ISO 8601 instant with its offset');
const reportSchema = z.object({
  type: z.enum(eventTypes), nature: z.string().min(1).max(120), route: z.string().regex(/^(A|RN|RR|RP)\d{1,4}$/, 'a road number (A7, RN2, RR505, RP5201)'),
  pkDebut: z.number().min(0).max(2000), pkFin: z.number().min(0).max(2000), codeProvince: provinceCode, codeCommune: communeCode.nullable(),
  libelle: z.string().max(300).nullable(), libelleAr: z.string().max(300).nullable(), debut: instant, finPrevue: instant.nullable(),
  etat: z.enum(eventStates), deviation: z.string().max(300).nullable(), source: z.string().min(1).max(120),
}).strict();
const territoryChangesSchema = z.object({
  changes: z.array(z.object({ id: z.string().min(1).max(100), code: communeCode, formerCodes: z.array(communeCode).max(8), nameFr: z.string().max(120).optional() }).strict()).max(1000),
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

/** The first problem of a zod refusal as `{ field, message }`, the field in MARROUTE's own names. */
function firstIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  return { field: `body.${issue?.path.join('.') ?? ''}`, message: issue?.message ?? 'invalid' };
}

export function createMarrouteApp(store: MarrouteStore, token: string, faults: () => Pick<MarrouteSimulator, 'fault' | 'slowMs'>): Hono {
  const app = new Hono();
  const expected = Buffer.from(`Bearer ${token}`);
  app.use('*', async (c, next) => {
    const { fault, slowMs } = faults();
    if (fault === 'down') return problem(c, 503, 'MARROUTE is under maintenance');
    if (fault === 'garbage') return c.html('<html><body><h1>Erreur</h1><p>Le service est momentanément indisponible.</p></body></html>', 200);
    if (fault === 'slow') await new Promise((resolve) => setTimeout(resolve, slowMs));
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return problem(c, 401, 'the integration token is missing or wrong');
    await next();
  });
  app.get('/evenements', (c) => {
    const province = provinceCode.safeParse(c.req.query('province') ?? '');
    if (!province.success) return problem(c, 400, 'province: a province code such as 01.051', 'query.province');
    const commune = c.req.query('commune');
    if (commune !== undefined && !communeCode.safeParse(commune).success) return problem(c, 400, 'commune: a commune code such as 01.051.11.01', 'query.commune');
    const type = c.req.query('type');
    if (type !== undefined && !(eventTypes as readonly string[]).includes(type)) return problem(c, 400, `type: one of ${eventTypes.join(', ')}`, 'query.type');
    const etat = c.req.query('etat');
    if (etat !== undefined && !(eventStates as readonly string[]).includes(etat)) return problem(c, 400, `etat: one of ${eventStates.join(', ')}`, 'query.etat');
    return c.json({
      evenements: store.events({
        province: province.data,
        ...(commune !== undefined ? { commune } : {}),
        ...(type !== undefined ? { type: type as (typeof eventTypes)[number] } : {}),
        ...(etat !== undefined ? { etat: etat as (typeof eventStates)[number] } : {}),
      }),
    });
  });
  app.get('/evenements/:id', (c) => {
    const e = store.event(c.req.param('id'));
    return e ? c.json(e) : problem(c, 404, 'no such event');
  });
  app.post('/evenements', async (c) => {
    const parsed = reportSchema.safeParse(await readJson(c));
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      return problem(c, 400, `${field}: ${message}`, field);
    }
    return c.json(store.report(parsed.data), 201);
  });
  app.post('/evenements/:id/etat', async (c) => {
    const parsed = z.object({ etat: z.enum(eventStates) }).strict().safeParse(await readJson(c));
    if (!parsed.success) return problem(c, 400, `etat: one of ${eventStates.join(', ')}`, 'body.etat');
    const e = store.setState(c.req.param('id'), parsed.data.etat);
    return e ? c.json(e) : problem(c, 404, 'no such event');
  });
  app.post('/hub/territory-changes', async (c) => {
    const parsed = territoryChangesSchema.safeParse(await readJson(c));
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      return problem(c, 400, `${field}: ${message}`, field);
    }
    return c.json(store.applyTerritoryChanges(parsed.data.changes));
  });
  app.get('/renumerotations', (c) => c.json({ renumerotations: store.renumberings() }));
  return app;
}

export async function startMarrouteSimulator(options: MarrouteSimulatorOptions): Promise<MarrouteSimulator> {
  const store = new MarrouteStore({ ...(options.seed !== undefined ? { seed: options.seed } : {}), ...(options.count !== undefined ? { count: options.count } : {}) });
  const state: Pick<MarrouteSimulator, 'fault' | 'slowMs'> = { fault: 'none', slowMs: 2000 };
  const { url, close } = await serveFetch(createMarrouteApp(store, options.token, () => state).fetch, { ...(options.port !== undefined ? { port: options.port } : {}), dropInFlight: true });
  return {
    url,
    store,
    get fault() {
      return state.fault;
    },
    set fault(value: MarrouteFault) {
      state.fault = value;
    },
    get slowMs() {
      return state.slowMs;
    },
    set slowMs(value: number) {
      state.slowMs = value;
    },
    close,
  };
}
