// The connected systems' tables the statistics page shows, each read where the exchange serves it: the service's
// binding on this hub (service_bindings) and the hub's own forwarder, as a provider call would be. A system whose
// service is not bound here is "non connecté"; one that fails is "indisponible" (the page still answers 200). The
// console asks as the hub itself (client hub:console): these are aggregate counts, no one's personal data, so no
// convention stands between the operator and them; nothing else is read this way.
import { z } from 'zod';
import type { AdapterBindings, ProviderRequest, ServiceBinding } from '../exchange/bindings.ts';
import { Forwarder } from '../exchange/forward.ts';
import type { Queryable } from '../storage/db.ts';

export interface StatisticsTable {
  caption: string;
  columns: string[];
  /** A null cell: not applicable to that row. */
  rows: Array<{ label: string; values: Array<number | null> }>;
  /** What console.js draws: one bar series per entry, over the rows' labels. */
  chart: { categories: string[]; xLabel: string; series: Array<{ label: string; values: number[] }> };
}

export interface StatisticsSource {
  key: string;
  title: string;
  system: string;
  serviceId: string;
  operationId: string;
  pathAndQuery: string;
  read(json: unknown): StatisticsTable | undefined;
}

const monthNames = ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'];

const permisAnswer = z.object({ year: z.number().int(), months: z.array(z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), counts: z.record(z.string(), z.number().int().nonnegative()), total: z.number().int().nonnegative() })).max(24) });
const btpAnswer = z.object({
  procedures: z.array(z.object({ libelle: z.string().max(200), etats: z.array(z.object({ libelle: z.string().max(200), nombre: z.number().int().nonnegative() })).max(20) })).max(10),
  demandes: z.array(z.object({ libelle: z.string().max(200), nombre: z.number().int().nonnegative() })).max(20),
});
const complaintsAnswer = z.object({ total: z.number().int().nonnegative(), rows: z.array(z.object({ category: z.string().max(100), status: z.string().max(100), count: z.number().int().nonnegative() })).max(100_000) });

/** The seed's tables, by system: the permis appointments, the BTP platform's dashboard, complaints by category. */
export const statisticsSources: readonly StatisticsSource[] = [
  {
    key: 'permis-rdv',
    title: "Rendez-vous d'examen du permis par mois et créneau",
    system: 'MA/GOV/METLE/permis-rdv',
    serviceId: 'MA/GOV/METLE/permis-rdv/appointments',
    operationId: 'getAppointmentStatistics',
    pathAndQuery: '/statistics',
    read(json) {
      const answer = permisAnswer.safeParse(json);
      if (!answer.success) return undefined;
      const slots = [...new Set(answer.data.months.flatMap((m) => Object.keys(m.counts)))].sort().slice(0, 48);
      const rows = answer.data.months.map((m) => ({ label: `${monthNames[Number(m.month.slice(5)) - 1] ?? m.month} ${m.month.slice(0, 4)}`, values: [...slots.map((s) => m.counts[s] ?? 0), m.total] }));
      return {
        caption: `Rendez-vous par mois et créneau d'une demi-heure, ${answer.data.year}`,
        columns: [...slots, 'Total'],
        rows,
        chart: { categories: rows.map((r) => r.label), xLabel: 'Mois', series: [{ label: 'Rendez-vous', values: answer.data.months.map((m) => m.total) }] },
      };
    },
  },
  {
    key: 'btp',
    title: 'Qualification BTP : dossiers en attente par procédure et état',
    system: 'MA/GOV/METLE/qualification-btp',
    serviceId: 'MA/GOV/METLE/qualification-btp/classification',
    operationId: 'getDashboard',
    pathAndQuery: '/dashboard',
    read(json) {
      const answer = btpAnswer.safeParse(json);
      if (!answer.success) return undefined;
      const states = [...new Set(answer.data.procedures.flatMap((p) => p.etats.map((e) => e.libelle)))];
      const procedures = answer.data.procedures.map((p) => {
        const counts = states.map((s) => p.etats.find((e) => e.libelle === s)?.nombre ?? 0);
        return { label: p.libelle, values: [...counts, counts.reduce((a, b) => a + b, 0)] };
      });
      // The requests have no workflow state: their count alone, in the total column.
      const requests = answer.data.demandes.map((d) => ({ label: d.libelle, values: [...states.map(() => null), d.nombre] }));
      return {
        caption: 'Dossiers en attente par procédure et état, puis les demandes en attente',
        columns: [...states, 'Total'],
        rows: [...procedures, ...requests],
        chart: { categories: procedures.map((r) => r.label), xLabel: 'Procédure', series: states.map((s, i) => ({ label: s, values: procedures.map((r) => r.values[i] ?? 0) })) },
      };
    },
  },
  {
    key: 'reclamations',
    title: 'Réclamations par catégorie',
    system: 'MA/GOV/METLE/reclamations',
    serviceId: 'MA/GOV/METLE/reclamations/complaints',
    operationId: 'getComplaintStatistics',
    pathAndQuery: '/statistics',
    read(json) {
      const answer = complaintsAnswer.safeParse(json);
      if (!answer.success) return undefined;
      const byCategory = new Map<string, number>();
      for (const r of answer.data.rows) byCategory.set(r.category, (byCategory.get(r.category) ?? 0) + r.count);
      const rows = [...byCategory].sort((a, b) => b[1] - a[1]).map(([label, n]) => ({ label, values: [n] }));
      return {
        caption: `Réclamations par catégorie (${answer.data.total} au total)`,
        columns: ['Réclamations'],
        rows,
        chart: { categories: rows.map((r) => r.label), xLabel: 'Catégorie', series: [{ label: 'Réclamations', values: rows.map((r) => r.values[0] ?? 0) }] },
      };
    },
  },
];

