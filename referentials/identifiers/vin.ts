// VIN (ISO 3779): 17 characters from [A-HJ-NPR-Z0-9] (no I, O or Q). Position 9 is a check digit only under the
// North-American rule (49 CFR 565): transliterate letters, weigh 8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2, sum mod 11,
// 10 written X. Many European and Asian VINs put something else there, so a mismatch is a warning, never a refusal.

import { accept, type IdentifierResult, refuse } from './result.ts';
import { describeNonString, showChar, stripInvisible } from './text.ts';

export interface Vin {
  /** 17 characters, upper case, spaces and dashes removed. */
  value: string;
  /** World manufacturer identifier (positions 1–3). */
  wmi: string;
  /** Vehicle descriptor section (positions 4–9). */
  vds: string;
  /** Vehicle identifier section (positions 10–17). */
  vis: string;
  /** Whether position 9 matches the North-American check digit. */
  checkDigitValid: boolean;
}

export type VinErrorCode = 'vin.type' | 'vin.empty' | 'vin.format' | 'vin.letter' | 'vin.length';

const weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** ISO 3779 transliteration: A–H 1–8, J–N 1–5, P 7, R 9, S–Z 2–9; digits are themselves. */
const letterValues: Readonly<Record<string, number>> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};

function charValue(char: string): number {
  return /[0-9]/.test(char) ? Number(char) : (letterValues[char] ?? 0);
}

/** The North-American check digit of a 17-character VIN ('0'–'9' or 'X'); position 9 itself weighs 0. */
export function vinCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += charValue(vin[i] ?? '0') * (weights[i] ?? 0);
  const remainder = sum % 11;
  return remainder === 10 ? 'X' : String(remainder);
}

/** Upper case; spaces and dashes removed. */
export function normaliseVin(input: string): string {
  return stripInvisible(input).normalize('NFKC').replace(/[\s\-‐‑‒–—]+/gu, '').toUpperCase();
}

export function parseVin(input: unknown): IdentifierResult<Vin, VinErrorCode> {
  if (typeof input !== 'string') return refuse('vin.type', `a VIN is a string of 17 characters, not ${describeNonString(input)}`);
  const value = normaliseVin(input);
  if (value === '') return refuse('vin.empty', 'the VIN is empty');
  const bad = /[^A-Z0-9]/u.exec(value);
  if (bad) return refuse('vin.format', `a VIN has only Latin capitals and digits; found ${showChar(bad[0])} at position ${bad.index + 1}`);
  const ioq = /[IOQ]/.exec(value);
  if (ioq) {
    const instead = ioq[0] === 'I' ? '1' : '0';
    return refuse('vin.letter', `a VIN never contains I, O or Q; found ${ioq[0]} at position ${ioq.index + 1} (perhaps ${instead})`);
  }
  if (value.length !== 17) return refuse('vin.length', `a VIN is 17 characters; got ${value.length}`);
  const expected = vinCheckDigit(value);
  const actual = value[8] ?? '';
  const checkDigitValid = actual === expected;
  const warnings = checkDigitValid
    ? []
    : [`check digit (position 9) is '${actual}' where the North-American rule gives '${expected}'; VINs from outside North America often do not use it, so this is not an error on its own`];
  return accept({ value, wmi: value.slice(0, 3), vds: value.slice(3, 9), vis: value.slice(9), checkDigitValid }, warnings);
}

export function isValidVin(input: unknown): boolean {
  return parseVin(input).ok;
}
