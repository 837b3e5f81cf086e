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
 * maxProblems. A recursive walk that stops descending at the depth limit (at most 1,000 levels whatever the caller
 * asks), so a value nested beyond what recursion survives is reported, not thrown. It allocates nothing but the
 * faults: an import checks every row of a file with it (an entry and a copied path a node cost a bulk import 6 % of
 * everything it allocated).
 */
export function jsonFaults(value: unknown, options: { maxDepth?: number } = {}): StorableProblem[] {
  const maxDepth = Math.min(options.maxDepth ?? maxJsonDepth, 1000);
  const problems: StorableProblem[] = [];
  // The path to the node being visited: pushed and popped around each child, copied only into a fault.
  const path: Array<string | number> = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      const fault = textFault(v);
      if (fault) problems.push({ path: [...path], message: fault });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (path.length >= maxDepth) {
      problems.push({ path: [...path], message: `is nested more than ${maxDepth} levels deep` });
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && problems.length < maxProblems; i++) {
        path.push(i);
        visit(v[i]);
        path.pop();
      }
      return;
    }
    for (const key in v) {
      if (problems.length >= maxProblems) return;
      if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
      const fault = textFault(key);
      if (fault) {
        problems.push({ path: [...path, printable(key)], message: `its name ${fault}` });
        continue;
      }
      path.push(key);
      visit((v as Record<string, unknown>)[key]);
      path.pop();
    }
  };
  visit(value);
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
