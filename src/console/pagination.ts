// Keyset pagination for every console list: a page is "the next n after this key", never OFFSET, so that page 1,000
// costs what page 1 costs. The cursor is the last row's key, opaque to the browser (base64url JSON), checked on read.
import { ConsoleInputError } from './errors.ts';

export const defaultPageSize = 50;

export interface Page<T> {
  rows: T[];
  /** The cursor of the next page, absent on the last one. */
  next?: string;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * Reads a cursor back into its key, each part checked by its pattern (the key goes into SQL as parameters); a cursor
 * that is not one the console gave is a 400 naming the field.
 */
export function decodeCursor(cursor: string | undefined, patterns: readonly RegExp[]): string[] | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let key: unknown;
  try {
    key = cursor.length <= 2000 ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== patterns.length || !key.every((part, i) => (typeof part === 'string' || typeof part === 'number') && (patterns[i]?.test(String(part)) ?? false))) {
    throw new ConsoleInputError('cursor', "ce curseur de pagination n'est pas l'un de ceux que la console a donnés");
  }
  return key.map(String);
}

/** Asks SQL for one row more than the page: its presence says whether there is a next page. */
export function toPage<T>(rows: T[], size: number, keyOf: (row: T) => readonly (string | number)[]): Page<T> {
  if (rows.length <= size) return { rows };
  const shown = rows.slice(0, size);
  const last = shown[shown.length - 1];
  return last === undefined ? { rows: shown } : { rows: shown, next: encodeCursor(keyOf(last)) };
}
