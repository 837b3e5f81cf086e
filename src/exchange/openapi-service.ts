// A provider service's OpenAPI 3.0/3.1 document compiled once into an operation matcher and request/response validators.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** The document cannot serve as a service contract; the message says what to fix. */
export class OpenApiDocumentError extends Error {
  override name = 'OpenApiDocumentError';
}

/** One fault, shaped like the `errors` items of the hub's problem+json answers. */
export interface FieldError {
  /** `path.ice`, `query.limit`, `header.x-foo`, `header.content-type`, `body`, `body.items.0.ice`, `response.owner.cin`. */
  location: string;
  message: string;
}

export interface RequestInput {
  pathParams: Record<string, string>;
  query: URLSearchParams;
  /** Looks a header up; called with the parameter's name in lower case. */
  headers: (name: string) => string | undefined;
  /** The request's Content-Type header, parameters allowed (`application/json; charset=utf-8`). */
  contentType?: string;
  /** The parsed JSON body (or, for a non-JSON media type, the raw body); undefined when there is no body. */
  body?: unknown;
}

export interface ServiceOperation {
  operationId: string;
  /** Upper case: `GET`, `POST`… */
  method: string;
  /** As written in the document: `/companies/{ice}/classification`. */
  pathTemplate: string;
}

export interface CompiledOperation extends ServiceOperation {
  /**
   * Checks parameters and body. Path, query and header values are coerced from strings to their schema's type first.
   * Query parameters that the operation does not declare are allowed (providers commonly accept more than they document,
   * and refusing them would break callers without protecting anyone); cookie parameters are not checked.
   */
  validateRequest(input: RequestInput): FieldError[];
  /** Checks a provider's 2xx answer; other statuses pass through unchecked and yield no errors. */
  validateResponse(status: number, contentType: string | undefined, body: unknown): FieldError[];
}

export interface MatchedOperation extends CompiledOperation {
  /** Decoded values of the template's parameters. */
  pathParams: Record<string, string>;
}

export interface CompiledService {
  /** Which OpenAPI line the document follows (decides the JSON Schema dialect). */
  version: '3.0' | '3.1';
  operations: readonly ServiceOperation[];
  /**
   * Finds the operation for a method and a raw path within the service (no query string): each segment is
   * percent-decoded after splitting, so `%2F` stays inside its segment. Literal segments win over templated ones.
   */
  match(method: string, path: string): MatchedOperation | undefined;
  operation(operationId: string): CompiledOperation | undefined;
}

type JsonObject = Record<string, unknown>;

