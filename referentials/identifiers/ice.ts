// ICE (Identifiant Commun de l'Entreprise): 15 digits, 9 for the company, 4 for the establishment, 2 control digits
// chosen so that the whole 15-digit number is divisible by 97 (ISO 7064 Mod 97-10). The README rates the checksum
// "verified: reject on failure" (checked on real ICEs, python-stdnum issue 226), so a bad key is refused.

import { accept, type IdentifierResult, refuse } from './result.ts';
import { asciiDigits, describeNonString, showChar, stripInvisible, stripSpaces } from './text.ts';

export interface Ice {
  /** The 15 digits, spaces removed: the key to store and compare. */
  value: string;
  /** Digits 1–9: the company. */
  company: string;
  /** Digits 10–13: the establishment (0000 for most head offices). */
  establishment: string;
  /** Digits 14–15: the control key. */
  controlKey: string;
}

export type IceErrorCode = 'ice.type' | 'ice.empty' | 'ice.format' | 'ice.length' | 'ice.placeholder' | 'ice.checksum';

/** The remainder modulo 97, digit by digit (a 15-digit number is near the limit of exact doubles). */
function mod97(digits: string): number {
  let remainder = 0;
  for (let i = 0; i < digits.length; i++) remainder = (remainder * 10 + (digits.charCodeAt(i) - 48)) % 97;
  return remainder;
}

/** Spaces (and invisible marks) removed, Arabic-Indic digits made ASCII; nothing else is changed. */
export function normaliseIce(input: string): string {
  return asciiDigits(stripSpaces(stripInvisible(input)));
}

/** Parses and validates an ICE: 15 digits whose value is 0 mod 97. */
export function parseIce(input: unknown): IdentifierResult<Ice, IceErrorCode> {
  if (typeof input !== 'string') {
    const hint = typeof input === 'number' ? ' (as a number it loses its leading zeros)' : '';
    return refuse('ice.type', `an ICE is a string of 15 digits, not ${describeNonString(input)}${hint}`);
  }
  const value = normaliseIce(input);
  if (value === '') return refuse('ice.empty', 'the ICE is empty');
  const bad = /[^0-9]/u.exec(value);
  if (bad) return refuse('ice.format', `an ICE has only digits; found ${showChar(bad[0])} at position ${bad.index + 1}`);
  if (value.length !== 15) {
    // Spreadsheets drop leading zeros; padding does not change the value mod 97, so the hint is only a hint.
    const hint = value.length < 15 && mod97(value) === 0 ? ` (if leading zeros were lost, ${value.padStart(15, '0')} would be valid)` : '';
    return refuse('ice.length', `an ICE is 15 digits; got ${value.length}${hint}`);
  }
  if (/^0{9}/.test(value)) return refuse('ice.placeholder', `${value} is not an ICE: its company part (first 9 digits) is all zeros`);
  if (mod97(value) !== 0) {
    return refuse('ice.checksum', `ICE ${value} fails its control key (the 15-digit number must be divisible by 97): a digit is probably mistyped`);
  }
  return accept({ value, company: value.slice(0, 9), establishment: value.slice(9, 13), controlKey: value.slice(13) });
}

export function isValidIce(input: unknown): boolean {
  return parseIce(input).ok;
}

/**
 * The two control digits that make `first13 + key` divisible by 97.
 * For generators and tests: throws RangeError when `first13` is not 13 digits (a programming error, not bad input).
 */
export function iceControlKey(first13: string): string {
  if (!/^[0-9]{13}$/.test(first13)) throw new RangeError(`an ICE without its key is 13 digits; got '${first13}'`);
  return String((97 - mod97(`${first13}00`)) % 97).padStart(2, '0');
}

/**
 * A valid ICE from a 9-digit company number and a 4-digit establishment number (0000: a head office).
 * Throws RangeError on arguments of the wrong shape (a programming error in the generator).
 */
export function makeIce(company: string, establishment = '0000'): string {
  if (!/^[0-9]{9}$/.test(company) || /^0{9}$/.test(company)) throw new RangeError(`the company part is 9 digits, not all zeros; got '${company}'`);
  if (!/^[0-9]{4}$/.test(establishment)) throw new RangeError(`the establishment part is 4 digits; got '${establishment}'`);
  const first13 = company + establishment;
  return first13 + iceControlKey(first13);
}

/**
 * A random valid ICE, for the data generator. `random` returns numbers in [0, 1) (pass a seeded one for repeatable
 * data). Company numbers are drawn below 004000000, the range real ICEs are seen in (they start 000… to 003…).
 */
export function generateIce(random: () => number = Math.random, establishment = '0000'): string {
  const company = 1 + Math.floor(random() * 3_999_999);
  return makeIce(String(company).padStart(9, '0'), establishment);
}
