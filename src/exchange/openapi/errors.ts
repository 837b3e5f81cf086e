// Validation verdicts into the hub's field errors: Ajv's errors worded for a caller, the redundant ones dropped, and the
// cost of listing them bounded (explainBudget).
import type { ErrorObject } from 'ajv';
import type { SchemaValidator } from './document.ts';
import type { FieldError, JsonObject } from './types.ts';

/**
 * Values (objects, arrays and scalars, counted together) up to which every fault of an invalid value is listed. Beyond,
 * only the first fault is named: listing them all would cost several error objects per item of a hostile list. At the
 * budget, explaining takes about 15 ms (`{"items":[{},…]}` with 998 items: about 4,000 Ajv errors).
 */
export const explainBudget = 1_000;

/** The value's faults: none when valid, all of them for a value within explainBudget, else the first one. */
export function faultsOf(validator: SchemaValidator, value: unknown, location: string): FieldError[] {
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