const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** Where component schemas live inside each service's Ajv instance; `#/components/schemas/X` refs are rewritten to it. */
const componentsId = 'urn:tabadol:openapi:components';
/** OpenAPI-only keywords (annotations) that JSON Schema validators do not know. */
const openApiAnnotations = new Set(['example', 'xml', 'externalDocs', 'discriminator', 'nullable', 'deprecated']);
/** Header parameters that OpenAPI says to ignore: they are described elsewhere in the document. */
const ignoredHeaders = new Set(['accept', 'content-type', 'authorization']);

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export function compileServiceOpenApi(documentText: string): CompiledService {
  const document = parseDocument(documentText);
  const version = String(document.openapi).startsWith('3.1') ? '3.1' : '3.0';
  const context = new DocumentContext(document, version);
  const paths = document.paths ?? {};
  if (!isObject(paths)) throw new OpenApiDocumentError('"paths" must be an object');

  const compiled: CompiledOperation[] = [];
  const routes: Route[] = [];
  const seenIds = new Map<string, string>();
  for (const [pathTemplate, rawPathItem] of Object.entries(paths)) {
    if (!pathTemplate.startsWith('/')) throw new OpenApiDocumentError(`path ${JSON.stringify(pathTemplate)} must start with "/"`);
    const pathItem = context.deref(rawPathItem, `paths.${pathTemplate}`);
    for (const method of httpMethods) {
      const rawOperation = pathItem[method];
      if (rawOperation === undefined) continue;
      const where = `${method.toUpperCase()} ${pathTemplate}`;
      if (!isObject(rawOperation)) throw new OpenApiDocumentError(`${where}: the operation must be an object`);
      const operationId = rawOperation.operationId;
      if (typeof operationId !== 'string' || operationId === '') {
        throw new OpenApiDocumentError(`${where} has no operationId: conventions name operations by operationId, so each one needs it`);
      }
      const clash = seenIds.get(operationId);
      if (clash !== undefined) throw new OpenApiDocumentError(`operationId ${JSON.stringify(operationId)} is used by both ${clash} and ${where}`);
      seenIds.set(operationId, where);
      const operation = compileOperation(context, { operationId, method: method.toUpperCase(), pathTemplate }, pathItem, rawOperation, where);
      compiled.push(operation);
      routes.push(compileRoute(operation));
    }
  }

  // Most specific first, so the first route that matches is the one to use.
  routes.sort((a, b) => compareRanks(a.ranks, b.ranks));
  const byMethod = new Map<string, Route[]>();
  for (const route of routes) {
    const list = byMethod.get(route.operation.method) ?? [];
    list.push(route);
    byMethod.set(route.operation.method, list);
  }
  const byId = new Map(compiled.map((operation) => [operation.operationId, operation]));

  return {
    version,
    operations: compiled.map(({ operationId, method, pathTemplate }) => ({ operationId, method, pathTemplate })),
    operation: (operationId) => byId.get(operationId),
    match(method, path) {
      const candidates = byMethod.get(method.toUpperCase());
      if (candidates === undefined || !path.startsWith('/')) return undefined;
      const segments = decodeSegments(path);
      if (segments === undefined) return undefined;
      for (const route of candidates) {
        const pathParams = matchRoute(route, segments);
        if (pathParams !== undefined) return { ...route.operation, pathParams };
      }
      return undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Document, $refs and schema dialects

function parseDocument(text: string): JsonObject {
  let document: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    document = parseYaml(text);
  } catch (error) {
    throw new OpenApiDocumentError(`not valid YAML or JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isObject(document)) throw new OpenApiDocumentError('not an OpenAPI document: the top level must be an object');
  if (document.swagger !== undefined) throw new OpenApiDocumentError(`Swagger ${String(document.swagger)} is not supported: convert the document to OpenAPI 3.0 or 3.1`);
  if (typeof document.openapi !== 'string' || !/^3\.[01]\.\d+/.test(document.openapi)) {
    throw new OpenApiDocumentError(`not an OpenAPI 3.0 or 3.1 document: "openapi" is ${JSON.stringify(document.openapi) ?? 'missing'}`);
  }
  return document;
}

type AjvInstance = Ajv | Ajv2020;

/**
 * A schema's two validators. `check` stops at the first fault, so it costs time linear in the value whatever the value
 * holds; `explain` (compiled on first use) lists every fault, which on a long list of bad items means several error
 * objects per item (1 MiB of `{}` items: 1.4 million, 1.2 s): it runs only on values small enough (explainBudget).
 */
interface SchemaValidator {
  check: ValidateFunction;
  explain(): ValidateFunction;
}

/** Everything that compiling one document shares: the document (for $refs), its dialect, its Ajv instances and validator cache. */
class DocumentContext {
  /** allErrors: false, the verdict. */
  readonly ajv: AjvInstance;
  /** allErrors: true, the list of faults for a value within explainBudget. */
  private readonly explainingAjv: AjvInstance;
  private readonly validators = new Map<unknown, SchemaValidator>();

  constructor(
    readonly document: JsonObject,
    readonly version: '3.0' | '3.1',
  ) {
    // An instance per document: validators are freed with the service, and component ids of two services cannot clash.
    // strict: false because providers' schemas carry vendor extensions (x-…) and OpenAPI annotations Ajv does not know;
    // logger: false because unknown formats are annotations only (JSON Schema 2020-12 §7.2), not worth a warning.
    const options = { strict: false, logger: false as const };
    const create = (allErrors: boolean) => {
      const ajv = version === '3.1' ? new Ajv2020({ ...options, allErrors }) : new Ajv({ ...options, allErrors });
      // ajv-formats also defines OpenAPI's int32, int64, float, double, byte, binary and password.
      addFormats.default(ajv as Ajv);
      return ajv;
    };
    this.ajv = create(false);
    this.explainingAjv = create(true);

    const components = isObject(document.components) ? document.components : {};
    const schemas = isObject(components.schemas) ? components.schemas : {};
    const defs: JsonObject = {};
    for (const [name, schema] of Object.entries(schemas)) defs[name] = this.convertSchema(schema, `components.schemas.${name}`, []);
    try {
      this.ajv.addSchema({ $id: componentsId, $defs: defs });
      this.explainingAjv.addSchema({ $id: componentsId, $defs: defs });
    } catch (error) {
      throw new OpenApiDocumentError(`components.schemas: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Follows a local `$ref` chain of a non-schema object (path item, parameter, request body, response, header). */
  deref(value: unknown, where: string): JsonObject {
    const seen = new Set<string>();
    let current = value;
    while (isObject(current) && typeof current.$ref === 'string') {
      const ref = current.$ref;
      if (seen.has(ref)) throw new OpenApiDocumentError(`${where}: circular $ref ${ref}`);
      seen.add(ref);
      current = this.resolvePointer(ref, where);
    }
    if (!isObject(current)) throw new OpenApiDocumentError(`${where} must be an object`);
    return current;
  }

  resolvePointer(ref: string, where: string): unknown {
    if (!ref.startsWith('#/')) throw new OpenApiDocumentError(`${where}: only local $refs (#/components/…) are supported, not ${JSON.stringify(ref)}`);
    let current: unknown = this.document;
    for (const raw of ref.slice(2).split('/')) {
      let key: string;
      try {
        key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      } catch {
        throw new OpenApiDocumentError(`${where}: $ref ${ref} is not a valid JSON pointer`);
      }
      // Own properties only: a pointer must not reach Object.prototype through "__proto__" or "constructor".
      current = (isObject(current) || Array.isArray(current)) && Object.hasOwn(current, key) ? (current as JsonObject)[key] : undefined;
      if (current === undefined) throw new OpenApiDocumentError(`${where}: $ref ${ref} points to nothing`);
    }
    return current;
  }

  /** A validator for a schema of the document, compiled once per schema (a ref is one schema wherever it is used). */
  validator(schema: unknown, where: string): SchemaValidator {
    const key = isObject(schema) && typeof schema.$ref === 'string' && Object.keys(schema).length === 1 ? `ref:${schema.$ref}` : schema;
    const cached = this.validators.get(key);
    if (cached !== undefined) return cached;
    let converted: object;
    let check: ValidateFunction;
    try {
      converted = this.convertSchema(schema, where, []) as object;
      check = this.ajv.compile(converted);
    } catch (error) {
      if (error instanceof OpenApiDocumentError) throw error;
      throw new OpenApiDocumentError(`${where}: invalid schema: ${error instanceof Error ? error.message : String(error)}`);
    }
    let explain: ValidateFunction | undefined;
    // The same schema compiled by check already, so this compile cannot fail on the document.
    const validator = { check, explain: () => (explain ??= this.explainingAjv.compile(converted)) };
    this.validators.set(key, validator);
    return validator;
  }

  /**
   * Copies a schema into the validator's dialect: JSON Schema draft-07 for 3.0 (nullable, boolean exclusive bounds),
   * 2020-12 as is for 3.1. Refs to component schemas point into the components resource (so recursive schemas work);
   * other local refs are inlined.
   */
  convertSchema(schema: unknown, where: string, inlining: readonly string[]): unknown {
    if (!isObject(schema)) {
      // Boolean schemas: 3.1 allows them anywhere, 3.0 as additionalProperties; draft-07 validates both.
      if (typeof schema === 'boolean') return schema;
      throw new OpenApiDocumentError(`${where}: a schema must be an object`);
    }
    const ref = schema.$ref;
    let target: JsonObject | undefined;
    if (typeof ref === 'string') {
      if (ref.startsWith('#/components/schemas/')) {
        target = { $ref: `${componentsId}#/$defs/${ref.slice('#/components/schemas/'.length)}` };
      } else {
        if (inlining.includes(ref)) throw new OpenApiDocumentError(`${where}: circular $ref ${ref} outside components.schemas`);
        const inlined = this.convertSchema(this.resolvePointer(ref, where), where, [...inlining, ref]);
        target = isObject(inlined) ? inlined : { allOf: [inlined] };
      }
      // OpenAPI 3.0 ignores a $ref's siblings; 3.1 (JSON Schema 2020-12) applies them alongside.
      if (this.version === '3.0') return target;
    }

    const out: JsonObject = {};
    for (const [keyword, value] of Object.entries(schema)) {
      if (keyword === '$ref' || keyword === '$schema' || keyword.startsWith('x-') || openApiAnnotations.has(keyword)) continue;
      out[keyword] = this.convertKeyword(keyword, value, `${where}.${keyword}`, inlining);
    }
    if (target !== undefined) out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), target];
    return this.version === '3.0' ? convert30Specifics(schema, out) : out;
  }

  private convertKeyword(keyword: string, value: unknown, where: string, inlining: readonly string[]): unknown {
    const sub = (schema: unknown, at: string) => this.convertSchema(schema, at, inlining);
    if (schemaMapKeywords.has(keyword) && isObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, sub(schema, `${where}.${name}`)]));
    }
    if (schemaListKeywords.has(keyword) && Array.isArray(value)) return value.map((schema, i) => sub(schema, `${where}.${i}`));
    if (keyword === 'items' && Array.isArray(value)) return value.map((schema, i) => sub(schema, `${where}.${i}`));
    if (schemaKeywords.has(keyword) && (isObject(value) || typeof value === 'boolean')) return sub(value, where);
    if (keyword === 'dependencies' && isObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([name, dep]) => [name, Array.isArray(dep) ? dep : sub(dep, `${where}.${name}`)]));
    }
    return value; // data (enum, const, default…) or a plain constraint
  }
}

