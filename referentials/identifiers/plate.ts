// Moroccan vehicle plates, in any of their written forms, to one key and a type.
//
// What the README documents (shared/data/identifiers/README.md) and how sure it is:
// - standard (since 2000): a number of up to 5 digits, an Arabic letter, a prefecture code 1–89, written `12345-أ-6`
//   or `12345 | أ | 6`; abroad the letter is written in Latin (A B D H W T …). Format: common practice. Letter set:
//   open (أ ب د هـ و ط are the ones documented).
// - old (before 2000) `1234-56 | 7`; State `M` / `المغرب`; local authorities `ج`; diplomatic `CD` / `CMD`;
//   temporary `WW`: "accept, type them". Their exact layouts are not documented, so they are recognised by their
//   markers and checked loosely.
//
// Keys (`|`-separated, numbers without leading zeros, letters in the Latin form below):
//   standard `12345|A|6` · old `1234|56|7` · State `M|123456` · local authority `J|12345` or `J|12345|6`
//   · temporary `WW|123456` or `W18|1234` · diplomatic `CD|123|19` or `CMD|12|19`.
// The standard and old keys keep the plate's left-to-right order; the others start with their marker, so no two
// types share a key.

import { type PlatePrefecture, platePrefecture } from './prefectures.ts';
import { accept, type IdentifierResult, refuse } from './result.ts';
import { asciiDigits, describeNonString, showChar, stripInvisible, withoutLeadingZeros } from './text.ts';

export type PlateType = 'standard' | 'old' | 'state' | 'ww' | 'diplomatic';

export interface PlateLetter {
  /** The canonical Latin form used in keys: `A`, `B`, `D`, `H`, `W`, `T`, … */
  latin: string;
  /** The Arabic letter as printed: `أ`, `ب`, `د`, `هـ`, `و`, `ط`, … */
  arabic: string;
  /** One of the six letters the README documents (أ ب د هـ و ط); the others are accepted on the open-set rule. */
  documented: boolean;
}

export interface StandardPlate {
  type: 'standard';
  key: string;
  serial: number;
  letter: PlateLetter;
  prefecture: PlatePrefecture;
}

export interface OldPlate {
  type: 'old';
  key: string;
  serial: number;
  series: number;
  region: number;
}

export interface StatePlate {
  type: 'state';
  key: string;
  /** `state`: M / المغرب; `local`: a local authority's plate, marked ج (J). */
  authority: 'state' | 'local';
  serial: number;
  /** A code written after a local authority's ج, when there is one; looked up, never required to exist. */
  prefectureCode: number | null;
  prefecture: PlatePrefecture | null;
}

export interface TemporaryPlate {
  type: 'ww';
  key: string;
  /** `WW`: awaiting registration; `W18`: a trader's plate (accepted only written W18 before the number). */
  series: 'WW' | 'W18';
  serial: number;
}

export interface DiplomaticPlate {
  type: 'diplomatic';
  key: string;
  /** CD: diplomatic corps; CMD: head of mission. */
  category: 'CD' | 'CMD';
  serial: number;
  /** The number after the hyphen (the mission's country), when written. */
  mission: number | null;
}

export type Plate = StandardPlate | OldPlate | StatePlate | TemporaryPlate | DiplomaticPlate;

export type PlateErrorCode =
  | 'plate.type'
  | 'plate.empty'
  | 'plate.character'
  | 'plate.form'
  | 'plate.letter'
  | 'plate.order'
  | 'plate.serial'
  | 'plate.prefecture'
  | 'plate.number';

