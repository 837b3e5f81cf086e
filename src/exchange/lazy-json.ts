// A JSON object handed over as text and parsed only if someone looks inside it (ProviderResponse.json).

/**
 * The object that JSON.parse(text) gives, parsed the first time anything reads a key, lists the keys or asks whether
 * one exists; read-only. For an in-process adapter whose answer embeds objects it holds as JSON text (a golden record's
 * attributes as PostgreSQL printed them): the hub validates every answer against its OpenAPI, where such an object is
 * open (`type: object`, `additionalProperties: true`), and only a convention's field list or response subjects read
 * inside it. A batch of 1,000 records then skips 1,000 parses when nothing reads them: about 5 ms of the hub's CPU per
 * batch (docs/decisions.md §14).
 *
 * `text` must be a JSON object (not an array or a scalar): `typeof` and `Array.isArray` answer for an object without
 * parsing it.
 */
export function lazyJsonObject(text: string): Record<string, unknown> {
  let parsed: Record<string, unknown> | undefined;
  const inside = (): Record<string, unknown> => (parsed ??= JSON.parse(text) as Record<string, unknown>);
  const readOnly = (): never => {
    throw new TypeError('a lazily parsed JSON object is read-only');
  };
  return new Proxy<Record<string, unknown>>(
    {},
    {
      get: (_target, key) => Reflect.get(inside(), key),
      has: (_target, key) => Reflect.has(inside(), key),
      ownKeys: () => Reflect.ownKeys(inside()),
      getOwnPropertyDescriptor: (_target, key) => Reflect.getOwnPropertyDescriptor(inside(), key),
      set: readOnly,
      defineProperty: readOnly,
      deleteProperty: readOnly,
    },
  );
}