const schemaKeywords = new Set(['items', 'additionalItems', 'additionalProperties', 'unevaluatedItems', 'unevaluatedProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'contentSchema']);
const schemaListKeywords = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const schemaMapKeywords = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

/** OpenAPI 3.0's departures from JSON Schema: `nullable`, and boolean `exclusiveMinimum`/`exclusiveMaximum`. */
function convert30Specifics(original: JsonObject, out: JsonObject): JsonObject {
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (out[exclusive] === true && typeof out[bound] === 'number') {
      out[exclusive] = out[bound];
      delete out[bound];
    } else if (typeof out[exclusive] === 'boolean') {
      delete out[exclusive];
    }
  }
  if (original.nullable !== true) return out;
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (typeof out.type === 'string') out.type = [out.type, 'null'];
  else if (Array.isArray(out.type)) out.type = out.type.includes('null') ? out.type : [...out.type, 'null'];
  // 3.0.3 says nullable without type has no effect, yet `nullable: true` + `allOf: [$ref]` is how most tools write
  // "a nullable reference"; accepting null there avoids refusing answers that the provider's own tooling considers valid.
  else return { anyOf: [out, { type: 'null' }] };
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Operations: parameters, bodies, responses

type ScalarKind = 'integer' | 'number' | 'boolean' | 'string';
type ValueKind = { kind: ScalarKind } | { kind: 'array'; items: ScalarKind } | { kind: 'object'; properties: Record<string, ScalarKind> };

interface CompiledParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  style: string;
  explode: boolean;
  value: ValueKind;
  /** Declared with `content` (e.g. JSON in a query parameter) rather than `schema`. */
  json: boolean;
  validate: SchemaValidator | undefined;
}

interface CompiledMedia {
  /** Lower-case media range as declared: `application/json`, `application/*`, `*\/*`. */
  range: string;
  validate: SchemaValidator | undefined;
}

interface CompiledBody {
  required: boolean;
  media: CompiledMedia[];
}

function compileOperation(context: DocumentContext, identity: ServiceOperation, pathItem: JsonObject, operation: JsonObject, where: string): CompiledOperation {
  // Operation-level parameters override path-level ones with the same name and location.
  const declared = new Map<string, JsonObject>();
  for (const [level, list] of [
    ['path item', pathItem.parameters],
    ['operation', operation.parameters],
  ] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new OpenApiDocumentError(`${where}: ${level} parameters must be a list`);
    list.forEach((raw, i) => {
      const parameter = context.deref(raw, `${where}: parameter ${i}`);
      declared.set(`${String(parameter.in)}:${String(parameter.name)}`, parameter);
    });
  }
  const parameters: CompiledParameter[] = [];
  for (const parameter of declared.values()) {
    const compiledParameter = compileParameter(context, parameter, where);
    if (compiledParameter !== undefined) parameters.push(compiledParameter);
  }
  const templateNames = [...identity.pathTemplate.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const name of templateNames) {
    if (!parameters.some((p) => p.in === 'path' && p.name === name)) {
      // Undeclared template parameters still have to be present; they are plain strings.
      parameters.push({ name: name ?? '', in: 'path', required: true, style: 'simple', explode: false, value: { kind: 'string' }, json: false, validate: undefined });
    }
  }

  const body = operation.requestBody === undefined ? undefined : compileBody(context, context.deref(operation.requestBody, `${where}: requestBody`), `${where}: requestBody`);
  const responses = compileResponses(context, operation.responses, where);

  return {
    ...identity,
    validateRequest: (input) => validateRequest(parameters, body, input),
    validateResponse: (status, contentType, responseBody) => validateResponse(responses, status, contentType, responseBody),
  };
}

function compileParameter(context: DocumentContext, parameter: JsonObject, where: string): CompiledParameter | undefined {
  const name = parameter.name;
  const location = parameter.in;
  if (typeof name !== 'string' || typeof location !== 'string') throw new OpenApiDocumentError(`${where}: a parameter needs "name" and "in"`);
  const at = `${where}: parameter ${location}.${name}`;
  if (location === 'cookie') return undefined;
  if (location !== 'path' && location !== 'query' && location !== 'header') throw new OpenApiDocumentError(`${at}: "in" must be path, query, header or cookie`);
  if (location === 'header' && ignoredHeaders.has(name.toLowerCase())) return undefined;

  let schema = parameter.schema;
  let json = false;
  if (schema === undefined && isObject(parameter.content)) {
    const [mediaType, media] = Object.entries(parameter.content)[0] ?? [];
    json = mediaType !== undefined && isJsonMediaType(mediaType);
    schema = isObject(media) ? media.schema : undefined;
  }
  const style = typeof parameter.style === 'string' ? parameter.style : location === 'query' ? 'form' : 'simple';
  return {
    name: location === 'header' ? name.toLowerCase() : name,
    in: location,
    required: location === 'path' || parameter.required === true,
    style,
    // OpenAPI: explode defaults to true for style form, false otherwise.
    explode: typeof parameter.explode === 'boolean' ? parameter.explode : style === 'form',
    value: json ? { kind: 'string' } : valueKind(context, schema),
    json,
    validate: schema === undefined ? undefined : context.validator(schema, at),
  };
}

function compileBody(context: DocumentContext, requestBody: JsonObject, where: string): CompiledBody {
  return { required: requestBody.required === true, media: compileContent(context, requestBody.content, where) };
}

function compileContent(context: DocumentContext, content: unknown, where: string): CompiledMedia[] {
  if (content === undefined) return [];
  if (!isObject(content)) throw new OpenApiDocumentError(`${where}: content must be an object`);
  return Object.entries(content).map(([range, media]) => {
    const schema = isObject(media) ? media.schema : undefined;
    return { range: range.toLowerCase(), validate: schema === undefined ? undefined : context.validator(schema, `${where}: ${range}`) };
  });
}

function compileResponses(context: DocumentContext, responses: unknown, where: string): Map<string, CompiledMedia[]> {
  const compiled = new Map<string, CompiledMedia[]>();
  if (responses === undefined) return compiled;
  if (!isObject(responses)) throw new OpenApiDocumentError(`${where}: responses must be an object`);
  for (const [status, raw] of Object.entries(responses)) {
    const at = `${where}: response ${status}`;
    // Ranges may be written 2xx; keys are 200…, 2XX or default.
    compiled.set(/^[1-5]xx$/i.test(status) ? status.toUpperCase() : status, compileContent(context, context.deref(raw, at).content, at));
  }
  return compiled;
}

/** What to coerce a parameter's string value to, read from its schema (following refs and compositions). */
function valueKind(context: DocumentContext, schema: unknown): ValueKind {
  const resolved = resolveForKind(context, schema);
  const type = typeOf(resolved);
  if (type === 'array') return { kind: 'array', items: scalarKind(typeOf(resolveForKind(context, resolved?.items))) };
  if (type === 'object') {
    const properties = isObject(resolved?.properties) ? resolved.properties : {};
    return {
      kind: 'object',
      properties: Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, scalarKind(typeOf(resolveForKind(context, sub)))])),
    };
  }
  return { kind: scalarKind(type) };
}