export type StatisticsOutcome =
  | { state: 'disconnected' }
  | { state: 'unavailable'; why: string }
  | { state: 'ok'; table: StatisticsTable };

/** One forwarder per hub's bindings (its HTTP pools are reused across requests). */
const forwarders = new WeakMap<AdapterBindings, Forwarder>();
function forwarderFor(adapters: AdapterBindings): Forwarder {
  let forwarder = forwarders.get(adapters);
  if (!forwarder) forwarders.set(adapters, (forwarder = new Forwarder(adapters)));
  return forwarder;
}

/** The source's service binding on this hub; undefined: not bound (the system is not connected here). */
async function bindingOf(db: Queryable, serviceId: string): Promise<ServiceBinding | undefined> {
  const { rows } = await db.query<{ kind: 'http' | 'adapter'; base_url: string | null; adapter: string | null; timeout_ms: number }>(
    'SELECT kind, base_url, adapter, timeout_ms FROM service_bindings WHERE service_id = $1',
    [serviceId],
  );
  const r = rows[0];
  if (r?.kind === 'adapter' && r.adapter) return { kind: 'adapter', adapter: r.adapter, timeoutMs: Math.min(r.timeout_ms, 5000) };
  if (r?.kind === 'http' && r.base_url) return { kind: 'http', baseUrl: r.base_url.replace(/\/+$/, ''), timeoutMs: Math.min(r.timeout_ms, 5000) };
  return undefined;
}

/** Reads one source: its table, or why not (never a thrown provider failure: the page shows the others regardless). */
export async function readStatistics(db: Queryable, adapters: AdapterBindings | undefined, source: StatisticsSource, requestId: string): Promise<StatisticsOutcome> {
  const binding = adapters ? await bindingOf(db, source.serviceId) : undefined;
  if (!binding || !adapters) return { state: 'disconnected' };
  if (binding.kind === 'adapter' && !adapters.get(binding.adapter)) return { state: 'disconnected' };
  const request: ProviderRequest = {
    serviceId: source.serviceId, operationId: source.operationId, pathParams: {}, method: 'GET', pathAndQuery: source.pathAndQuery,
    headers: { accept: 'application/json' }, body: new Uint8Array(), client: 'hub:console', purpose: 'console-statistics', requestId,
  };
  let answer;
  try {
    answer = await forwarderFor(adapters).forward(binding, request, {});
  } catch (err) {
    // The forwarder's own words (timeout, unreachable), never a stack: the detail stays in the hub's log.
    const name = (err as Error).name;
    return { state: 'unavailable', why: name === 'ProviderTimeoutError' ? "le système n'a pas répondu à temps" : 'le système ne répond pas' };
  }
  if (answer.status !== 200) return { state: 'unavailable', why: `le système a refusé la demande (${answer.status})` };
  let json: unknown = answer.json;
  if (json === undefined) {
    try {
      json = JSON.parse(Buffer.from(answer.body).toString('utf8'));
    } catch {
      return { state: 'unavailable', why: "la réponse du système n'est pas du JSON" };
    }
  }
  const table = source.read(json);
  return table ? { state: 'ok', table } : { state: 'unavailable', why: "la réponse du système n'a pas la forme attendue" };
}
