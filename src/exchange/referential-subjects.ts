// The subjects of the hub's golden-record services (MA/GOV/HUB/referentials persons, companies, vehicles), known from
// their own contracts: a golden record's identifiers (`attributes.cin`, `attributes.ice`, `attributes.plate`, a
// vehicle's `attributes.owner.cin|ice`), wherever an operation reads or writes records. Applied to every exchange with
// these services, whatever the convention declares (its `subjects` add to these): see docs/decisions.md §17.
import { BatchLineParser, type BatchFormat } from '../golden/batches.ts';
import { normaliseSubject, type ExtractedSubject } from './subjects.ts';

/**
 * At most this many subjects are recorded per exchange (a search page is at most 100 records; a resolve or a batch may
 * name 1,000 or more): past it, the first ones in the answer's (or the upload's) order are kept. Bounds the log rows
 * and HMACs one exchange costs.
 */
export const maxSubjectsPerExchange = 200;
/** Lines of a batch upload read for subjects (the first ones; the upload itself may be far longer). */
const maxBatchLinesScanned = 2_000;

/** The identifier types the transparency service answers for. */
type RecordedType = 'cin' | 'ice' | 'plate';

/** Where a golden record (or a contribution's `attributes`) carries each identifier. */
const identifiers: Record<string, ReadonlyArray<{ type: RecordedType; path: readonly string[] }>> = {
  persons: [{ type: 'cin', path: ['cin'] }],
  companies: [{ type: 'ice', path: ['ice'] }],
  vehicles: [
    { type: 'plate', path: ['plate'] },
    { type: 'cin', path: ['owner', 'cin'] },
    { type: 'ice', path: ['owner', 'ice'] },
  ],
};

const referentialsPrefix = 'MA/GOV/HUB/referentials/';

export interface ReferentialSubjectInput {
  operationId: string;
  pathParams: Record<string, string>;
  /** The request body as received (contributions are JSON, batches NDJSON or CSV); absent on a refusal's path. */
  requestBody?: Uint8Array;
  requestContentType?: string;
  /** The provider's full JSON answer (before minimisation), when it answered 2xx. */
  responseBody?: unknown;
}

/**
 * The subjects one exchange records: those the convention declares, then, for a golden-record service, those its
 * contract implies; one per type and normalised value, at most maxSubjectsPerExchange.
 */
export function concernedSubjects(declared: readonly ExtractedSubject[], serviceId: string, input: ReferentialSubjectInput): ExtractedSubject[] {
  const implied = referentialSubjects(serviceId, input);
  if (!implied && declared.length <= maxSubjectsPerExchange) return [...declared];
  const all = new SubjectSet();
  for (const s of [...declared, ...(implied ?? [])]) all.add(s.type, s.value, s.location);
  return all.list;
}

/** The subjects a golden-record service's exchange concerns, or undefined when the service is not one. */
export function referentialSubjects(serviceId: string, input: ReferentialSubjectInput): ExtractedSubject[] | undefined {
  if (!serviceId.startsWith(referentialsPrefix)) return undefined;
  const fields = identifiers[serviceId.slice(referentialsPrefix.length)];
  if (!fields) return undefined;
  const found = new SubjectSet();

  // A lookup by a natural key names its subject even when nothing is found (a 404 is still someone asking).
  const keyType = input.pathParams.keyType;
  const keyValue = input.pathParams.keyValue;
  if (input.operationId === 'getByKey' && keyType !== undefined && keyValue !== undefined && fields.some((f) => f.type === keyType)) found.add(keyType, keyValue, 'path.keyValue');

  // What the caller wrote about: a contribution's attributes, a batch's lines.
  if (input.requestBody && input.requestBody.length > 0) {
    if (input.operationId === 'contribute') {
      const body = parseJson(input.requestBody);
      if (isObject(body)) collect(found, fields, body.attributes, 'request.attributes');
    } else if (input.operationId === 'submitBatch') {
      const format: BatchFormat = /csv/i.test(input.requestContentType ?? '') ? 'csv' : 'ndjson';
      for (const attributes of batchAttributes(input.requestBody, format)) {
        if (found.full) break;
        collect(found, fields, attributes, 'request.attributes');
      }
    }
  }

  // What the caller read: every golden record in the answer (a record, its versions, resolve results, search hits).
  for (const record of goldenRecords(input.responseBody)) {
    if (found.full) break;
    collect(found, fields, record.attributes, 'response.attributes');
  }
  return found.list;
}

class SubjectSet {
  readonly list: ExtractedSubject[] = [];
  private readonly seen = new Set<string>();

  get full(): boolean {
    return this.list.length >= maxSubjectsPerExchange;
  }

  add(type: string, value: string, location: string): void {
    if (this.full || value.trim() === '') return;
    const key = `${type}\u0000${normaliseSubject(type, value)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ type, value, location });
  }
}

function collect(found: SubjectSet, fields: ReadonlyArray<{ type: RecordedType; path: readonly string[] }>, attributes: unknown, location: string): void {
  for (const { type, path } of fields) {
    let value: unknown = attributes;
    for (const step of path) value = isObject(value) && Object.hasOwn(value, step) ? value[step] : undefined;
    if (typeof value === 'string') found.add(type, value, `${location}.${path.join('.')}`);
  }
}

/** The golden records of an answer, in order: the answer itself, `versions[]`, `results[].record`, `hits[].record`, a push's `changes[].record`. */
function* goldenRecords(body: unknown): Generator<{ attributes: unknown }> {
  if (!isObject(body)) return;
  if (isObject(body.attributes)) yield { attributes: body.attributes };
  for (const list of [body.versions, body.results, body.hits, body.changes]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isObject(item)) continue;
      if (isObject(item.attributes)) yield { attributes: item.attributes };
      else if (isObject(item.record) && isObject(item.record.attributes)) yield { attributes: item.record.attributes };
    }
  }
}

function* batchAttributes(bytes: Uint8Array, format: BatchFormat): Generator<unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return; // refused by the service as a whole: nothing was written
  }
  const parser = new BatchLineParser(format);
  let start = 0;
  for (let line = 1; line <= maxBatchLinesScanned && start < text.length; line++) {
    const end = text.indexOf('\n', start);
    const raw = text.slice(start, end === -1 ? text.length : end);
    start = end === -1 ? text.length : end + 1;
    try {
      const row = parser.push(raw.endsWith('\r') ? raw.slice(0, -1) : raw, line);
      if (row && 'attributes' in row) yield row.attributes;
    } catch {
      return; // a CSV header the service refuses
    }
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