function resolveForKind(context: DocumentContext, schema: unknown, depth = 0): JsonObject | undefined {
  if (!isObject(schema) || depth > 16) return undefined;
  if (typeof schema.$ref === 'string') return resolveForKind(context, context.resolvePointer(schema.$ref, 'parameter schema'), depth + 1);
  if (schema.type !== undefined) return schema;
  for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    for (const member of list) {
      const found = resolveForKind(context, member, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return schema;
}

function typeOf(schema: JsonObject | undefined): string | undefined {
  const type = schema?.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null');
  return undefined;
}

function scalarKind(type: string | undefined): ScalarKind {
  return type === 'integer' || type === 'number' || type === 'boolean' ? type : 'string';
}

function coerceScalar(raw: string, kind: ScalarKind): unknown {
  switch (kind) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'number': {
      const number = Number(raw);
      return raw.trim() !== '' && Number.isFinite(number) ? number : raw;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw; // a value that does not coerce stays a string, so the validator names the expected type
  }
}

const delimiters: Record<string, string> = { form: ',', simple: ',', spaceDelimited: ' ', pipeDelimited: '|' };

/** The parameter's value as the validator should see it, or undefined when absent. */
function readParameter(parameter: CompiledParameter, input: RequestInput): unknown {
  const { value } = parameter;
  let raw: string | undefined;
  if (parameter.in === 'query') {
    if (value.kind === 'array' && parameter.explode && !parameter.json) {
      const all = input.query.getAll(parameter.name);
      return all.length === 0 ? undefined : all.map((item) => coerceScalar(item, value.items));
    }
    if (value.kind === 'object' && parameter.style === 'deepObject') {
      const object: JsonObject = {};
      let found = false;
      for (const [key, item] of input.query) {
        if (!key.startsWith(`${parameter.name}[`) || !key.endsWith(']')) continue;
        const property = key.slice(parameter.name.length + 1, -1);
        object[property] = coerceScalar(item, value.properties[property] ?? 'string');
        found = true;
      }
      return found ? object : undefined;
    }
    raw = input.query.get(parameter.name) ?? undefined;
  } else if (parameter.in === 'path') {
    raw = input.pathParams[parameter.name];
  } else {
    raw = input.headers(parameter.name);
  }
  if (raw === undefined) return undefined;
  if (parameter.json) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return invalidJson;
    }
  }
  if (value.kind === 'array') {
    const items = raw === '' ? [] : raw.split(delimiters[parameter.style] ?? ',');
    return items.map((item) => coerceScalar(parameter.in === 'header' ? item.trim() : item, value.items));
  }
  return value.kind === 'object' ? raw : coerceScalar(raw, value.kind);
}

