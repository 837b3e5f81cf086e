// The per-service OpenAPI machinery: matching, request and response validation, for OpenAPI 3.0 and 3.1 documents.
import { describe, expect, it } from 'vitest';
import { compileServiceOpenApi, OpenApiDocumentError, type CompiledService, type RequestInput } from '../src/exchange/openapi-service.ts';

// The same BTP company classification service, written once as OpenAPI 3.0 (YAML) and once as 3.1 (JSON).
const openapi30 = `
openapi: 3.0.3
info: { title: Classification BTP, version: '1.0' }
paths:
  /companies/{ice}/classification:
    parameters:
      - $ref: '#/components/parameters/Ice'
    get:
      operationId: getClassification
      parameters:
        - { name: x-request-channel, in: header, required: true, schema: { type: string, enum: [web, batch] } }
        - { name: asOf, in: query, schema: { type: string, format: date } }
      responses:
        '200':
          description: the classification
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Classification' }
        '404': { $ref: '#/components/responses/NotFound' }
  /companies/search:
    get:
      operationId: getSearchForm
      responses:
        '200': { description: a literal path beside a templated one, content: { text/html: {} } }
    post:
      operationId: searchCompanies
      requestBody:
        $ref: '#/components/requestBodies/Search'
      responses:
        2XX:
          description: matches
          content:
            application/json:
              schema: { type: array, items: { $ref: '#/components/schemas/Classification' } }
  /companies/{ice}:
    get:
      operationId: getCompany
      parameters:
        - { name: ice, in: path, required: true, schema: { type: string } }
      responses:
        default: { description: anything, content: { application/json: { schema: { type: object } } } }
  /companies:
    get:
      operationId: listCompanies
      parameters:
        - { name: commune, in: query, required: true, schema: { type: string, minLength: 2 } }
        - $ref: '#/components/parameters/Limit'
        - { name: secteur, in: query, schema: { type: array, items: { type: string, enum: [A, B, C] } } }
        - { name: ids, in: query, explode: false, schema: { type: array, items: { type: integer } } }
        - { name: active, in: query, schema: { type: boolean } }
        - { name: minScore, in: query, schema: { type: number, minimum: 0, exclusiveMinimum: true } }
      responses:
        '200':
          description: a page
          content:
            application/json:
              schema:
                type: object
                required: [items]
                properties:
                  items: { type: array, items: { $ref: '#/components/schemas/Classification' } }
components:
  parameters:
    Ice: { name: ice, in: path, required: true, schema: { $ref: '#/components/schemas/Ice' } }
    Limit: { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100, example: 20 } }
  requestBodies:
    Search:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            required: [ices]
            properties:
              ices: { type: array, minItems: 1, items: { $ref: '#/components/schemas/Ice' } }
              secteur: { type: string }
  responses:
    NotFound: { description: not found, content: { application/problem+json: { schema: { type: object } } } }
  schemas:
    Ice: { type: string, pattern: '^\\d{15}$', example: '001525458000088' }
    Classification:
      type: object
      required: [ice, raisonSociale, classes]
      properties:
        ice: { $ref: '#/components/schemas/Ice' }
        raisonSociale: { type: string, x-pii: false }
        dateRetrait: { type: string, format: date, nullable: true }
        gerant: { nullable: true, allOf: [{ $ref: '#/components/schemas/Person' }] }
        classes:
          type: array
          items:
            type: object
            required: [secteur, classe]
            properties:
              secteur: { type: string, enum: [A, B, C] }
              classe: { type: integer, minimum: 1, maximum: 5 }
        parent: { $ref: '#/components/schemas/Classification' }
    Person:
      type: object
      required: [cin]
      properties: { cin: { type: string }, nom: { type: string } }
`;

