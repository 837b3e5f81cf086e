// How much a JSON body may hold, decided on its text before JSON.parse builds it. A 1 MiB body of `{},{},...` is
// 349,000 objects: JSON.parse alone holds the event loop for 100 to 250 ms building them (measured on the CI machine),
// and every request of every caller waits meanwhile. No operation of the hub or of its contracts needs a fraction of
// that (a resolve of 1,000 items is about 5,000 values), so a body over the budget is refused before it is parsed.
import type { ProblemFieldError } from './problem.ts';

export const jsonBudget = {
  /** Objects, arrays and the values inside them (counted as opening brackets and separators). */
  maxValues: 50_000,
  /** Nested objects and arrays. */
  maxDepth: 64,
} as const;

const quote = 0x22;
const backslash = 0x5c;

/**
 * One pass over the text, strings skipped: the first budget the body exceeds, as a field error on `body`, or
 * undefined. It does not check that the text is JSON (JSON.parse does that next); on text that is not, its count
 * is only approximate, which is enough to bound the parse that follows.
 */
export function exceedsJsonBudget(text: string, budget: { maxValues: number; maxDepth: number } = jsonBudget): ProblemFieldError | undefined {
  let values = 0;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === quote) {
      // Skip the string: its end is the first quote not escaped by an odd run of backslashes.
      for (i++; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c === backslash) i++;
        else if (c === quote) break;
      }
      continue;
    }
    if (ch === 0x7b || ch === 0x5b) {
      values++;
      if (++depth > budget.maxDepth) return { location: 'body', message: `nested more than ${budget.maxDepth} levels deep` };
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    } else if (ch === 0x2c) {
      values++;
    } else {
      continue;
    }
    if (values > budget.maxValues) return { location: 'body', message: `holds more than ${budget.maxValues} JSON values` };
  }
  return undefined;
}

/** The body as UTF-8 text, or undefined when its bytes are not UTF-8 (a lossy decode would store U+FFFD instead). */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
