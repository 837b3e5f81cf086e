// A golden-record referential (persons, companies, vehicles) served through the exchange pipeline: the operations of
// contracts/MA.GOV.HUB.referentials/<name>/openapi.yaml over the engine in src/golden/. The calling subsystem is
// the source system of what it contributes: an e-service cannot write under another's name.
import { adapterProblem, type AdapterBinding, type ProviderRequest, type ProviderResponse } from '../src/exchange/bindings.ts';
import { lazyJsonObject } from '../src/exchange/lazy-json.ts';
import { operationBinding, type OperationTable } from '../src/exchange/operation-binding.ts';
import { BatchRefusedError, batchIdPattern, batchStatus, parseBatch, submitBatch, type BatchFormat } from '../src/golden/batches.ts';
import { contribute, plainValues } from '../src/golden/engine.ts';
import { ContributionRefusedError, type GoldenRecord, type ResolveItem } from '../src/golden/engine-types.ts';
import type { NaturalKey, ReferentialModule } from '../src/golden/module.ts';
import { readChanges } from '../src/golden/changes.ts';
import { getGolden, resolveManyJson, resolveManyLimit, sourceRefs, type GoldenJson } from '../src/golden/reads.ts';
import type { BackgroundFailureReport } from '../src/observability/metrics.ts';
import type { Db } from '../src/storage/db.ts';
import { jsonFaults, locationOf, parseInstant, parsePosition, printable, textFault } from '../src/storage/storable.ts';
import { parseCin, parseIce, parsePlate, parseVin } from './identifiers/index.ts';
import { searchForm, searchGoldens } from '../src/golden/search.ts';

/** The value travels beside its bytes (ProviderResponse.json): the hub validates it without parsing the body again. */
function json(status: number, body: unknown): ProviderResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)), json: body };
}

/**
 * An answer built as text around attributes as PostgreSQL printed them (resolveManyJson) rather than serialised from
 * objects, with the value it says (ProviderResponse.json) for the hub to validate. Only the whitespace inside the
 * attributes differs from what json() would print.
 */
function jsonText(status: number, text: string, value: unknown): ProviderResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(text), json: value };
}

/** view() of a GoldenJson: its text and its value, whose attributes are parsed only if the hub reads inside them. */
function viewOf(g: GoldenJson): { text: string; value: ReturnType<typeof view> } {
  return {
    text: `{"goldenId":${JSON.stringify(g.id)},"referential":${JSON.stringify(g.referential)},"version":${g.version},"status":${JSON.stringify(g.status)},"mergedInto":${JSON.stringify(g.mergedInto)},"attributes":${g.attributesJson}}`,
    value: { goldenId: g.id, referential: g.referential, version: g.version, status: g.status, mergedInto: g.mergedInto, attributes: lazyJsonObject(g.attributesJson) },
  };
}

/** A problem answer (adapterProblem); 400 the request's own fields, 422 refused by the referential's rules. */
const problem = (status: 400 | 404 | 405 | 422, detail: string, errors: Array<{ location: string; message: string }> = [], errorsOmitted = 0): ProviderResponse =>
  adapterProblem(({ 400: 'request-invalid', 404: 'not-found', 405: 'method-not-allowed', 422: 'unprocessable' } as const)[status], detail, errors, errorsOmitted);

/** A natural identifier in any written form → the key the engine indexes (the referential modules use the same rules). */
export function normaliseKey(type: string, value: string): { ok: true; key: NaturalKey } | { ok: false; message: string } {
  const parsed =
    type === 'cin' ? parseCin(value) : type === 'ice' ? parseIce(value) : type === 'plate' ? parsePlate(value) : type === 'vin' ? parseVin(value) : undefined;
  if (!parsed) return type === 'rc' ? { ok: true, key: { type, value: value.trim().toLowerCase() } } : { ok: false, message: `unknown identifier type ${type}` };
  if (!parsed.ok) return { ok: false, message: parsed.message };
  // The same key the modules index: CIN and plate by their `key` (no leading zeros, one letter form), ICE and VIN by value.
  const v = parsed.value as { key?: string; value?: string };
  return { ok: true, key: { type, value: v.key ?? v.value ?? '' } };
}