// Letters: the six the README documents with its Latin forms, then the rest of the alphabet so that a new series is
// accepted (the set is open). The Latin forms of the rest are this module's own choice (no source gives them): one
// letter where it is unambiguous, two letters otherwise, all distinct. ج is the local authorities' marker.
const letterTable: readonly (readonly [arabic: string, latin: string, documented: boolean])[] = [
  ['أ', 'A', true], ['ب', 'B', true], ['د', 'D', true], ['هـ', 'H', true], ['و', 'W', true], ['ط', 'T', true],
  ['ت', 'TT', false], ['ث', 'TH', false], ['ج', 'J', false], ['ح', 'HH', false], ['خ', 'KH', false], ['ذ', 'DH', false],
  ['ر', 'R', false], ['ز', 'Z', false], ['س', 'S', false], ['ش', 'SH', false], ['ص', 'SS', false], ['ض', 'DD', false],
  ['ظ', 'ZZ', false], ['ع', 'AA', false], ['غ', 'GH', false], ['ف', 'F', false], ['ق', 'Q', false], ['ك', 'K', false],
  ['ل', 'L', false], ['م', 'M', false], ['ن', 'N', false], ['ي', 'Y', false],
];

/** Folds the forms one Arabic letter is typed in to one: alif with hamza or madda, heh variants, yeh variants, keheh. */
function foldArabic(text: string): string {
  return text
    .replace(/[أإآٱا]/gu, 'ا')
    .replace(/[ةھہۀ]/gu, 'ه')
    .replace(/[ىیۍې]/gu, 'ي')
    .replace(/[کڪ]/gu, 'ك');
}

const byArabic = new Map<string, PlateLetter>();
const byLatin = new Map<string, PlateLetter>();
for (const [arabic, latin, documented] of letterTable) {
  const letter = { latin, arabic, documented };
  byArabic.set(foldArabic(arabic.replace('ـ', '')), letter);
  byLatin.set(latin, letter);
}
/** E is also seen for هـ in Latin renderings; accepted on input, written H in keys. */
const latinAliases: Readonly<Record<string, string>> = { E: 'H' };

/** The plate letter for an Arabic letter or its Latin form, whatever the script. */
export function plateLetter(text: string): PlateLetter | undefined {
  const clean = stripInvisible(text).normalize('NFKC').replace(/[\s\u0640\u064B-\u065F\u0670]/gu, '').toUpperCase();
  return byLatin.get(latinAliases[clean] ?? clean) ?? byArabic.get(foldArabic(clean));
}

const documentedLetters = letterTable.filter(([, , documented]) => documented).map(([arabic]) => arabic).join(' ');

type Token = { kind: 'digits' | 'latin' | 'arabic'; text: string };

/** NFKC (Arabic presentation forms to letters), invisible marks, tatweel and harakat out, ASCII digits, Latin capitals. */
function prepare(input: string): string {
  return asciiDigits(stripInvisible(input).normalize('NFKC'))
    .replace(/[\u0640\u064B-\u065F\u0670]/gu, '')
    .toUpperCase();
}

const tokenPattern = /([0-9]+)|([A-Z]+)|([\u0621-\u063A\u0641-\u064A\u066E-\u06D3]+)|([\s\-‐‑‒–—―|¦/\\.·_:,،]+)|(.)/gsu;

function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  for (const match of text.matchAll(tokenPattern)) {
    if (match[1]) tokens.push({ kind: 'digits', text: match[1] });
    else if (match[2]) tokens.push({ kind: 'latin', text: match[2] });
    else if (match[3]) tokens.push({ kind: 'arabic', text: foldArabic(match[3]) });
    else if (match[5]) return match[5];
  }
  return tokens;
}

const stateWord = foldArabic('المغرب');
const countryWords = new Set(['MA', 'MAROC', 'MOROCCO']);
const forms = '12345-أ-6 or 12345-A-6 (since 2000), 1234-56-7 (before 2000), 123456-M or 123456 المغرب (State), 12345 ج (local authority), WW-123456 (temporary), CD 123-19 (diplomatic)';

/** A number as written, without leading zeros; undefined when too long to be a plate number. */
function plateNumber(digits: string): number | undefined {
  const trimmed = withoutLeadingZeros(digits);
  return trimmed.length > 8 ? undefined : Number(trimmed);
}

