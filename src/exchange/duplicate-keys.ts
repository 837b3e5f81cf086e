// Duplicate object keys in a JSON body. JSON.parse keeps the last value, while a provider reading the same bytes may
// keep the first: the hub would have validated one request and forwarded another. One pass over the text, a set of
// keys per open object: linear in the body's size.

const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const comma = 0x2c;

interface ObjectFrame {
  keys: Set<string>;
  key: string | undefined;
  expectKey: boolean;
}
interface ArrayFrame {
  keys: undefined;
  index: number;
}
type Frame = ObjectFrame | ArrayFrame;

/**
 * The location (`body.items.3.name`) of the first key repeated within one object, or undefined. `text` must be
 * valid JSON (JSON.parse accepted it): the scan relies on it.
 */
export function findDuplicateKey(text: string, root = 'body'): string | undefined {
  const stack: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === quote) {
      // The closing quote is the first one not preceded by an odd run of backslashes.
      let j = text.indexOf('"', i + 1);
      for (;;) {
        let k = j - 1;
        while (text.charCodeAt(k) === backslash) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, j);
        // Compared as decoded: "a" and "\u0061" are the same key.
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.key = key;
        if (top.keys.has(key)) return locationOf(stack, root);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (ch === openBrace) stack.push({ keys: new Set(), key: undefined, expectKey: true });
    else if (ch === openBracket) stack.push({ keys: undefined, index: 0 });
    else if (ch === closeBrace || ch === closeBracket) stack.pop();
    else if (ch === comma) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    }
    i++;
  }
  return undefined;
}

function locationOf(stack: Frame[], root: string): string {
  const parts = [root];
  for (const frame of stack) parts.push(frame.keys ? (frame.key ?? '') : String(frame.index));
  return parts.join('.');
}
