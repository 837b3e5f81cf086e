// A JSON object handed over as text and parsed only if someone looks inside it (ProviderResponse.json).

/**
 * The object that JSON.parse(text) gives, parsed the first time anything reads a key, lists the keys or asks whether
 * one exists; read-only. For an in-process adapter whose answer embeds objects it holds as JSON text (a golden record's
 * attributes as PostgreSQL printed them): the hub validates every answer against its OpenAPI, where such an object is
 * open (`type: object`, `additionalProperties: true`), and only a convention's field list or response subjects read
 * inside it. A batch of 1,000 records then skips 1,000 parses when nothing reads them: 3 to 5 ms of the hub's CPU per
 * batch (docs/decisions.md §14).
 *
 * `text` must be a JSON object (not an array or a scalar): `typeof` and `Array.isArray` answer for an object without
 * parsing it.
 */
export function lazyJsonObject(text: string): Record<string, unknown> {
  return new Proxy<Record<string, unknown>>({ [source]: text } as unknown as Record<string, unknown>, lazyHandler);
}

// One handler for every lazy object (a batch makes a thousand): the text, and once parsed the object, live on the
// proxy's target under symbols that the traps never show (every trap answers from the parsed object).
const source = Symbol('lazy JSON text');
const parsedValue = Symbol('lazy JSON value');
type LazyTarget = { [source]: string; [parsedValue]?: Record<string, unknown> };

function inside(target: object): Record<string, unknown> {
  const t = target as LazyTarget;
  return (t[parsedValue] ??= JSON.parse(t[source]) as Record<string, unknown>);
}

function readOnly(): never {
  throw new TypeError('a lazily parsed JSON object is read-only');
}

const lazyHandler: ProxyHandler<Record<string, unknown>> = {
  get: (target, key) => Reflect.get(inside(target), key),
  has: (target, key) => Reflect.has(inside(target), key),
  ownKeys: (target) => Reflect.ownKeys(inside(target)),
  getOwnPropertyDescriptor: (target, key) => Reflect.getOwnPropertyDescriptor(inside(target), key),
  set: readOnly,
  defineProperty: readOnly,
  deleteProperty: readOnly,
};
