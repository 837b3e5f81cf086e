// RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes that convention signatures cover.

/** A value that JSON can represent exactly (I-JSON, RFC 7493): what JCS accepts. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

// In a /u regex, a well-formed surrogate pair is one code point, so \p{Cs} only matches a lone surrogate.
// JCS requires I-JSON, which forbids them (they cannot be encoded as UTF-8).
const loneSurrogate = /\p{Cs}/u;

function serialiseString(value: string, path: string): string {
  if (loneSurrogate.test(value)) throw new CanonicalJsonError(`${path}: string contains a lone surrogate (not valid Unicode)`);
  // JSON.stringify escapes exactly as RFC 8785 §3.2.2.2 says: \b \t \n \f \r \" \\, other controls as \u00xx (lower case), the rest literal.
  return JSON.stringify(value);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `omitUndefined`: an object member whose value is undefined is left out (as JSON.stringify and jsonb do) instead of refused. */
export interface CanonicalOptions {
  readonly omitUndefined?: boolean;
}

function serialise(value: unknown, path: string, seen: Set<object>, options: CanonicalOptions): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path}: ${String(value)} is not a JSON number`);
      // ECMAScript Number→String is exactly RFC 8785 §3.2.2.3 (shortest round-trip form); String(-0) is "0".
      return String(value);
    case 'string':
      return serialiseString(value, path);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`${path}: a ${typeof value} is not a JSON value`);
  }
  const object = value as object;
  if (seen.has(object)) throw new CanonicalJsonError(`${path}: circular reference`);
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const items: string[] = [];
      for (let i = 0; i < object.length; i++) {
        // A hole or undefined would silently become null (JSON.stringify) or vanish: refuse instead.
        if (!(i in object) || object[i] === undefined) throw new CanonicalJsonError(`${path}.${i}: undefined is not a JSON value`);
        items.push(serialise(object[i], `${path}.${i}`, seen, options));
      }
      return `[${items.join(',')}]`;
    }
    // Dates, Maps, Buffers…: their JSON form depends on toJSON conventions that another language would not share.
    if (!isPlainObject(object)) throw new CanonicalJsonError(`${path}: a ${object.constructor?.name ?? 'non-plain'} object is not a JSON value`);
    const record = object as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    const members: string[] = [];
    for (const key of keys) {
      const member = record[key];
      if (member === undefined && options.omitUndefined === true) continue;
      if (member === undefined) throw new CanonicalJsonError(`${path}.${key}: undefined is not a JSON value`);
      members.push(`${serialiseString(key, `${path} (key ${JSON.stringify(key)})`)}:${serialise(member, `${path}.${key}`, seen, options)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    seen.delete(object);
  }
}

/** The RFC 8785 canonical form of a JSON value, as a string; throws CanonicalJsonError (naming the path) on anything not JSON. */
export function canonicalize(value: unknown, options: CanonicalOptions = {}): string {
  return serialise(value, '$', new Set(), options);
}

/** The RFC 8785 canonical form as UTF-8 bytes: what gets signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}
