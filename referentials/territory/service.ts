// The territory referential served through the exchange pipeline: service `territory` of MA/GOV/HUB/referentials,
// an adapter binding answering the operations of contracts/MA.GOV.HUB.referentials/territory/openapi.yaml.
import { adapterProblem, type AdapterBinding, type ProviderResponse } from '../../src/exchange/bindings.ts';
import { territory, UNIT_KINDS, UnknownTerritoryCodeError, type TerritorialUnit, type UnitKind } from './territory.ts';

export const territoryAdapter = 'hub:referentials:territory';

function json(status: number, body: unknown): ProviderResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** A refusal, naming its field when there is one. */
function problem(code: 'request-invalid' | 'not-found' | 'method-not-allowed', detail: string, location?: string): ProviderResponse {
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

export const territoryService: AdapterBinding = {
  async handle(request) {
    const index = territory();
    const [rawPath, query = ''] = request.pathAndQuery.split('?', 2) as [string, string?];
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return problem('request-invalid', 'the path is not valid percent-encoding', 'path');
    }
    if (request.method !== 'GET') return problem('method-not-allowed', 'territory answers GET only');
    const unitMatch = /^\/units\/([^/]+)(\/children|\/ancestors)?$/.exec(path);
    if (unitMatch?.[1]) {
      const code = unitMatch[1];
      const resolved = index.resolve(code);
      if (!resolved.found) return problem('not-found', resolved.message, 'path.code');
      if (unitMatch[2] === '/children') return json(200, { code: resolved.unit.code, units: (index.children(resolved.unit.code) ?? []).map(unitView) });
      if (unitMatch[2] === '/ancestors') return json(200, { code: resolved.unit.code, units: (index.ancestors(resolved.unit.code) ?? []).map(unitView) });
      return json(200, {
        unit: unitView(resolved.unit),
        via: resolved.via,
        ...(resolved.via === 'crosswalk-2014' ? { crosswalk: { code2014: resolved.crosswalk.code2014, method: resolved.crosswalk.method, note: resolved.crosswalk.note } } : {}),
      });
    }
    if (path === '/search') {
      const params = new URLSearchParams(query);
      const q = params.get('q') ?? '';
      if (!q.trim()) return problem('request-invalid', 'q must not be empty', 'query.q');
      const kind = params.get('kind');
      if (kind !== null && !UNIT_KINDS.includes(kind as UnitKind)) return problem('request-invalid', `kind must be one of ${UNIT_KINDS.join(', ')}`, 'query.kind');
      const limit = Math.min(100, Math.max(1, Number(params.get('limit') ?? 20) || 20));
      try {
        const hits = index.search(q, { ...(kind ? { kind: kind as UnitKind } : {}), ...(params.get('under') ? { under: params.get('under') ?? '' } : {}), limit });
        return json(200, { query: q, hits: hits.map((h) => ({ unit: unitView(h.unit), match: h.match })) });
      } catch (err) {
        if (err instanceof UnknownTerritoryCodeError) return problem('request-invalid', err.message, 'query.under');
        throw err;
      }
    }
    return problem('not-found', `no operation at ${path}`);
  },
};
