// Writes the OpenAPI documents of the golden-record services (persons, companies, vehicles) of MA/GOV/HUB/referentials
// from one template, so the three stay alike: `npx tsx scripts/referential-openapi.ts`. The outputs are contracts
// (data that conventions sign), committed; rerunning it changes their bytes only when this template changes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const referentials = {
  persons: { title: 'persons', keyTypes: ['cin'], example: 'cin/BJ44408', what: 'natural persons (CIN, names in Arabic and Latin script, birth date and place, sex, address commune, status)' },
  companies: { title: 'companies', keyTypes: ['ice', 'rc'], example: 'ice/002145873000014', what: 'companies (ICE, IF, RC with its court, CNSS, names in French and Arabic, legal form, status, address and commune)' },
  vehicles: { title: 'vehicles', keyTypes: ['plate', 'vin'], example: 'plate/12345|A|6', what: 'vehicles (plate in any written form normalised to one key, VIN, category, make and model, first registration, owner)' },
} as const;

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });

function document(name: keyof typeof referentials) {
  const r = referentials[name];
  return {
    openapi: '3.1.0',
    info: {
      title: `Tabadol referentials - ${r.title}`,
      version: '1.0.0',
      summary: `The single referential of ${r.what}, as golden records.`,
      description:
        `Service \`${name}\` of the hub's own subsystem \`MA/GOV/HUB/referentials\`. Every e-service contributes what it knows ` +
        '(a source record keyed by its own system and id; the calling subsystem is the source system); the hub keeps one golden ' +
        'record per real entity, computed attribute by attribute from the most trusted source, with provenance (on request) and full history, ' +
        'and lets every e-service resolve it in one call. Conventions sign the SHA-256 of this file\'s bytes.',
    },
    tags: [{ name: name, description: `Golden records of ${name}` }],
    paths: {
      '/records/{goldenId}': {
        get: {
          operationId: 'getRecord',
          tags: [name],
          summary: 'A golden record by its id (a merged id answers with a pointer to the survivor); asOf reads a past instant',
          parameters: [{ $ref: '#/components/parameters/GoldenId' }, { name: 'asOf', in: 'query', required: false, schema: { type: 'string', format: 'date-time' } }, { $ref: '#/components/parameters/Provenance' }],
          responses: { '200': { description: 'The golden record', content: { 'application/json': { schema: { $ref: '#/components/schemas/GoldenRecord' } } } }, '404': problemResponse('No golden record has that id (or none existed at asOf)') },
        },
      },
      '/records/{goldenId}/history': {
        get: {
          operationId: 'getHistory',
          tags: [name],
          summary: 'Every version of a golden record, oldest first, with its cause',
          parameters: [{ $ref: '#/components/parameters/GoldenId' }, { $ref: '#/components/parameters/Provenance' }],
          responses: { '200': { description: 'The versions', content: { 'application/json': { schema: { type: 'object', required: ['goldenId', 'versions'], properties: { goldenId: { type: 'string' }, versions: { type: 'array', items: { $ref: '#/components/schemas/GoldenRecord' } } } } } } }, '404': problemResponse('No golden record has that id') },
        },
      },
      '/by-key/{keyType}/{keyValue}': {
        get: {
          operationId: 'getByKey',
          tags: [name],
          summary: `A golden record by a natural identifier (${r.keyTypes.join(', ')}), in any written form`,
          parameters: [
            { name: 'keyType', in: 'path', required: true, schema: { type: 'string', enum: [...r.keyTypes] } },
            { name: 'keyValue', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 64 }, description: `e.g. ${r.example}` },
            { $ref: '#/components/parameters/Provenance' },
          ],
          responses: { '200': { description: 'The golden record', content: { 'application/json': { schema: { $ref: '#/components/schemas/GoldenRecord' } } } }, '404': problemResponse('No golden record has that identifier'), '422': problemResponse('The identifier is not valid (named)') },
        },
      },
      '/by-source/{sourceSystem}/{sourceId}': {
        get: {
          operationId: 'getBySource',
          tags: [name],
          summary: "A golden record by an e-service's own id (the source system's subsystem id, '/' as '.')",
          parameters: [
            { name: 'sourceSystem', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,300}$' } },
            { name: 'sourceId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 200 } },
            { $ref: '#/components/parameters/Provenance' },
          ],
          responses: { '200': { description: 'The golden record', content: { 'application/json': { schema: { $ref: '#/components/schemas/GoldenRecord' } } } }, '404': problemResponse('No source record with that id') },
        },
      },
      '/resolve': {
        post: {
          operationId: 'resolveMany',
          tags: [name],
          summary: 'Up to 1,000 golden ids, natural identifiers or source ids resolved in one call, answered in order (explicit not-found entries)',
          parameters: [{ $ref: '#/components/parameters/Provenance' }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  additionalProperties: false,
                  properties: {
                    items: {
                      type: 'array',
                      minItems: 1,
                      maxItems: 1000,
                      items: {
                        oneOf: [
                          { type: 'object', required: ['goldenId'], additionalProperties: false, properties: { goldenId: { type: 'string' } } },
                          { type: 'object', required: ['key'], additionalProperties: false, properties: { key: { type: 'object', required: ['type', 'value'], additionalProperties: false, properties: { type: { type: 'string', enum: [...r.keyTypes] }, value: { type: 'string' } } } } },
                          { type: 'object', required: ['source'], additionalProperties: false, properties: { source: { type: 'object', required: ['system', 'id'], additionalProperties: false, properties: { system: { type: 'string' }, id: { type: 'string' } } } } },
                        ],
                      },
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'One result per item, in order',
              content: { 'application/json': { schema: { type: 'object', required: ['results'], properties: { results: { type: 'array', items: { type: 'object', required: ['found'], properties: { found: { type: 'boolean' }, record: { $ref: '#/components/schemas/GoldenRecord' }, reason: { type: 'string' } } } } } } } },
            },
            '400': problemResponse('The body is malformed'),
          },
        },
      },
      '/search': {
        get: {
          operationId: 'search',
          tags: [name],
          summary: 'Fuzzy search by name (Arabic or Latin script), with filters and pagination',
          parameters: [
            { name: 'q', in: 'query', required: true, schema: { type: 'string', minLength: 2, maxLength: 200 } },
            { name: 'commune', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9.]{2,13}$' } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 10000, default: 0 } },
            { $ref: '#/components/parameters/Provenance' },
          ],
          responses: { '200': { description: 'Best matches first', content: { 'application/json': { schema: { type: 'object', required: ['hits'], properties: { hits: { type: 'array', items: { type: 'object', required: ['record', 'similarity'], properties: { record: { $ref: '#/components/schemas/GoldenRecord' }, similarity: { type: 'number' } } } } } } } } }, '400': problemResponse('A parameter is malformed') },
        },
      },
      '/changes': {
        get: {
          operationId: 'listChanges',
          tags: [name],
          summary: 'The change feed: ordered, resumable, never skipping a committed change (positions assigned after commit)',
          parameters: [
            { name: 'since', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'types', in: 'query', required: false, schema: { type: 'string', pattern: '^[a-z,.-]{1,200}$' }, description: 'Comma-separated change types' },
          ],
          responses: { '200': { description: 'Changes after `since`, and the cursor to pass next', content: { 'application/json': { schema: { type: 'object', required: ['changes', 'next'], properties: { changes: { type: 'array', items: { type: 'object', additionalProperties: true } }, next: { type: 'integer' } } } } } }, '400': problemResponse('A parameter is malformed') },
        },
      },
      '/contributions': {
        post: {
          operationId: 'contribute',
          tags: [name],
          summary: "Contribute one source record (the calling subsystem is its source system); answered with the golden id and the match decision",
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['sourceId', 'attributes'], additionalProperties: false, properties: { sourceId: { type: 'string', minLength: 1, maxLength: 200 }, attributes: { type: 'object', additionalProperties: true } } } } } },
          responses: {
            '200': { description: 'Applied (or unchanged: contributions are idempotent)', content: { 'application/json': { schema: { type: 'object', required: ['goldenId', 'decision'], properties: { goldenId: { type: 'string' }, decision: { type: 'string', enum: ['created', 'linked-identifier', 'linked-score', 'review', 'updated', 'unchanged'] }, version: { type: 'integer' }, warnings: { type: 'array', items: { type: 'string' } } } } } } },
            '422': problemResponse('Attributes at fault, each named; nothing was written'),
          },
        },
      },
      '/batches': {
        post: {
          operationId: 'submitBatch',
          tags: [name],
          summary: 'Contribute a batch of source records (NDJSON or CSV), applied through the queue; resending the same batchId changes nothing',
          description:
            'NDJSON: one `{"sourceId", "attributes"}` object a line. CSV: a header of `sourceId` and attribute columns (nested ones dotted, e.g. `rc.number`), ' +
            'then one record a line; empty cells are absent attributes. A body that is not UTF-8, or a CSV header with no `sourceId` or an unknown column, ' +
            'is refused before anything is written; a line that is not a record is reported as a rejected row with its line number.',
          parameters: [{ name: 'batchId', in: 'query', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' }, description: "The client's id of the batch (unique within its source system)" }],
          requestBody: { required: true, content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } },
          responses: {
            '202': { description: 'Queued (or, when the batchId was already sent, the status of that batch)', content: { 'application/json': { schema: { type: 'object', required: ['batchId', 'status', 'total'], properties: { batchId: { type: 'string' }, status: { $ref: '#/components/schemas/BatchStatusName' }, total: { type: 'integer' }, resent: { type: 'boolean' } } } } } },
            '400': problemResponse('batchId or the content type is missing or malformed'),
            '422': problemResponse('The body is not UTF-8, or the CSV columns are wrong (each named); nothing was written'),
          },
        },
      },
      '/batches/{batchId}': {
        get: {
          operationId: 'getBatch',
          tags: [name],
          summary: "A batch's status: progress, counts by decision and the rejected rows with their line numbers and problems",
          parameters: [{ name: 'batchId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' } }],
          responses: {
            '200': {
              description: 'The batch',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['batchId', 'status', 'total', 'processed', 'applied', 'rejected', 'decisions', 'errors'],
                    properties: {
                      batchId: { type: 'string' },
                      status: { $ref: '#/components/schemas/BatchStatusName' },
                      total: { type: 'integer' },
                      processed: { type: 'integer' },
                      applied: { type: 'integer' },
                      rejected: { type: 'integer' },
                      decisions: { type: 'object', additionalProperties: { type: 'integer' } },
                      errors: { type: 'array', items: { type: 'object', required: ['line', 'problems'], properties: { line: { type: 'integer' }, sourceId: { type: ['string', 'null'] }, problems: { type: 'array', items: { type: 'object', required: ['location', 'message'], properties: { location: { type: 'string' }, message: { type: 'string' } } } } } } },
                      errorsTruncated: { type: 'boolean' },
                      createdAt: { type: 'string', format: 'date-time' },
                      updatedAt: { type: 'string', format: 'date-time' },
                    },
                  },
                },
              },
            },
            '404': problemResponse('The calling subsystem sent no batch with that id'),
          },
        },
      },
    },
    components: {
      parameters: {
        GoldenId: { name: 'goldenId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
        Provenance: {
          name: 'provenance',
          in: 'query',
          required: false,
          schema: { type: 'boolean', default: false },
          description: "true: each attribute as `{value, source, at}`, the value with the source record it came from and when that was received; false (the default): each attribute's value alone",
        },
      },
      schemas: {
        BatchStatusName: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
        GoldenRecord: {
          type: 'object',
          required: ['goldenId', 'referential', 'version', 'status', 'attributes'],
          properties: {
            goldenId: { type: 'string' },
            referential: { type: 'string' },
            version: { type: 'integer' },
            status: { type: 'string', enum: ['active', 'merged', 'retired'] },
            mergedInto: { type: ['string', 'null'] },
            attributes: {
              type: 'object',
              description: "Each attribute's value; with provenance=true, each attribute as `{value, source: {system, id}, at}`",
              additionalProperties: true,
            },
            sourceRefs: { type: 'array', items: { type: 'object', properties: { system: { type: 'string' }, id: { type: 'string' } } } },
          },
        },
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, errors: { type: 'array', items: { type: 'object', required: ['location', 'message'], properties: { location: { type: 'string' }, message: { type: 'string' } } } } },
        },
      },
    },
  };
}

for (const name of Object.keys(referentials) as Array<keyof typeof referentials>) {
  const dir = fileURLToPath(new URL(`../contracts/MA.GOV.HUB.referentials/${name}/`, import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}openapi.yaml`, stringify(document(name), { lineWidth: 0, aliasDuplicateObjects: false }));
  process.stdout.write(`wrote ${dir}openapi.yaml\n`);
}
