// Path, query and header parameters: their string values read by style and explode, and coerced to their schema's
// type before validation.
import type { DocumentContext, SchemaValidator } from './document.ts';
import { isObject, type JsonObject, type RequestInput } from './types.ts';

export type ScalarKind = 'integer' | 'number' | 'boolean' | 'string';
export type ValueKind = { kind: ScalarKind } | { kind: 'array'; items: ScalarKind } | { kind: 'object'; properties: Record<string, ScalarKind> };

export interface CompiledParameter {
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

/** What to coerce a parameter's string value to, read from its schema (following refs and compositions). */
export function valueKind(context: DocumentContext, schema: unknown): ValueKind {
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
export function readParameter(parameter: CompiledParameter, input: RequestInput): unknown {
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

export const invalidJson = Symbol('invalid JSON');