/** Which of two digit groups around the letter is the registration number and which the prefecture code. */
function orient(first: string, last: string): { serial: string; code: string; ambiguous: boolean } {
  const couldBeCode = (digits: string) => withoutLeadingZeros(digits).length <= 2 && digits.length <= 2 && Number(digits) >= 1 && Number(digits) <= 89;
  const firstCode = couldBeCode(first);
  const lastCode = couldBeCode(last);
  // `6-أ-12345`: typed right to left, as the plate is read in Arabic.
  if (firstCode && !lastCode) return { serial: last, code: first, ambiguous: false };
  return { serial: first, code: last, ambiguous: firstCode && lastCode };
}

function checkSerial(digits: string, max: number, what: string): number | string {
  const n = plateNumber(digits);
  if (n === undefined || n > max) return `the ${what} is at most ${max}; got ${digits}`;
  if (n === 0) return `the ${what} cannot be 0`;
  return n;
}

/** Parses a plate in any written form it knows; see the module comment for the forms and keys. */
export function parsePlate(input: unknown): IdentifierResult<Plate, PlateErrorCode> {
  if (typeof input !== 'string') return refuse('plate.type', `a plate is a string such as 12345-أ-6, not ${describeNonString(input)}`);
  const tokensOrBad = tokenize(prepare(input));
  if (typeof tokensOrBad === 'string') return refuse('plate.character', `a plate has digits, one letter and separators; found ${showChar(tokensOrBad)}`);
  let tokens = tokensOrBad;
  if (tokens.length === 0) return refuse('plate.empty', 'the plate is empty');

  const latinWords = tokens.filter((t) => t.kind === 'latin').map((t) => t.text);
  const arabicWords = tokens.filter((t) => t.kind === 'arabic').map((t) => t.text);

  // Diplomatic: CD or CMD (Latin, left of the plate), هـ د (Arabic, right); MAROC / المغرب are printed on them too.
  const arabicDiplomatic = arabicWords.filter((w) => w !== stateWord).join('') === 'هد';
  if (latinWords.includes('CD') || latinWords.includes('CMD') || arabicDiplomatic) {
    const category = latinWords.includes('CMD') ? 'CMD' : 'CD';
    const stray = latinWords.find((w) => w !== 'CD' && w !== 'CMD' && !countryWords.has(w));
    if (stray) return refuse('plate.form', `a diplomatic plate has CD or CMD and its numbers; '${stray}' does not belong on it`);
    const numbers = tokens.filter((t) => t.kind === 'digits').map((t) => t.text);
    if (numbers.length < 1 || numbers.length > 2) return refuse('plate.form', `a diplomatic plate is ${category} then a number and the mission's number (CD 123-19); found ${numbers.length} numbers`);
    const serial = checkSerial(numbers[0] ?? '', 99999, 'diplomatic plate number');
    if (typeof serial === 'string') return refuse('plate.serial', serial);
    const mission = numbers[1] === undefined ? null : plateNumber(numbers[1]);
    if (mission === undefined || (mission !== null && mission > 999)) return refuse('plate.number', `the mission's number on a diplomatic plate is at most 3 digits; got ${numbers[1]}`);
    const key = mission === null ? `${category}|${serial}` : `${category}|${serial}|${mission}`;
    return accept({ type: 'diplomatic', key, category, serial, mission });
  }

  // The country code some plates carry for travel abroad (MA) is not part of the registration.
  tokens = tokens.filter((t) => !(t.kind === 'latin' && countryWords.has(t.text)));
  const numbers = tokens.filter((t) => t.kind === 'digits').map((t) => t.text);
  const words = tokens.filter((t) => t.kind !== 'digits');
  const latinJoined = words.filter((t) => t.kind === 'latin').map((t) => t.text).join('');
  const arabicJoined = words.filter((t) => t.kind === 'arabic').map((t) => t.text).join('');
  if (tokens.length === 0) return refuse('plate.form', `the plate has no registration, only a country code; expected one of ${forms}`);

  // W18 (trader's plate), only when W18 comes first: `12345 W 18` is a standard plate (letter و, Sefrou).
  const [t0, t1, t2] = tokens;
  if (tokens.length === 3 && t0?.kind === 'latin' && t0.text === 'W' && t1?.kind === 'digits' && t1.text === '18' && t2?.kind === 'digits') {
    const serial = checkSerial(t2.text, 9_999_999, 'W18 plate number');
    if (typeof serial === 'string') return refuse('plate.serial', serial);
    return accept({ type: 'ww', key: `W18|${serial}`, series: 'W18', serial });
  }

  // WW (temporary, awaiting registration), in Latin or as two waws.
  const temporary = (latinJoined === 'WW' && (arabicJoined === '' || arabicJoined === 'وو')) || (latinJoined === '' && arabicJoined === 'وو');
  if (temporary) {
    if (numbers.length !== 1) return refuse('plate.form', `a temporary plate is WW and one number (WW-123456); found ${numbers.length} numbers`);
    const serial = checkSerial(numbers[0] ?? '', 9_999_999, 'temporary plate number');
    if (typeof serial === 'string') return refuse('plate.serial', serial);
    return accept({ type: 'ww', key: `WW|${serial}`, series: 'WW', serial });
  }

  // State: digits and M / المغرب (both may be written).
  if (words.length > 0 && words.every((t) => (t.kind === 'latin' && t.text === 'M') || (t.kind === 'arabic' && t.text === stateWord)) && (numbers.length === 1 || arabicJoined !== '')) {
    if (numbers.length !== 1) return refuse('plate.form', `a State plate is one number and M / المغرب (123456-M); found ${numbers.length} numbers`);
    const serial = checkSerial(numbers[0] ?? '', 9_999_999, 'State plate number');
    if (typeof serial === 'string') return refuse('plate.serial', serial);
    return accept({ type: 'state', key: `M|${serial}`, authority: 'state', serial, prefectureCode: null, prefecture: null });
  }

  if (words.length === 0) {
    if (numbers.length === 3) return parseOld(numbers[0] ?? '', numbers[1] ?? '', numbers[2] ?? '');
    if (numbers.length === 2) return refuse('plate.letter', `the plate has no letter: since 2000 a letter sits between the number and the prefecture code (12345-أ-6 or 12345-A-6)`);
    return refuse('plate.form', `'${input.trim()}' is not a plate form this hub knows; expected one of ${forms}`);
  }
  if (words.length > 1 || numbers.length > 2) return refuse('plate.form', `'${input.trim()}' is not a plate form this hub knows; expected one of ${forms}`);

  const word = words[0] as Token;
  const letter = plateLetter(word.text);
  if (!letter) {
    const what = word.kind === 'arabic' && word.text.length > 1 ? `'${word.text}' is several letters` : `'${word.text}' is not a plate letter`;
    return refuse('plate.letter', `${what}; a plate has one letter (${documentedLetters} …, or in Latin A B D H W T …)`);
  }

  // Local authority: ج / J, with one number, or with a number and a code like a standard plate.
  if (letter.latin === 'J' && numbers.length === 1) {
    const serial = checkSerial(numbers[0] ?? '', 9_999_999, 'local authority plate number');
    if (typeof serial === 'string') return refuse('plate.serial', serial);
    return accept({ type: 'state', key: `J|${serial}`, authority: 'local', serial, prefectureCode: null, prefecture: null });
  }
  if (numbers.length !== 2) return refuse('plate.form', `a plate since 2000 is a number, a letter and a prefecture code (12345-أ-6); found ${numbers.length} number${numbers.length === 1 ? '' : 's'}`);
  if (tokens[1]?.kind === 'digits') return refuse('plate.order', `the letter sits between the number and the prefecture code (12345-${letter.arabic}-6), not at an end`);

  const { serial: serialDigits, code: codeDigits, ambiguous } = orient(numbers[0] ?? '', numbers[numbers.length - 1] ?? '');
  const warnings: string[] = [];
  const serial = checkSerial(serialDigits, 99999, 'registration number');
  if (typeof serial === 'string') return refuse('plate.serial', `${serial} (up to 5 digits)`);
  const code = plateNumber(codeDigits) ?? -1;
  if (ambiguous && serialDigits !== codeDigits) {
    warnings.push(`both numbers could be the prefecture code; read as number ${serial} and prefecture ${code} (the order 12345-${letter.arabic}-6)`);
  }

  if (letter.latin === 'J') {
    const prefecture = platePrefecture(code) ?? null;
    if (!prefecture) warnings.push(`${code} is not a known plate prefecture code; kept as written`);
    return accept({ type: 'state', key: `J|${serial}|${code}`, authority: 'local', serial, prefectureCode: code, prefecture }, warnings);
  }

  const prefecture = platePrefecture(code);
  if (!prefecture) return refuse('plate.prefecture', `${codeDigits} is not a plate prefecture code (1 to 89)`);
  if (prefecture.confidence === 'unverified') warnings.push(`prefecture code ${code} is in the plate range but no source names it`);
  if (!letter.documented) warnings.push(`the letter ${letter.arabic} (${letter.latin}) is not among those documented (${documentedLetters}); accepted, as new series use new letters`);
  return accept({ type: 'standard', key: `${serial}|${letter.latin}|${code}`, serial, letter, prefecture }, warnings);
}

