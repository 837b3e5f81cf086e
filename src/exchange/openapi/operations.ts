// One operation compiled: its parameters, request body and responses, and the checks of a request and of an answer.
import type { DocumentContext, SchemaValidator } from './document.ts';
import { faultsOf } from './errors.ts';
import { invalidJson, readParameter, valueKind, type CompiledParameter } from './parameters.ts';
import { isObject, OpenApiDocumentError, type CompiledOperation, type FieldError, type JsonObject, type RequestInput, type ServiceOperation } from './types.ts';

/** Header parameters that OpenAPI says to ignore: they are described elsewhere in the document. */
const ignoredHeaders = new Set(['accept', 'content-type', 'authorization']);

interface CompiledMedia {
  /** Lower-case media range as declared: `application/json`, `application/*`, `*\/*`. */
  range: string;
  validate: SchemaValidator | undefined;
}

interface CompiledBody {
  required: boolean;
  media: CompiledMedia[];
}

export function compileOperation(context: DocumentContext, identity: ServiceOperation, pathItem: JsonObject, operation: JsonObject, where: string): CompiledOperation {
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
