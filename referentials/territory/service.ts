// The territory referential served through the exchange pipeline: service `territory` of MA/GOV/HUB/referentials,
// an adapter binding answering the operations of contracts/MA.GOV.HUB.referentials/territory/openapi.yaml.
import { adapterProblem, type AdapterBinding, type ProviderResponse } from '../../src/exchange/bindings.ts';
import { operationBinding, type OperationHandler, type OperationTable } from '../../src/exchange/operation-binding.ts';
import { territory, UNIT_KINDS, UnknownTerritoryCodeError, type Resolution, type TerritorialUnit, type UnitKind } from './territory.ts';

export const territoryAdapter = 'hub:referentials:territory';

function json(status: number, body: unknown): ProviderResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** A refusal, naming its field when there is one. */
function problem(code: 'request-invalid' | 'not-found', detail: string, location?: string): ProviderResponse {
  return adapterProblem(code, detail, location ? [{ location, message: detail }] : []);
}

/** The unit as the service's OpenAPI describes it (a stable public shape, not the index's internals). */
export function unitView(unit: TerritorialUnit) {
  return {
    code: unit.code,
    kind: unit.kind,
    type: 'type' in unit ? (unit.type ?? null) : null,
    nameFr: unit.nameFr,
    nameAr: unit.nameAr,
    parentCode: unit.parentCode ?? null,
    regionCode: unit.regionCode,
    population2024: unit.population2024,
  };
}

/** An operation on one unit: its answer, from the unit the code (or the former code) it was asked by resolves to. */
function unitOperation(answer: (resolved: Extract<Resolution, { found: true }>) => unknown): OperationHandler {
  return async (params) => {
    const resolved = territory().resolve(params.code ?? '');
    if (!resolved.found) return problem('not-found', resolved.message, 'path.code');
    return json(200, answer(resolved));
  };
}

/** The operations of contracts/MA.GOV.HUB.referentials/territory/openapi.yaml, by operationId. */
const operations: OperationTable = {
  getUnit: unitOperation((resolved) => ({
    unit: unitView(resolved.unit),
    via: resolved.via,
    ...(resolved.via === 'crosswalk-2014' ? { crosswalk: { code2014: resolved.crosswalk.code2014, method: resolved.crosswalk.method, note: resolved.crosswalk.note } } : {}),
  })),
  listChildren: unitOperation(({ unit }) => ({ code: unit.code, units: (territory().children(unit.code) ?? []).map(unitView) })),
  listAncestors: unitOperation(({ unit }) => ({ code: unit.code, units: (territory().ancestors(unit.code) ?? []).map(unitView) })),
  searchUnits: async (_params, query) => {
    const q = query.get('q') ?? '';
    if (!q.trim()) return problem('request-invalid', 'q must not be empty', 'query.q');
    const kind = query.get('kind');
    if (kind !== null && !UNIT_KINDS.includes(kind as UnitKind)) return problem('request-invalid', `kind must be one of ${UNIT_KINDS.join(', ')}`, 'query.kind');
    const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 20) || 20));
    try {
      const hits = territory().search(q, { ...(kind ? { kind: kind as UnitKind } : {}), ...(query.get('under') ? { under: query.get('under') ?? '' } : {}), limit });
      return json(200, { query: q, hits: hits.map((h) => ({ unit: unitView(h.unit), match: h.match })) });
    } catch (err) {
      if (err instanceof UnknownTerritoryCodeError) return problem('request-invalid', err.message, 'query.under');
      throw err;
    }
  },
};

export const territoryService: AdapterBinding = operationBinding('territory', operations);

/** The golden engine's operations of the territory's commune records (module.ts): its change feed and contributions. */
const changeOperations = new Set(['listChanges', 'contribute']);

/**
 * The service with its change feed: the units from the index, the feed and contributions from the golden service of
 * the territory module (referentials/services.ts builds it, as it needs the database).
 */
export function territoryServiceWithChanges(golden: AdapterBinding): AdapterBinding {
  return { handle: (request, signal) => (changeOperations.has(request.operationId) ? golden : territoryService).handle(request, signal) };
}
