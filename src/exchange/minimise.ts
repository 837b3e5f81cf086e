// Data minimisation: cuts a provider's JSON answer down to the fields a convention allows (dot paths, arrays applied per element).

/** A field path compiled into a tree: `true` keeps the value whole, a subtree keeps only the named descendants. */
type FieldTree = Map<string, FieldTree | true>;

export type Minimiser = (body: unknown) => unknown;

const identity: Minimiser = (body) => body;
const cache = new WeakMap<readonly string[], Minimiser>();

/**
 * Keeps only the allowed fields of a JSON body, as a new value (the input is never mutated and shares nothing with the
 * result, so what the hub signs and logs cannot change behind its back). Without `fields`, the body is returned as is.
 */
export function minimise(body: unknown, fields: readonly string[] | undefined): unknown {
  if (fields === undefined) return body;
  let minimiser = cache.get(fields);
  if (minimiser === undefined) {
    minimiser = compileMinimiser(fields);
    cache.set(fields, minimiser);
  }
  return minimiser(body);
}

/**
 * Precompiles the fields into a tree, once per convention operation, so that each answer costs one walk.
 * - `a.b` keeps `b` inside `a`; `a` is kept as an object holding only what is allowed.
 * - a path crossing an array applies to every element; a top-level array body applies the paths to each element.
 * - a field naming an object or array keeps it whole.
 * - a scalar where the paths expect an object or array is dropped (it is not an allowed field), except null, which
 *   says only that the parent is empty; a scalar body has no fields, so it becomes null.
 */
export function compileMinimiser(fields: readonly string[] | undefined): Minimiser {
  if (fields === undefined) return identity;
  const tree: FieldTree = new Map();
  for (const field of fields) {
    const parts = field.split('.');
    let node = tree;
    for (const [i, part] of parts.entries()) {
      const existing = node.get(part);
      if (existing === true) break; // an ancestor (or the field itself) is already kept whole
      if (i === parts.length - 1) {
        node.set(part, true); // kept whole, even if narrower paths below it were listed first
        break;
      }
      const child: FieldTree = existing ?? new Map();
      node.set(part, child);
      node = child;
    }
  }
  return (body) => prune(body, tree) ?? null;
}

/** The pruned copy of a value, or undefined when nothing of it may be kept. */
function prune(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) {
    const kept: unknown[] = [];
    for (const element of value) {
      const pruned = prune(element, tree);
      if (pruned !== undefined) kept.push(pruned);
    }
    return kept;
  }
  if (value === null) return null;
  if (typeof value !== 'object') return undefined;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // Walks the body's own keys, not the tree's, so the provider's key order is kept.
  for (const key of Object.keys(source)) {
    const rule = tree.get(key);
    if (rule === undefined) continue;
    const kept = rule === true ? copy(source[key]) : prune(source[key], rule);
    if (kept !== undefined) define(out, key, kept);
  }
  return out;
}

/** A deep copy of a JSON value. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) define(out, key, copy(item));
  return out;
}

/** Sets an own property even for `__proto__`, which JSON.parse yields as data but plain assignment treats as the prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