/**
 * Whether the caller asked for provenance (`provenance=true`): each attribute then says where its value came from and
 * when (`{value, source, at}`); otherwise it is its value alone (the design's "attributes with provenance when asked").
 */
function withProvenance(q: URLSearchParams): boolean {
  return q.get('provenance') === 'true';
}

function view(record: Pick<GoldenRecord, 'id' | 'referential' | 'version' | 'status' | 'mergedInto' | 'attributes'>, provenance: boolean) {
  return {
    goldenId: record.id,
    referential: record.referential,
    version: record.version,
    status: record.status,
    mergedInto: record.mergedInto,
    attributes: provenance ? record.attributes : plainValues(record.attributes),
  };
}

/**
 * Every value that may reach SQL is checked before any is used: text PostgreSQL cannot hold, in a query or a path
 * parameter, is the caller's fault (400, naming each).
 */
function storableParameters(params: Readonly<Record<string, string>>, q: URLSearchParams): ProviderResponse | undefined {
  const queryFaults = [...q].flatMap(([key, value]) => {
    const fault = textFault(value);
    return fault ? [{ location: `query.${printable(key)}`, message: fault }] : [];
  });
  if (queryFaults.length > 0) return problem(400, 'a query parameter holds text that cannot be stored', queryFaults);
  const pathFaults = Object.entries(params).flatMap(([key, value]) => {
    const fault = textFault(value);
    return fault ? [{ location: `path.${key}`, message: fault }] : [];
  });
  if (pathFaults.length > 0) return problem(400, 'a path parameter holds text that cannot be stored', pathFaults);
  return undefined;
}

/**
 * The adapter binding of a referential's service: one handler per operation of its contract, in one table keyed by
 * operationId, after the checks every request gets (storableParameters). Long (about 170 lines) because the table is
 * the contract's operations side by side, each a few lines; its size grows with the contract.
 */
