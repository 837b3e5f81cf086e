// OpenAPI schemas into JSON Schema for Ajv: 3.0's dialect (nullable, boolean exclusive bounds) into draft-07, 3.1's
// as is into 2020-12; refs to component schemas pointed into the components resource, other local refs inlined.
import { isObject, OpenApiDocumentError, type JsonObject } from './types.ts';

/** Where component schemas live inside each service's Ajv instance; `#/components/schemas/X` refs are rewritten to it. */
export const componentsId = 'urn:tabadol:openapi:components';
/** OpenAPI-only keywords (annotations) that JSON Schema validators do not know. */
const openApiAnnotations = new Set(['example', 'xml', 'externalDocs', 'discriminator', 'nullable', 'deprecated']);

/** What converting needs from the document: its OpenAPI line, and its local $refs resolved. */
export interface SchemaSource {
  readonly version: '3.0' | '3.1';
  resolvePointer(ref: string, where: string): unknown;
}

/**
 * Copies a schema into the validator's dialect: JSON Schema draft-07 for 3.0 (nullable, boolean exclusive bounds),
 * 2020-12 as is for 3.1. Refs to component schemas point into the components resource (so recursive schemas work);
 * other local refs are inlined.
 */
export function convertSchema(source: SchemaSource, schema: unknown, where: string, inlining: readonly string[]): unknown {
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
      const inlined = convertSchema(source, source.resolvePointer(ref, where), where, [...inlining, ref]);
      target = isObject(inlined) ? inlined : { allOf: [inlined] };
    }
    // OpenAPI 3.0 ignores a $ref's siblings; 3.1 (JSON Schema 2020-12) applies them alongside.
    if (source.version === '3.0') return target;
  }

  const out: JsonObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === '$ref' || keyword === '$schema' || keyword.startsWith('x-') || openApiAnnotations.has(keyword)) continue;
    out[keyword] = convertKeyword(source, keyword, value, `${where}.${keyword}`, inlining);
  }
  if (target !== undefined) out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), target];
  return source.version === '3.0' ? convert30Specifics(schema, out) : out;
}

function convertKeyword(source: SchemaSource, keyword: string, value: unknown, where: string, inlining: readonly string[]): unknown {
  const sub = (schema: unknown, at: string) => convertSchema(source, schema, at, inlining);
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