/** Before 2000: `1234-56 | 7` (number, series, region); typed right to left it reads `7 | 56-1234`. */
function parseOld(first: string, middle: string, last: string): IdentifierResult<Plate, PlateErrorCode> {
  const reversed = withoutLeadingZeros(first).length <= 2 && withoutLeadingZeros(last).length >= 3;
  const [serialDigits, regionDigits] = reversed ? [last, first] : [first, last];
  const serial = checkSerial(serialDigits, 99999, 'number of a plate from before 2000');
  if (typeof serial === 'string') return refuse('plate.serial', serial);
  const series = plateNumber(middle);
  const region = plateNumber(regionDigits);
  if (series === undefined || series > 99) return refuse('plate.number', `the series of a plate from before 2000 (1234-56-7) is 1 or 2 digits; got ${middle}`);
  if (region === undefined || region > 99 || region === 0) return refuse('plate.number', `the region of a plate from before 2000 (1234-56-7) is 1 or 2 digits, not 0; got ${regionDigits}`);
  return accept({ type: 'old', key: `${serial}|${series}|${region}`, serial, series, region });
}

export function isValidPlate(input: unknown): boolean {
  return parsePlate(input).ok;
}

/** Writes a plate back out, with its letter in Arabic (as on the plate) or in Latin (as abroad). */
export function formatPlate(plate: Plate, script: 'arabic' | 'latin' = 'arabic'): string {
  switch (plate.type) {
    case 'standard':
      return `${plate.serial}-${script === 'arabic' ? plate.letter.arabic : plate.letter.latin}-${plate.prefecture.code}`;
    case 'old':
      return `${plate.serial}-${plate.series}|${plate.region}`;
    case 'state': {
      if (plate.authority === 'state') return `${plate.serial}-${script === 'arabic' ? 'المغرب' : 'M'}`;
      const marker = script === 'arabic' ? 'ج' : 'J';
      return plate.prefectureCode === null ? `${plate.serial}-${marker}` : `${plate.serial}-${marker}-${plate.prefectureCode}`;
    }
    case 'ww':
      return `${plate.series}-${plate.serial}`;
    case 'diplomatic': {
      const marker = script === 'arabic' && plate.category === 'CD' ? 'هـ د' : plate.category;
      return plate.mission === null ? `${marker} ${plate.serial}` : `${marker} ${plate.serial}-${plate.mission}`;
    }
  }
}