const openapi31 = JSON.stringify({
  openapi: '3.1.0',
  info: { title: 'Classification BTP', version: '1.0' },
  paths: {
    '/companies/{ice}/classification': {
      parameters: [{ $ref: '#/components/parameters/Ice' }],
      get: {
        operationId: 'getClassification',
        parameters: [
          { name: 'x-request-channel', in: 'header', required: true, schema: { type: 'string', enum: ['web', 'batch'] } },
          { name: 'asOf', in: 'query', schema: { type: 'string', format: 'date' } },
        ],
        responses: {
          '200': { description: 'the classification', content: { 'application/json': { schema: { $ref: '#/components/schemas/Classification' } } } },
          '404': { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/companies/search': {
      get: { operationId: 'getSearchForm', responses: { '200': { description: 'form', content: { 'text/html': {} } } } },
      post: {
        operationId: 'searchCompanies',
        requestBody: { $ref: '#/components/requestBodies/Search' },
        responses: {
          '2XX': {
            description: 'matches',
            content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Classification' } } } },
          },
        },
      },
    },
    '/companies/{ice}': {
      get: {
        operationId: 'getCompany',
        parameters: [{ name: 'ice', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { default: { description: 'anything', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/companies': {
      get: {
        operationId: 'listCompanies',
        parameters: [
          { name: 'commune', in: 'query', required: true, schema: { type: 'string', minLength: 2 } },
          { $ref: '#/components/parameters/Limit' },
          { name: 'secteur', in: 'query', schema: { type: 'array', items: { type: 'string', enum: ['A', 'B', 'C'] } } },
          { name: 'ids', in: 'query', explode: false, schema: { type: 'array', items: { type: 'integer' } } },
          { name: 'active', in: 'query', schema: { type: 'boolean' } },
          { name: 'minScore', in: 'query', schema: { type: 'number', exclusiveMinimum: 0 } },
        ],
        responses: {
          '200': {
            description: 'a page',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Classification' } } } },
              },
            },
          },
        },
      },
    },
  },
  components: {
    parameters: {
      Ice: { name: 'ice', in: 'path', required: true, schema: { $ref: '#/components/schemas/Ice' } },
      Limit: { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, examples: [20] } },
    },
    requestBodies: {
      Search: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              required: ['ices'],
              properties: { ices: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/Ice' } }, secteur: { type: 'string' } },
            },
          },
        },
      },
    },
    responses: { NotFound: { description: 'not found', content: { 'application/problem+json': { schema: { type: 'object' } } } } },
    schemas: {
      Ice: { type: 'string', pattern: '^\\d{15}$', examples: ['001525458000088'] },
      Classification: {
        type: 'object',
        required: ['ice', 'raisonSociale', 'classes'],
        properties: {
          ice: { $ref: '#/components/schemas/Ice' },
          raisonSociale: { type: 'string', 'x-pii': false },
          dateRetrait: { type: ['string', 'null'], format: 'date' },
          gerant: { oneOf: [{ $ref: '#/components/schemas/Person' }, { type: 'null' }] },
          classes: {
            type: 'array',
            items: {
              type: 'object',
              required: ['secteur', 'classe'],
              properties: { secteur: { type: 'string', enum: ['A', 'B', 'C'] }, classe: { type: 'integer', minimum: 1, maximum: 5 } },
            },
          },
          parent: { $ref: '#/components/schemas/Classification' },
        },
      },
      Person: { type: 'object', required: ['cin'], properties: { cin: { type: 'string' }, nom: { type: 'string' } } },
    },
  },
});

const ice = '001525458000088';
const classification = {
  ice,
  raisonSociale: 'Bâtiments du Souss SARL',
  dateRetrait: null,
  gerant: { cin: 'JB123456', nom: 'Amrani' },
  classes: [
    { secteur: 'A', classe: 2 },
    { secteur: 'C', classe: 5 },
  ],
};

function request(overrides: Partial<RequestInput> = {}): RequestInput {
  const headers: Record<string, string> = { 'x-request-channel': 'web' };
  return { pathParams: {}, query: new URLSearchParams(), headers: (name) => headers[name], ...overrides };
}

function must(service: CompiledService, method: string, path: string) {
  const matched = service.match(method, path);
  if (matched === undefined) throw new Error(`no operation for ${method} ${path}`);
  return matched;
}

describe.each([
  ['OpenAPI 3.0 (YAML)', openapi30, '3.0'],
  ['OpenAPI 3.1 (JSON)', openapi31, '3.1'],
] as const)('%s', (_name, text, version) => {
  const service = compileServiceOpenApi(text);

  it('lists its operations with upper-case methods, in document order', () => {
    expect(service.version).toBe(version);
    expect(service.operations).toEqual([
      { operationId: 'getClassification', method: 'GET', pathTemplate: '/companies/{ice}/classification' },
      { operationId: 'getSearchForm', method: 'GET', pathTemplate: '/companies/search' },
      { operationId: 'searchCompanies', method: 'POST', pathTemplate: '/companies/search' },
      { operationId: 'getCompany', method: 'GET', pathTemplate: '/companies/{ice}' },
      { operationId: 'listCompanies', method: 'GET', pathTemplate: '/companies' },
    ]);
    expect(service.operation('listCompanies')?.pathTemplate).toBe('/companies');
    expect(service.operation('nope')).toBeUndefined();
  });

  describe('matching', () => {
    it('fills templates and decodes each segment after splitting', () => {
      const matched = must(service, 'get', `/companies/${ice}/classification`);
      expect(matched).toMatchObject({ operationId: 'getClassification', method: 'GET', pathTemplate: '/companies/{ice}/classification', pathParams: { ice } });
      expect(must(service, 'GET', '/companies/a%2Fb%20c').pathParams).toEqual({ ice: 'a/b c' });
      expect(must(service, 'GET', '/companies/%D8%B4%D8%B1%D9%83%D8%A9').pathParams).toEqual({ ice: 'شركة' });
    });

    it('prefers literal segments over templated ones, whatever the document order', () => {
      expect(must(service, 'GET', '/companies/search').operationId).toBe('getSearchForm');
      expect(must(service, 'POST', '/companies/search').operationId).toBe('searchCompanies');
      expect(must(service, 'GET', '/companies/searches').operationId).toBe('getCompany');
    });

    it('finds nothing for another method, another shape, an empty parameter or broken encoding', () => {
      expect(service.match('DELETE', `/companies/${ice}`)).toBeUndefined();
      expect(service.match('POST', `/companies/${ice}/classification`)).toBeUndefined();
      expect(service.match('GET', `/companies/${ice}/classification/extra`)).toBeUndefined();
      expect(service.match('GET', `/companies/${ice}/`)).toBeUndefined();
      expect(service.match('GET', '/companies//classification')).toBeUndefined();
      expect(service.match('GET', '/companies/%E0%A4%A')).toBeUndefined();
      expect(service.match('GET', 'companies')).toBeUndefined();
    });
  });

  describe('requests', () => {
    it('accepts a valid request, with undeclared query parameters allowed', () => {
      const matched = must(service, 'GET', `/companies/${ice}/classification`);
      expect(matched.validateRequest(request({ pathParams: matched.pathParams, query: new URLSearchParams('asOf=2025-01-31&trace=1') }))).toEqual([]);
    });

    it('checks path parameters against their (referenced) schema', () => {
      const matched = must(service, 'GET', '/companies/12345/classification');
      expect(matched.validateRequest(request({ pathParams: matched.pathParams }))).toEqual([{ location: 'path.ice', message: 'must match pattern "^\\d{15}$"' }]);
    });

    it('checks header parameters, looked up in lower case', () => {
      const matched = must(service, 'GET', `/companies/${ice}/classification`);
      const headers: Record<string, string> = { 'x-request-channel': 'mobile' };
      expect(matched.validateRequest(request({ pathParams: matched.pathParams, headers: (name) => headers[name] }))).toEqual([
        { location: 'header.x-request-channel', message: 'must be one of "web", "batch"' },
      ]);
      expect(matched.validateRequest(request({ pathParams: matched.pathParams, headers: () => undefined }))).toEqual([
        { location: 'header.x-request-channel', message: 'is required' },
      ]);
    });

    it('coerces query values to their types before validating', () => {
      const list = must(service, 'GET', '/companies');
      const valid = new URLSearchParams('commune=Agadir&limit=20&secteur=A&secteur=C&ids=1,2,3&active=true&minScore=0.5');
      expect(list.validateRequest(request({ query: valid }))).toEqual([]);
      const invalid = new URLSearchParams('commune=A&limit=0&secteur=A&secteur=D&ids=1,x&active=yes&minScore=0');
      expect(list.validateRequest(request({ query: invalid }))).toEqual([
        { location: 'query.commune', message: 'must NOT have fewer than 2 characters' },
        { location: 'query.limit', message: 'must be >= 1' },
        { location: 'query.secteur.1', message: 'must be one of "A", "B", "C"' },
        { location: 'query.ids.1', message: 'must be integer' },
        { location: 'query.active', message: 'must be boolean' },
        { location: 'query.minScore', message: 'must be > 0' },
      ]);
      expect(list.validateRequest(request({ query: new URLSearchParams('commune=Agadir&limit=101') }))).toEqual([{ location: 'query.limit', message: 'must be <= 100' }]);
      expect(list.validateRequest(request({ query: new URLSearchParams('commune=Agadir&limit=2.5') }))).toEqual([{ location: 'query.limit', message: 'must be integer' }]);
    });

    it('requires required query parameters', () => {
      expect(must(service, 'GET', '/companies').validateRequest(request({ query: new URLSearchParams('limit=5') }))).toEqual([{ location: 'query.commune', message: 'is required' }]);
    });

    it('validates a JSON body, naming the faulty field', () => {
      const search = must(service, 'POST', '/companies/search');
      const json = 'application/json; charset=utf-8';
      expect(search.validateRequest(request({ contentType: json, body: { ices: [ice], secteur: 'A' } }))).toEqual([]);
      expect(search.validateRequest(request({ contentType: json, body: { ices: [ice, '42'], extra: true } }))).toEqual([
        { location: 'body.extra', message: 'is not allowed' },
        { location: 'body.ices.1', message: 'must match pattern "^\\d{15}$"' },
      ]);
      expect(search.validateRequest(request({ contentType: json, body: { secteur: 7 } }))).toEqual([
        { location: 'body.ices', message: 'is required' },
        { location: 'body.secteur', message: 'must be string' },
      ]);
    });

    it('requires a required body, refuses an undeclared content type and a body where none is declared', () => {
      const search = must(service, 'POST', '/companies/search');
      expect(search.validateRequest(request())).toEqual([{ location: 'body', message: 'is required' }]);
      expect(search.validateRequest(request({ contentType: 'text/plain', body: 'ices=1' }))).toEqual([
        { location: 'header.content-type', message: 'text/plain is not accepted: expected application/json' },
      ]);
      expect(search.validateRequest(request({ body: { ices: [ice] } }))).toEqual([
        { location: 'header.content-type', message: 'is required with a body: expected application/json' },
      ]);
      const list = must(service, 'GET', '/companies');
      expect(list.validateRequest(request({ query: new URLSearchParams('commune=Agadir'), contentType: 'application/json', body: {} }))).toEqual([
        { location: 'body', message: 'must be empty: the operation takes no request body' },
      ]);
    });
  });

  describe('responses', () => {
    const get = must(service, 'GET', `/companies/${ice}/classification`);

    it('accepts a valid answer, null where the schema allows it, and recursive schemas', () => {
      expect(get.validateResponse(200, 'application/json', classification)).toEqual([]);
      expect(get.validateResponse(200, 'application/json', { ...classification, gerant: null, dateRetrait: '2024-06-30' })).toEqual([]);
      expect(get.validateResponse(200, 'application/json', { ...classification, parent: { ...classification, parent: classification } })).toEqual([]);
    });

    it('names each faulty field of the answer', () => {
      const bad = { ice: '1', dateRetrait: 'hier', gerant: { nom: 'X' }, classes: [{ secteur: 'Z', classe: 9 }], parent: { ...classification, ice: 2 } };
      const errors = get.validateResponse(200, 'application/json', bad);
      expect(errors).toHaveLength(7); // and nothing else: no summaries of anyOf/oneOf branches
      expect(errors).toEqual(
        expect.arrayContaining([
          { location: 'response.raisonSociale', message: 'is required' },
          { location: 'response.ice', message: 'must match pattern "^\\d{15}$"' },
          { location: 'response.dateRetrait', message: 'must match format "date"' },
          { location: 'response.gerant.cin', message: 'is required' },
          { location: 'response.classes.0.secteur', message: 'must be one of "A", "B", "C"' },
          { location: 'response.classes.0.classe', message: 'must be <= 5' },
          { location: 'response.parent.ice', message: 'must be string' },
        ]),
      );
    });

    it('refuses null where the schema does not allow it', () => {
      expect(get.validateResponse(200, 'application/json', { ...classification, raisonSociale: null })).toEqual([{ location: 'response.raisonSociale', message: 'must be string' }]);
    });

    it('says the same thing about a nullable reference in both dialects, without the noise of its branches', () => {
      expect(get.validateResponse(200, 'application/json', { ...classification, gerant: 5 })).toEqual([{ location: 'response.gerant', message: 'must be object or null' }]);
      expect(get.validateResponse(200, 'application/json', { ...classification, gerant: { nom: 'X' } })).toEqual([{ location: 'response.gerant.cin', message: 'is required' }]);
    });

    it('uses the exact status, then 2XX, then default; an undeclared 2xx status is an error; others pass through', () => {
      expect(get.validateResponse(201, 'application/json', classification)).toEqual([{ location: 'response', message: 'status 201 is not declared for this operation' }]);
      expect(get.validateResponse(404, 'text/plain', 'gone')).toEqual([]);
      const search = must(service, 'POST', '/companies/search');
      expect(search.validateResponse(206, 'application/json', [classification])).toEqual([]);
      expect(search.validateResponse(200, 'application/json', [{ ...classification, classes: 'A' }])).toEqual([{ location: 'response.0.classes', message: 'must be array' }]);
      const company = must(service, 'GET', `/companies/${ice}`);
      expect(company.validateResponse(203, 'application/json', { any: 'thing' })).toEqual([]);
      expect(company.validateResponse(200, 'application/json', [])).toEqual([{ location: 'response', message: 'must be object' }]);
    });

    it('checks the content type and that a declared body is there', () => {
      expect(get.validateResponse(200, 'text/html', '<p>')).toEqual([
        { location: 'response', message: 'content type text/html is not declared for status 200: expected application/json' },
      ]);
      expect(get.validateResponse(200, undefined, undefined)).toEqual([{ location: 'response', message: 'must have a body: application/json is declared for status 200' }]);
      expect(must(service, 'GET', '/companies').validateResponse(200, 'application/json', { items: [classification] })).toEqual([]);
    });
  });
});

describe('dialects', () => {
  it('reads 3.0 nullable and boolean exclusiveMaximum, and 3.1 type arrays and numeric exclusiveMaximum', () => {
    const doc30 = `{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"operationId":"x","responses":{"200":{"description":"x","content":{"application/json":{"schema":{
      "type":"object","properties":{"n":{"type":"integer","nullable":true,"maximum":10,"exclusiveMaximum":true},"e":{"type":"string","enum":["a"],"nullable":true}}}}}}}}}}}`;
    const doc31 = `{"openapi":"3.1.1","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"operationId":"x","responses":{"200":{"description":"x","content":{"application/json":{"schema":{
      "type":"object","properties":{"n":{"type":["integer","null"],"exclusiveMaximum":10},"e":{"enum":["a",null]}}}}}}}}}}}`;
    for (const doc of [doc30, doc31]) {
      const x = must(compileServiceOpenApi(doc), 'GET', '/x');
      expect(x.validateResponse(200, 'application/json', { n: null, e: null })).toEqual([]);
      expect(x.validateResponse(200, 'application/json', { n: 9, e: 'a' })).toEqual([]);
      expect(x.validateResponse(200, 'application/json', { n: 10 })).toEqual([{ location: 'response.n', message: 'must be < 10' }]);
      expect(x.validateResponse(200, 'application/json', { n: 'x' })).toEqual([{ location: 'response.n', message: 'must be integer or null' }]);
    }
  });

  it('ignores nullable in a 3.1 document (not part of its dialect)', () => {
    const doc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"operationId":"x","responses":{"200":{"description":"x","content":{"application/json":{"schema":{"type":"string","nullable":true}}}}}}}}}`;
    expect(must(compileServiceOpenApi(doc), 'GET', '/x').validateResponse(200, 'application/json', null)).toEqual([{ location: 'response', message: 'must be string' }]);
  });

  it('reads deepObject query objects, pipe-delimited arrays, header lists and JSON-encoded parameters', () => {
    const doc = `
openapi: 3.1.0
info: { title: t, version: '1' }
paths:
  /x:
    get:
      operationId: x
      parameters:
        - { name: filter, in: query, style: deepObject, schema: { type: object, properties: { classe: { type: integer } }, additionalProperties: false } }
        - { name: secteurs, in: query, style: pipeDelimited, explode: false, schema: { type: array, items: { type: string }, maxItems: 2 } }
        - { name: x-ids, in: header, schema: { type: array, items: { type: integer } } }
        - { name: where, in: query, content: { application/json: { schema: { type: object, required: [ville] } } } }
`;
    const x = must(compileServiceOpenApi(doc), 'GET', '/x');
    const headers: Record<string, string> = { 'x-ids': '1, 2' };
    const valid = new URLSearchParams({ 'filter[classe]': '3', secteurs: 'A|B', where: '{"ville":"Agadir"}' });
    expect(x.validateRequest({ pathParams: {}, query: valid, headers: (name) => headers[name] })).toEqual([]);
    const invalid = new URLSearchParams({ 'filter[classe]': 'x', 'filter[other]': '1', secteurs: 'A|B|C', where: '{"ville"' });
    expect(x.validateRequest({ pathParams: {}, query: invalid, headers: () => '1,b' })).toEqual([
      { location: 'query.filter.other', message: 'is not allowed' },
      { location: 'query.filter.classe', message: 'must be integer' },
      { location: 'query.secteurs', message: 'must NOT have more than 2 items' },
      { location: 'header.x-ids.1', message: 'must be integer' },
      { location: 'query.where', message: 'must be valid JSON' },
    ]);
  });

  it('matches templates with literal text around parameters', () => {
    const doc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/files/{name}.{ext}":{"get":{"operationId":"file","responses":{}}},"/files/{id}":{"get":{"operationId":"byId","responses":{}}}}}`;
    const service = compileServiceOpenApi(doc);
    expect(must(service, 'GET', '/files/report.2024.pdf')).toMatchObject({ operationId: 'file', pathParams: { name: 'report', ext: '2024.pdf' } });
    expect(must(service, 'GET', '/files/report')).toMatchObject({ operationId: 'byId', pathParams: { id: 'report' } });
  });
});

