// CIN / CNIE (carte nationale d'identité électronique) number: 1–2 Latin letters for the issuing office, then digits
// (`AB123456`, `K45678`). The README: no public checksum, "shape only; normalise to upper case, no spaces". So this
// checks the shape loosely and never refuses on a guess. (The CNIE's MRZ has ICAO 9303 check digits, but over the
// whole MRZ line, not over the number on its own: nothing to check here.)
//
// Leading zeros: the README says nothing. The card number is kept as written (`value`), and `key` drops the zeros
// in front of the digits (`A012345` and `A12345` give `A12345`), on the reasoning that an office numbers its cards
// in sequence and a padded number is the same number; that reasoning is not confirmed by a source.

import { accept, type IdentifierResult, refuse } from './result.ts';
import { asciiDigits, describeNonString, showChar, stripInvisible, withoutLeadingZeros } from './text.ts';

export interface Cin {
  /** Upper case, without spaces, dashes, dots or slashes, digits as written: `AB012345`. */
  value: string;
  /** The issuing-office letters: `AB`. */
  letters: string;
  /** The digits as written: `012345`. */
  digits: string;
  /** Letters + digits without leading zeros: `AB12345`. The key to compare and match on. */
  key: string;
}

export type CinErrorCode = 'cin.type' | 'cin.empty' | 'cin.format' | 'cin.letters' | 'cin.digits';

/** Longest digit run accepted. Cards seen carry 5 or 6 digits; the bound is deliberately loose. */
const maxDigits = 8;

/** Upper case, Arabic-Indic digits made ASCII, spaces, dashes, dots and slashes removed. */
export function normaliseCin(input: string): string {
  return asciiDigits(stripInvisible(input).normalize('NFKC'))
    .replace(/[\s\-‐‑‒–—./]+/gu, '')
    .toUpperCase();
}

export function parseCin(input: unknown): IdentifierResult<Cin, CinErrorCode> {
  if (typeof input !== 'string') return refuse('cin.type', `a CIN is a string such as AB123456, not ${describeNonString(input)}`);
  const value = normaliseCin(input);
  if (value === '') return refuse('cin.empty', 'the CIN is empty');
  const bad = /[^A-Z0-9]/u.exec(value);
  if (bad) return refuse('cin.format', `a CIN has only Latin letters and digits; found ${showChar(bad[0])}`);
  const match = /^([A-Z]*)([0-9]*)$/.exec(value);
  if (!match) return refuse('cin.format', `a CIN is 1 or 2 letters then digits (AB123456); '${value}' mixes them in another order`);
  const letters = match[1] ?? '';
  const digits = match[2] ?? '';
  if (letters.length === 0) return refuse('cin.letters', `a CIN starts with 1 or 2 letters (the issuing office); '${value}' has none`);
  if (letters.length > 2) return refuse('cin.letters', `a CIN starts with 1 or 2 letters (the issuing office); '${value}' has ${letters.length}`);
  if (digits.length === 0) return refuse('cin.digits', `a CIN has digits after its letters; '${value}' has none`);
  if (digits.length > maxDigits) return refuse('cin.digits', `a CIN has at most ${maxDigits} digits; '${value}' has ${digits.length}`);
  if (/^0+$/.test(digits)) return refuse('cin.digits', `'${value}' is not a card number: its digits are all zeros`);
  return accept({ value, letters, digits, key: letters + withoutLeadingZeros(digits) });
}

export function isValidCin(input: unknown): boolean {
  return parseCin(input).ok;
}