const invalidJson = Symbol('invalid JSON');

function validateRequest(parameters: readonly CompiledParameter[], body: CompiledBody | undefined, input: RequestInput): FieldError[] {
  const errors: FieldError[] = [];
  for (const parameter of parameters) {
    const location = `${parameter.in}.${parameter.name}`;
    const value = readParameter(parameter, input);
    if (value === undefined) {
      if (parameter.required) errors.push({ location, message: 'is required' });
    } else if (value === invalidJson) {
      errors.push({ location, message: 'must be valid JSON' });
    } else if (parameter.validate !== undefined) {
      errors.push(...faultsOf(parameter.validate, value, location));
    }
  }

  if (input.body === undefined) {
    if (body?.required === true) errors.push({ location: 'body', message: 'is required' });
  } else if (body === undefined || body.media.length === 0) {
    errors.push({ location: 'body', message: 'must be empty: the operation takes no request body' });
  } else {
    const media = findMedia(body.media, input.contentType);
    if (media === undefined) {
      const expected = `expected ${body.media.map((m) => m.range).join(' or ')}`;
      errors.push({ location: 'header.content-type', message: input.contentType === undefined ? `is required with a body: ${expected}` : `${mediaTypeOf(input.contentType)} is not accepted: ${expected}` });
    } else if (media.validate !== undefined && isJsonMediaType(mediaTypeOf(input.contentType ?? ''))) {
      errors.push(...faultsOf(media.validate, input.body, 'body'));
    }
  }
  return errors;
}

