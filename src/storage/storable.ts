// What PostgreSQL can hold, checked at the boundaries before a value reaches SQL, so that bad input is the caller's
// 4xx naming its field rather than the database's error: text without U+0000 (neither text nor jsonb can carry it)
// and without a lone surrogate (not Unicode: the driver would store U+FFFD, jsonb refuses its escape), JSON values of
// a bounded depth (serialising deeper ones overflows the stack), positions that a JS number holds exactly (inside
// bigint's 2^63-1) and instants within the years 0001 to 9999 (timestamptz holds more; ISO 8601 and the driver less).

/** One fault: where (a path inside the value checked) and what. */
export interface StorableProblem {
  path: Array<string | number>;
  message: string;
}

/** Containers nested deeper than this are refused: no referential or admin value comes near it. */
export const maxJsonDepth = 32;
/** A walk stops after this many faults: enough to fix a value, bounded whatever its size. */
const maxProblems = 20;

const nul = /\u0000/;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Why this text cannot be stored, or undefined when it can. */
export function textFault(text: string): string | undefined {
  if (nul.test(text)) return 'contains U+0000 (NUL), which cannot be stored';
  if (loneSurrogate.test(text)) return 'contains a lone surrogate (U+D800 to U+DFFF alone is not Unicode text)';
  return undefined;
}

/** The text with what cannot be stored replaced by U+FFFD: for naming a bad key in a message that is itself stored. */
export function printable(text: string): string {
  return text.replace(unstorable, '\ufffd');
}

/**
 * The faults of a JSON value (strings and object keys at any depth, and its depth), in document order, at most
 * maxProblems. The walk keeps its own stack, so a value nested beyond what recursion survives is reported, not thrown.
 */
export function jsonFaults(value: unknown, options: { maxDepth?: number } = {}): StorableProblem[] {
  const maxDepth = options.maxDepth ?? maxJsonDepth;
  const problems: StorableProblem[] = [];
  type Entry = { value: unknown; path: Array<string | number>; keyFault?: string };
  const stack: Entry[] = [{ value, path: [] }];
  for (let next = stack.pop(); next !== undefined && problems.length < maxProblems; next = stack.pop()) {
    const { value: v, path, keyFault } = next;
    if (keyFault !== undefined) {
      problems.push({ path, message: `its name ${keyFault}` });
      continue;
    }
    if (typeof v === 'string') {
      const fault = textFault(v);
      if (fault) problems.push({ path, message: fault });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= maxDepth) {
      problems.push({ path, message: `is nested more than ${maxDepth} levels deep` });
      continue;
    }
    const children: Entry[] = [];
    if (Array.isArray(v)) {
      v.forEach((item: unknown, i) => children.push({ value: item, path: [...path, i] }));
    } else {
      for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
        const fault = textFault(key);
        children.push(fault ? { value: undefined, path: [...path, printable(key)], keyFault: fault } : { value: item, path: [...path, key] });
      }
    }
    // Reversed onto the stack, so that faults come out in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Entry);
  }
  return problems.slice(0, maxProblems);
}

/** `prefix.a.0.b`: a fault's path as the `location` of a problem's errors. */
export function locationOf(prefix: string, path: ReadonlyArray<string | number>): string {
  return [prefix, ...path.map(String)].filter((part) => part !== '').join('.');
}

/** The largest position (change feed, log seq) accepted from a caller: a JS number holds it exactly, bigint holds it. */
export const maxPosition = Number.MAX_SAFE_INTEGER;
const maxBigint = 2n ** 63n - 1n;

/** A non-negative decimal integer within maxPosition; or why not. */
export function parsePosition(text: string): { ok: true; value: number } | { ok: false; message: string } {
  if (!/^\d{1,16}$/.test(text) || Number(text) > maxPosition) return { ok: false, message: `must be an integer from 0 to ${maxPosition}` };
  return { ok: true, value: Number(text) };
}

/** Whether a decimal string is a PostgreSQL bigint that is not negative (0 to 2^63-1). */
export function isBigintText(text: string): boolean {
  return /^\d{1,19}$/.test(text) && BigInt(text) <= maxBigint;
}

/** The earliest and latest instants accepted: the years 0001 to 9999 of ISO 8601 without expansion. */
export const minInstant = new Date(Date.UTC(2000, 0, 1));
// Date.UTC reads the years 0 to 99 as 1900 to 1999: the year 1 is set apart.
minInstant.setUTCFullYear(1, 0, 1);
export const maxInstant = new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999));

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time within minInstant..maxInstant; or why not. */
export function parseInstant(text: string): { ok: true; at: Date } | { ok: false; message: string } {
  const at = new Date(text);
  if (!rfc3339.test(text) || Number.isNaN(at.getTime())) return { ok: false, message: 'is not a date-time (RFC 3339, e.g. 2025-06-01T09:00:00Z)' };
  if (!isStorableInstant(at)) return { ok: false, message: 'must lie within the years 0001 to 9999' };
  return { ok: true, at };
}

/** Whether a date lies within minInstant..maxInstant (what the driver writes and PostgreSQL reads back alike). */
export function isStorableInstant(at: Date): boolean {
  return at.getTime() >= minInstant.getTime() && at.getTime() <= maxInstant.getTime();
}
