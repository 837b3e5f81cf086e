// Small text helpers shared by the identifier rules: digits in any of the scripts people type them in, and the
// invisible characters that copying from right-to-left interfaces leaves behind.

/** Arabic-Indic (٠-٩, U+0660–0669) and Eastern Arabic-Indic (۰-۹, U+06F0–06F9) digits to ASCII. */
export function asciiDigits(text: string): string {
  return text.replace(/[\u0660-\u0669\u06F0-\u06F9]/g, (d) => {
    const code = d.charCodeAt(0);
    return String(code >= 0x06f0 ? code - 0x06f0 : code - 0x0660);
  });
}

/** Bidirectional marks and embeddings, zero-width characters, the Arabic letter mark and the BOM. */
const invisible = /[\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\u061C\uFEFF]/g;

export function stripInvisible(text: string): string {
  return text.replace(invisible, '');
}

/** Removes every whitespace character (including no-break spaces). */
export function stripSpaces(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Drops leading zeros of a digit string, keeping one zero for zero itself. */
export function withoutLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=[0-9])/, '');
}

/** How a value that should have been a string is described in a message. */
export function describeNonString(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Quotes one character for a message, naming invisible or confusable ones by code point. */
export function showChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code < 0x21 || (code >= 0x7f && code < 0xa1) ? hex : `'${char}' (${hex})`;
}