function validateResponse(responses: ReadonlyMap<string, CompiledMedia[]>, status: number, contentType: string | undefined, body: unknown): FieldError[] {
  if (status < 200 || status > 299) return [];
  const media = responses.get(String(status)) ?? responses.get('2XX') ?? responses.get('default');
  if (media === undefined) return [{ location: 'response', message: `status ${status} is not declared for this operation` }];
  if (media.length === 0) return body === undefined ? [] : [{ location: 'response', message: `must be empty: no content is declared for status ${status}` }];
  const expected = media.map((m) => m.range).join(' or ');
  if (body === undefined) return [{ location: 'response', message: `must have a body: ${expected} is declared for status ${status}` }];
  const found = findMedia(media, contentType);
  if (found === undefined) {
    return [{ location: 'response', message: `content type ${contentType === undefined ? '(none)' : mediaTypeOf(contentType)} is not declared for status ${status}: expected ${expected}` }];
  }
  if (found.validate === undefined || !isJsonMediaType(mediaTypeOf(contentType ?? ''))) return [];
  return faultsOf(found.validate, body, 'response');
}

function mediaTypeOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

function isJsonMediaType(mediaType: string): boolean {
  const type = mediaTypeOf(mediaType);
  return type === 'application/json' || type.endsWith('+json');
}