export function goldenService(module: ReferentialModule, db: Db, reportFailure?: BackgroundFailureReport): AdapterBinding {
  const name = module.name;
  // The operations of contracts/MA.GOV.HUB.referentials/<name>/openapi.yaml, by operationId.
  const operations: OperationTable = {
    getRecord: async (p, q) => {
      const goldenId = p.goldenId ?? '';
      const asOf = q.get('asOf');
      const instant = asOf ? parseInstant(asOf) : undefined;
      if (instant && !instant.ok) return problem(400, `asOf ${instant.message}`, [{ location: 'query.asOf', message: instant.message }]);
      const at = instant?.at;
      const record = await getGolden(db, name, goldenId, at ? { asOf: at } : {});
      if (!record) return problem(404, `no ${name} golden record ${goldenId}${at ? ` at ${at.toISOString()}` : ''}`);
      return json(200, { ...view(record, withProvenance(q)), sourceRefs: (await sourceRefs(db, name, record.id)).map((s) => ({ system: s.system, id: s.id })) });
    },
    getHistory: async (p, q) => {
      const goldenId = p.goldenId ?? '';
      const { rows } = await db.query<{ version: number; status: GoldenRecord['status']; merged_into: string | null; attributes: GoldenRecord['attributes']; cause: string; valid_from: Date }>(
        'SELECT version, status, merged_into, attributes, cause, valid_from FROM ref_golden_history WHERE golden_id = $1 AND referential = $2 ORDER BY valid_from, seq',
        [goldenId, name],
      );
      if (rows.length === 0) return problem(404, `no ${name} golden record ${goldenId}`);
      return json(200, {
        goldenId,
        versions: rows.map((r) => ({
          ...view({ id: goldenId, referential: name, version: r.version, status: r.status, mergedInto: r.merged_into, attributes: r.attributes }, withProvenance(q)),
          cause: r.cause,
          validFrom: r.valid_from.toISOString(),
        })),
      });
    },
    getByKey: async (p, q) => {
      const key = normaliseKey(p.keyType ?? '', p.keyValue ?? '');
      if (!key.ok) return problem(422, key.message, [{ location: 'path.keyValue', message: key.message }]);
      const [found] = await resolveManyJson(db, name, [{ key: key.key }], { provenance: withProvenance(q) });
      if (!found) return problem(404, `no ${name} golden record with ${key.key.type} ${key.key.value}`);
      const v = viewOf(found);
      return jsonText(200, v.text, v.value);
    },
    getBySource: async (p, q) => {
      const system = (p.sourceSystem ?? '').replaceAll('.', '/');
      const sourceId = p.sourceId ?? '';
      const [found] = await resolveManyJson(db, name, [{ source: { system, id: sourceId } }], { provenance: withProvenance(q) });
      if (!found) return problem(404, `no ${name} source record ${sourceId} from ${system}`);
      const v = viewOf(found);
      return jsonText(200, v.text, v.value);
    },
    resolveMany: async (_p, q, request) => {
      const parsed = readJsonBody(request);
      if (!parsed.ok) return parsed.refusal;
      const body = parsed.value;
      const items = (body as { items?: unknown }).items;
      if (!Array.isArray(items) || items.length === 0 || items.length > resolveManyLimit) {
        return problem(400, `items must be an array of 1 to ${resolveManyLimit} entries`, [{ location: 'body.items', message: 'invalid' }]);
      }
      const bad: Array<{ location: string; message: string }> = [];
      const resolveItems: Array<ResolveItem | undefined> = items.map((item: { goldenId?: string; key?: { type: string; value: string }; source?: { system: string; id: string } }, i: number) => {
        if (item.key) {
          const key = normaliseKey(item.key.type, item.key.value);
          if (!key.ok) bad.push({ location: `body.items.${i}.key.value`, message: key.message });
          return key.ok ? { key: key.key } : undefined;
        }
        if (item.source) return { source: { system: item.source.system.replaceAll('.', '/'), id: item.source.id } };
        return { goldenId: String(item.goldenId) };
      });
      const valid = resolveItems.filter((r): r is ResolveItem => r !== undefined);
      const answers = await resolveManyJson(db, name, valid, { provenance: withProvenance(q) });
      let next = 0;
      const texts: string[] = [];
      const results = resolveItems.map((item) => {
        const answer = item ? answers[next++] : undefined;
        if (!answer) {
          const missing = { found: false, reason: item ? 'not found' : 'invalid identifier' };
          texts.push(JSON.stringify(missing));
          return missing;
        }
        const v = viewOf(answer);
        texts.push(`{"found":true,"record":${v.text}}`);
        return { found: true, record: v.value };
      });
      const warnings = bad.length > 0 ? { warnings: bad } : {};
      return jsonText(200, `{"results":[${texts.join(',')}]${bad.length > 0 ? `,"warnings":${JSON.stringify(bad)}` : ''}}`, { results, ...warnings });
    },
    search: async (_p, q) => {
      const text = (q.get('q') ?? '').trim();
      if (text.length < 2) return problem(400, 'q must have at least 2 characters', [{ location: 'query.q', message: 'too short' }]);
      const limit = Math.min(100, Math.max(1, Number(q.get('limit') ?? 20) || 20));
      const offset = Math.min(10_000, Math.max(0, Number(q.get('offset') ?? 0) || 0));
      const rows = await searchGoldens(db, name, { form: searchForm(text), commune: q.get('commune'), limit, offset });
      const answers = await resolveManyJson(db, name, rows.map((r) => ({ goldenId: r.id })), { provenance: withProvenance(q) });
      const hits = rows.flatMap((r, i) => {
        const a = answers[i];
        return a ? [{ view: viewOf(a), similarity: Number(r.sim) }] : [];
      });
      return jsonText(
        200,
        `{"hits":[${hits.map((h) => `{"record":${h.view.text},"similarity":${JSON.stringify(h.similarity)}}`).join(',')}]}`,
        { hits: hits.map((h) => ({ record: h.view.value, similarity: h.similarity })) },
      );
    },
    listChanges: async (_p, q) => {
      const position = parsePosition(q.get('since') ?? '0');
      if (!position.ok) return problem(400, `since ${position.message}`, [{ location: 'query.since', message: position.message }]);
      const since = position.value;
      const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
      const types = q.get('types')?.split(',').filter(Boolean);
      const page = await readChanges(db, { since, limit, ...(types ? { types } : {}) });
      // One feed for all referentials: this service shows its own; the cursor stays the feed's, so nothing is skipped.
      return json(200, { changes: page.changes.filter((c) => c.referential === name).map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })), next: page.next });
    },
    contribute: async (_p, _q, request) => {
      const parsed = readJsonBody(request);
      if (!parsed.ok) return parsed.refusal;
      const body = parsed.value as { sourceId?: unknown; attributes?: unknown };
      if (typeof body.sourceId !== 'string' || !body.sourceId) return problem(422, 'sourceId is required', [{ location: 'body.sourceId', message: 'required' }]);
      try {
        const result = await contribute(db, module, { sourceSystem: request.client, sourceId: body.sourceId, attributes: body.attributes }, reportFailure ? { reportFailure } : {});
        return json(200, { goldenId: result.goldenId, decision: result.decision, version: result.version, warnings: result.warnings });
      } catch (err) {
        if (err instanceof ContributionRefusedError) return problem(422, err.message, err.problems.map((p) => ({ location: p.location.startsWith('body.') ? `body.attributes.${p.location.slice(5)}` : p.location, message: p.message })));
        throw err;
      }
    },
    submitBatch: async (_p, q, request) => {
      const batchId = q.get('batchId') ?? '';
      if (!batchIdPattern.test(batchId)) return problem(400, `batchId must match ${batchIdPattern.source}`, [{ location: 'query.batchId', message: 'invalid' }]);
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const format: BatchFormat | undefined = contentType === 'text/csv' ? 'csv' : contentType === 'application/x-ndjson' ? 'ndjson' : undefined;
      if (!format) return problem(400, 'the body must be application/x-ndjson or text/csv', [{ location: 'header.content-type', message: 'not accepted' }]);
      try {
        // Parsed (and refused as a whole when it must be) before anything is written.
        const rows = parseBatch(request.body, format, module.batchColumns);
        const submitted = await submitBatch(db, { referential: name, sourceSystem: request.client, batchId, format, rows });
        return json(202, submitted);
      } catch (err) {
        if (err instanceof BatchRefusedError) {
          const errors = err.problems.map((p) => ({ location: p.location === 'body' || p.location.startsWith('query.') ? p.location : `body.${p.location}`, message: p.message }));
          return problem(422, err.message, errors, err.omitted);
        }
        throw err;
      }
    },
    getBatch: async (p, _q, request) => {
      // Batch ids belong to the calling subsystem: one cannot read another's batch.
      const batchId = p.batchId ?? '';
      const status = await batchStatus(db, request.client, batchId);
      return status?.referential === name ? json(200, status) : problem(404, `no ${name} batch ${batchId} from this subsystem`);
    },
  };
  return operationBinding(`${name} referential`, operations, storableParameters);
}


/**
 * The request's JSON body, refused (400, naming where) when it is not UTF-8 (decoding would store U+FFFD in its place),
 * not JSON, nested too deep, or holds text PostgreSQL cannot store: decided before anything reaches SQL.
 */
function readJsonBody(request: ProviderRequest): { ok: true; value: unknown } | { ok: false; refusal: ProviderResponse } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(request.body);
  } catch {
    return { ok: false, refusal: problem(400, 'the body is not UTF-8', [{ location: 'body', message: 'is not UTF-8' }]) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, refusal: problem(400, 'the body is not valid JSON', [{ location: 'body', message: 'not valid JSON' }]) };
  }
  const faults = jsonFaults(value);
  if (faults.length > 0) {
    return { ok: false, refusal: problem(400, 'the body holds what cannot be stored', faults.map((f) => ({ location: locationOf('body', f.path), message: f.message }))) };
  }
  return { ok: true, value };
}

export { searchForm, searchGoldens };
