// One OpenAPI document read and set up for validation: parsed, its local $refs followed, its Ajv instances (one per
// document) and the validators compiled once per schema.
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { componentsId, convertSchema } from './convert.ts';
import { isObject, OpenApiDocumentError, type JsonObject } from './types.ts';

export function parseDocument(text: string): JsonObject {
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
export interface SchemaValidator {
  check: ValidateFunction;
  explain(): ValidateFunction;
}

/** Everything that compiling one document shares: the document (for $refs), its dialect, its Ajv instances and validator cache. */
export class DocumentContext {
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

  /** The schema in the validator's dialect (convert.ts). */
  convertSchema(schema: unknown, where: string, inlining: readonly string[]): unknown {
    return convertSchema(this, schema, where, inlining);
  }
}