/** The declared media range that covers a content type: exact first, then `type/*`, then `*\/*`. */
function findMedia(media: readonly CompiledMedia[], contentType: string | undefined): CompiledMedia | undefined {
  if (contentType === undefined) return undefined;
  const type = mediaTypeOf(contentType);
  const wildcard = `${type.split('/')[0] ?? ''}/*`;
  return media.find((m) => m.range === type) ?? media.find((m) => m.range === wildcard) ?? media.find((m) => m.range === '*/*');
}

// ---------------------------------------------------------------------------------------------------------------
// Validation and Ajv errors → field errors

/**
 * Values (objects, arrays and scalars, counted together) up to which every fault of an invalid value is listed. Beyond,
 * only the first fault is named: listing them all would cost several error objects per item of a hostile list. At the
 * budget, explaining takes about 15 ms (`{"items":[{},…]}` with 998 items: about 4,000 Ajv errors).
 */
export const explainBudget = 1_000;

/** The value's faults: none when valid, all of them for a value within explainBudget, else the first one. */
function faultsOf(validator: SchemaValidator, value: unknown, location: string): FieldError[] {
  if (validator.check(value)) return [];
  if (countValues(value, explainBudget + 1) <= explainBudget) {
    const explain = validator.explain();
    explain(value);
    return toFieldErrors(explain.errors, location);
  }
  return [
    ...toFieldErrors(validator.check.errors, location),
    { location, message: `not checked further: it holds more than ${explainBudget} values, so only its first fault is named` },
  ];
}

/** How many values the JSON value holds, counting stops at `limit` (so the cost is bounded by the limit). */
function countValues(value: unknown, limit: number): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && count < limit) {
    const current = pending.pop();
    count++;
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length && pending.length + count < limit; i++) pending.push(current[i]);
    } else if (typeof current === 'object' && current !== null) {
      for (const key in current) {
        if (pending.length + count >= limit) break;
        pending.push((current as JsonObject)[key]);
      }
    }
  }
  return count + pending.length;
}

/** Summaries that only repeat the errors of their branches ("must match a schema in anyOf", "must match "then" schema"). */
const summaryKeywords = new Set(['if', 'anyOf', 'oneOf']);

