// The company identifiers other than the ICE. The README rates all three "shape only": no public checksum, so
// only the shape it states is checked, and nothing is refused on a guess.
// - IF (identifiant fiscal): 7 or 8 digits.
// - RC (registre de commerce): a number within one court's register; the key is (court, number).
// - CNSS employer number (numéro d'affiliation): 7 digits, as on the CNSS forms.

import { findRcCourt, type RcCourt, courtSlug } from './rc-courts.ts';
import { accept, type IdentifierResult, refuse } from './result.ts';
import { asciiDigits, describeNonString, showChar, stripInvisible, withoutLeadingZeros } from './text.ts';

export type CompanyIdErrorCode =
  | 'if.type' | 'if.empty' | 'if.format' | 'if.length'
  | 'cnss.type' | 'cnss.empty' | 'cnss.format' | 'cnss.length'
  | 'rc.type' | 'rc.empty' | 'rc.number' | 'rc.court';

/** Spaces, dots and dashes out; Arabic-Indic digits made ASCII; an optional label in front (`IF:`, `N°`). */
function digitsOf(input: string, labels: RegExp): string {
  return asciiDigits(stripInvisible(input).normalize('NFKC'))
    .trim()
    .replace(labels, '')
    .replace(/[\s.\-‐‑‒–—]+/gu, '');
}

function digitRule<P extends string>(prefix: P, what: string, example: string, lengths: readonly number[], labels: RegExp) {
  const shape = lengths.length === 1 ? `${lengths[0]} digits` : `${lengths.slice(0, -1).join(', ')} or ${lengths[lengths.length - 1]} digits`;
  return (input: unknown): IdentifierResult<string, `${P}.type` | `${P}.empty` | `${P}.format` | `${P}.length`> => {
    if (typeof input !== 'string') {
      const hint = typeof input === 'number' ? ' (as a number it would lose leading zeros)' : '';
      return refuse(`${prefix}.type`, `${what} is a string of ${shape} such as ${example}, not ${describeNonString(input)}${hint}`);
    }
    const value = digitsOf(input, labels);
    if (value === '') return refuse(`${prefix}.empty`, `the ${what.replace(/^an? /, '')} is empty`);
    const bad = /[^0-9]/u.exec(value);
    if (bad) return refuse(`${prefix}.format`, `${what} has only digits; found ${showChar(bad[0])}`);
    if (!lengths.includes(value.length)) return refuse(`${prefix}.length`, `${what} is ${shape}; got ${value.length}`);
    if (/^0+$/.test(value)) return refuse(`${prefix}.format`, `${value} is not ${what}: all its digits are zeros`);
    return accept(value);
  };
}

/**
 * IF (identifiant fiscal): 7 or 8 digits, kept as written (leading zeros are not added or removed: whether a
 * 7-digit IF and the same digits padded to 8 are one number is not documented).
 */
export const parseIf = digitRule('if', 'an IF (identifiant fiscal)', '1234567', [7, 8], /^(IF|I\.F\.?)\s*(N°|NO|:)?\s*:?\s*/iu);

/** CNSS employer number: 7 digits. */
export const parseCnss = digitRule('cnss', 'a CNSS number', '1234567', [7], /^(CNSS)\s*(N°|NO|:)?\s*:?\s*/iu);

export interface Rc {
  /** The number as written, digits only. */
  number: string;
  /** The court, when it is in this module's list (rc-courts.ts); null otherwise. */
  court: RcCourt | null;
  /** The court id: the listed court's id, or the slug of the court as written when it is not listed. */
  courtId: string;
  /** `casablanca|12345`: court id and number without leading zeros. The RC identifies a company only with its court. */
  key: string;
}

export interface RcOptions {
  /** Refuse a court missing from the list instead of warning. Off by default: the first-instance list is unverified. */
  strictCourt?: boolean;
}

/** Longest RC number accepted (Casablanca's register is in the hundreds of thousands); a loose bound. */
const maxRcDigits = 8;

/** An RC: its number and the court that keeps the register. Codes `rc.number` and `rc.court` say which part is wrong. */
export function parseRc(number: unknown, court: unknown, options: RcOptions = {}): IdentifierResult<Rc, CompanyIdErrorCode> {
  if (typeof number !== 'string' && typeof number !== 'number') return refuse('rc.type', `an RC number is a string of digits such as 12345, not ${describeNonString(number)}`);
  if (typeof court !== 'string') return refuse('rc.court', `an RC needs the court that keeps it (such as Casablanca), not ${describeNonString(court)}`);
  const digits = digitsOf(String(number), /^(RC|R\.C\.?)\s*(N°|NO|:)?\s*:?\s*/iu);
  if (digits === '') return refuse('rc.empty', 'the RC number is empty');
  const bad = /[^0-9]/u.exec(digits);
  if (bad) return refuse('rc.number', `an RC number has only digits; found ${showChar(bad[0])}`);
  if (digits.length > maxRcDigits) return refuse('rc.number', `an RC number has at most ${maxRcDigits} digits; got ${digits.length}`);
  if (/^0+$/.test(digits)) return refuse('rc.number', 'an RC number cannot be 0');
  const slug = courtSlug(court);
  if (slug === '') return refuse('rc.court', 'an RC needs the court that keeps it (such as Casablanca); the court is empty');
  const found = findRcCourt(court) ?? null;
  const warnings: string[] = [];
  if (!found) {
    const message = `'${court.trim()}' is not in the list of courts that keep a commercial register (the 8 tribunaux de commerce and the tribunaux de première instance)`;
    if (options.strictCourt) return refuse('rc.court', message);
    warnings.push(`${message}; kept as written`);
  }
  const courtId = found?.id ?? slug;
  return accept({ number: digits, court: found, courtId, key: `${courtId}|${withoutLeadingZeros(digits)}` }, warnings);
}