describe('bad documents', () => {
  const info = 'info: { title: t, version: "1" }';
  it.each([
    ['not YAML', 'openapi: [3.0', /^not valid YAML or JSON: /],
    ['a scalar', '"3.0.0"', /top level must be an object/],
    ['Swagger 2.0', `swagger: "2.0"\n${info}\npaths: {}`, /Swagger 2\.0 is not supported/],
    ['OpenAPI 2', `openapi: 2.0.0\n${info}`, /not an OpenAPI 3\.0 or 3\.1 document: "openapi" is "2\.0\.0"/],
    ['no version', `${info}\npaths: {}`, /"openapi" is missing/],
    ['an operation without operationId', `openapi: 3.0.3\n${info}\npaths:\n  /x:\n    get: { responses: {} }`, /^GET \/x has no operationId/],
    ['a duplicate operationId', `openapi: 3.1.0\n${info}\npaths:\n  /x: { get: { operationId: a }, post: { operationId: a } }`, /operationId "a" is used by both GET \/x and POST \/x/],
    ['a dangling $ref', `openapi: 3.1.0\n${info}\npaths:\n  /x: { get: { operationId: a, parameters: [{ $ref: '#/components/parameters/Nope' }] } }`, /points to nothing/],
    ['a remote $ref', `openapi: 3.1.0\n${info}\npaths:\n  /x: { get: { operationId: a, parameters: [{ $ref: 'other.yaml#/p' }] } }`, /only local \$refs/],
    ['an invalid schema', `openapi: 3.1.0\n${info}\npaths:\n  /x: { get: { operationId: a, parameters: [{ name: q, in: query, schema: { type: 7 } }] } }`, /parameter query\.q: invalid schema/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => compileServiceOpenApi(text)).toThrow(OpenApiDocumentError);
    expect(() => compileServiceOpenApi(text)).toThrow(message);
  });
});