/** Linear in the errors (plus a sort): no error is compared with every other. */
function toFieldErrors(errors: ErrorObject[] | null | undefined, prefix: string): FieldError[] {
  const list = errors ?? [];
  const result: FieldError[] = [];
  const seen = new Set<string>();
  // Branches of anyOf/oneOf each report their own type ("must be object", "must be null"): one message per location.
  const typesAt = new Map<string, string[]>();
  for (const error of list) {
    if (error.keyword !== 'type') continue;
    const types = typesAt.get(error.instancePath);
    if (types === undefined) typesAt.set(error.instancePath, typeNames(error));
    else types.push(...typeNames(error));
  }
  // Where the non-summary errors are (and those of them that are not about the type), sorted: "is there one at or
  // under this path" is then a binary search for the first path not before it.
  const detailed = new SortedPaths(list.filter((e) => !summaryKeywords.has(e.keyword)).map((e) => e.instancePath));
  const detailedNotType = new SortedPaths(list.filter((e) => !summaryKeywords.has(e.keyword) && e.keyword !== 'type').map((e) => e.instancePath));
  for (const error of list) {
    if (summaryKeywords.has(error.keyword) && detailed.hasUnder(error.instancePath)) continue;
    // A value that fails inside an object branch is plainly not null: "must be null" would only distract.
    if (error.keyword === 'type' && typeNames(error).join() === 'null' && detailedNotType.hasUnder(error.instancePath)) continue;
    const described = describe(error, prefix);
    const message = error.keyword === 'type' ? `must be ${[...new Set(typesAt.get(error.instancePath))].join(' or ')}` : described.message;
    const key = `${described.location}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ location: described.location, message });
  }
  return result;
}

/** Instance paths, sorted, asked whether one starts with a given path (itself or anything under it). */
class SortedPaths {
  private readonly paths: string[];
  constructor(paths: string[]) {
    this.paths = paths.sort();
  }

  hasUnder(path: string): boolean {
    let low = 0;
    let high = this.paths.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.paths[middle] ?? '') < path) low = middle + 1;
      else high = middle;
    }
    // Every string that starts with `path` sorts at or after it, and before any that does not but comes after it.
    return low < this.paths.length && (this.paths[low] ?? '').startsWith(path);
  }
}

function typeNames(error: ErrorObject): string[] {
  const type = (error.params as { type?: unknown }).type;
  return Array.isArray(type) ? type.map(String) : String(type).split(',');
}

function describe(error: ErrorObject, prefix: string): FieldError {
  const location =
    prefix +
    error.instancePath
      .split('/')
      .slice(1)
      .map((part) => `.${part.replaceAll('~1', '/').replaceAll('~0', '~')}`)
      .join('');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
    case 'dependentRequired':
      return { location: `${location}.${String(params.missingProperty)}`, message: 'is required' };
    case 'additionalProperties':
      return { location: `${location}.${String(params.additionalProperty)}`, message: 'is not allowed' };
    case 'unevaluatedProperties':
      return { location: `${location}.${String(params.unevaluatedProperty)}`, message: 'is not allowed' };
    case 'type':
      return { location, message: `must be ${typeNames(error).join(' or ')}` };
    case 'enum':
      return { location, message: `must be one of ${(Array.isArray(params.allowedValues) ? params.allowedValues : []).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { location, message: `must be ${JSON.stringify(params.allowedValue)}` };
    default:
      return { location, message: error.message ?? 'is invalid' };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Path matching

/** literal: the segment as written; pattern: literal text around parameters (`{name}.json`); param: the whole segment. */
type Segment = { kind: 'literal'; text: string } | { kind: 'pattern'; regex: RegExp; names: string[] } | { kind: 'param'; name: string };

interface Route {
  operation: CompiledOperation;
  segments: Segment[];
  /** Per segment, 0 literal, 1 pattern, 2 param: the lowest vector is the most specific template. */
  ranks: number[];
}

function compileRoute(operation: CompiledOperation): Route {
  const segments = operation.pathTemplate.split('/').map((text): Segment => {
    const whole = /^\{([^{}]+)\}$/.exec(text);
    if (whole?.[1] !== undefined) return { kind: 'param', name: whole[1] };
    if (!text.includes('{')) return { kind: 'literal', text };
    const names: string[] = [];
    const source = text
      .split(/(\{[^{}]+\})/)
      .map((part) => {
        if (part.startsWith('{') && part.endsWith('}')) {
          names.push(part.slice(1, -1));
          return '(.+?)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    return { kind: 'pattern', regex: new RegExp(`^${source}$`), names };
  });
  return { operation, segments, ranks: segments.map((s) => (s.kind === 'literal' ? 0 : s.kind === 'pattern' ? 1 : 2)) };
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split('/').map((segment) => (segment.includes('%') ? decodeURIComponent(segment) : segment));
  } catch {
    return undefined; // malformed percent-encoding: no operation can match
  }
}

function matchRoute(route: Route, segments: readonly string[]): Record<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const template = route.segments[i];
    const actual = segments[i] ?? '';
    if (template === undefined) return undefined;
    if (template.kind === 'literal') {
      if (template.text !== actual) return undefined;
    } else if (template.kind === 'param') {
      if (actual === '') return undefined; // path parameters are required, so an empty segment cannot fill one
      params[template.name] = actual;
    } else {
      const found = template.regex.exec(actual);
      if (found === null) return undefined;
      template.names.forEach((name, j) => (params[name] = found[j + 1] ?? ''));
    }
  }
  return params;
}
